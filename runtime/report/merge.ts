/**
 * Combining reports: pure functions over immutable values.
 *
 * - `mergeReports(a, b)`: the union of two full reports (e.g. from many probes,
 *   or successive reports of one). Commutative, associative and idempotent on
 *   normalised input (what the probe emits and `validateReport` accepts):
 *   latest values: newest `ts` wins (ties broken by a total order on values);
 *   metric samples: union by timestamp, newest `maxSamplesPerMetric` kept;
 *   adjacency and parents: sorted set union; controls: newest set wins.
 * - `diffReports(base, next)` → the delta that brings `base` to `next`.
 * - `expandPatches(delta, base)` → the same delta with its patches as whole nodes;
 *   `expandOwnPatches` the same for a delta its caller owns, written into its patch records.
 * - `applyDelta(base, delta)` → the full report the delta describes.
 *
 * Outputs share unchanged sub-objects with their inputs instead of copying them;
 * nothing here mutates its arguments (but `expandOwnPatches` its delta's patch records), and
 * callers must not mutate reports either.
 */
import { ReportError } from './errors';
import {
  LIMITS,
  TOPOLOGY_NAMES,
  type CollectorError,
  type DeltaReport,
  type FullReport,
  type Latest,
  type LatestValue,
  type Metric,
  type NodeControls,
  type NodePatch,
  type ReportNode,
  type Sample,
  type Topologies,
  type Topology,
  type TopologyName,
} from './schema';

/**
 * The merge step of merge sort over two lists sorted by `key` with no key twice in one list:
 * the result is sorted, and an item whose key is in both lists is `onTie(fromA, fromB)`.
 */
function mergeByKey<T, K extends string | number>(a: readonly T[], b: readonly T[], key: (x: T) => K, onTie: (x: T, y: T) => T): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const kx = key(x);
    const ky = key(y);
    if (kx === ky) {
      out.push(onTie(x, y));
      i++;
      j++;
    } else if (kx < ky) {
      out.push(x);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** Union of two sorted, duplicate-free string lists (result sorted, duplicate-free). */
export function unionSorted(a: readonly string[], b: readonly string[]): readonly string[] {
  if (a === b || b.length === 0) return a;
  if (a.length === 0) return b;
  const out = mergeByKey(a, b, (x) => x, (x) => x);
  // An input that already holds the union is returned itself, so unchanged lists stay shared.
  return out.length === a.length ? a : out.length === b.length ? b : out;
}

const TYPE_RANK: Record<string, number> = { boolean: 0, number: 1, string: 2 };

/** A total order on latest values, so that ties on `ts` resolve the same way in any order. */
function compareValues(a: LatestValue, b: LatestValue): number {
  const ta = TYPE_RANK[typeof a]!;
  const tb = TYPE_RANK[typeof b]!;
  if (ta !== tb) return ta - tb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function newerLatest(a: Latest, b: Latest): Latest {
  if (a === b) return a;
  if (a.ts !== b.ts) return a.ts > b.ts ? a : b;
  return compareValues(a.v, b.v) >= 0 ? a : b;
}

function mergeLatest(a: Readonly<Record<string, Latest>>, b: Readonly<Record<string, Latest>>): Readonly<Record<string, Latest>> {
  if (a === b) return a;
  let out: Record<string, Latest> | null = null;
  for (const key of Object.keys(b)) {
    const vb = b[key]!;
    const va = Object.prototype.hasOwnProperty.call(a, key) ? a[key] : undefined;
    const win = va === undefined ? vb : newerLatest(va, vb);
    if (win !== va) {
      out ??= { ...a };
      out[key] = win;
    }
  }
  return out ?? a;
}

/** Union of two sample rings by timestamp (the larger value wins a tie), newest `max` kept. */
export function mergeSamples(a: readonly Sample[], b: readonly Sample[], max = LIMITS.maxSamplesPerMetric): readonly Sample[] {
  if (a === b) return a.length <= max ? a : a.slice(a.length - max);
  const out = mergeByKey(a, b, (x) => x[0], (x, y) => (x[1] >= y[1] ? x : y));
  return out.length > max ? out.slice(out.length - max) : out;
}

function mergeMetrics(a: Readonly<Record<string, Metric>>, b: Readonly<Record<string, Metric>>): Readonly<Record<string, Metric>> {
  if (a === b) return a;
  let out: Record<string, Metric> | null = null;
  for (const key of Object.keys(b)) {
    const mb = b[key]!;
    const ma = Object.prototype.hasOwnProperty.call(a, key) ? a[key] : undefined;
    const merged = ma === undefined ? mb : ma === mb ? ma : { samples: mergeSamples(ma.samples, mb.samples) };
    if (merged !== ma) {
      out ??= { ...a };
      out[key] = merged;
    }
  }
  return out ?? a;
}

function mergeParents(
  a: ReportNode['parents'],
  b: ReportNode['parents'],
): ReportNode['parents'] {
  if (a === b) return a;
  let out: Partial<Record<TopologyName, readonly string[]>> | null = null;
  for (const key of Object.keys(b) as TopologyName[]) {
    const pb = b[key]!;
    const pa = a[key];
    const merged = pa === undefined ? pb : unionSorted(pa, pb);
    if (merged !== pa) {
      out ??= { ...a };
      out[key] = merged;
    }
  }
  return out ?? a;
}

function mergeControls(a: NodeControls | undefined, b: NodeControls | undefined): NodeControls | undefined {
  if (a === undefined || a === b) return b ?? a;
  if (b === undefined) return a;
  if (a.ts !== b.ts) return a.ts > b.ts ? a : b;
  const ids = unionSorted(a.ids, b.ids);
  return ids === a.ids ? a : ids === b.ids ? b : { ts: a.ts, ids: ids as NodeControls['ids'] };
}

/** Merges two views of one node. */
export function mergeNodes(a: ReportNode, b: ReportNode): ReportNode {
  if (a === b) return a;
  const latest = mergeLatest(a.latest, b.latest);
  const metrics = mergeMetrics(a.metrics, b.metrics);
  const adjacency = unionSorted(a.adjacency, b.adjacency);
  const parents = mergeParents(a.parents, b.parents);
  const controls = mergeControls(a.controls, b.controls);
  if (latest === a.latest && metrics === a.metrics && adjacency === a.adjacency && parents === a.parents && controls === a.controls) return a;
  if (latest === b.latest && metrics === b.metrics && adjacency === b.adjacency && parents === b.parents && controls === b.controls) return b;
  const node: { -readonly [K in keyof ReportNode]: ReportNode[K] } = { latest, metrics, adjacency, parents };
  if (controls !== undefined) node.controls = controls;
  return node;
}

export function mergeTopology(a: Topology, b: Topology): Topology {
  if (a === b) return a;
  let out: Record<string, ReportNode> | null = null;
  const an = a.nodes;
  for (const id of Object.keys(b.nodes)) {
    const nb = b.nodes[id]!;
    const na = Object.prototype.hasOwnProperty.call(an, id) ? an[id] : undefined;
    const merged = na === undefined ? nb : mergeNodes(na, nb);
    if (merged !== na) {
      out ??= { ...an };
      out[id] = merged;
    }
  }
  return out ? { nodes: out } : a;
}

export function mergeTopologies(a: Topologies, b: Topologies): Topologies {
  if (a === b) return a;
  const out = {} as Record<TopologyName, Topology>;
  for (const name of TOPOLOGY_NAMES) out[name] = mergeTopology(a[name], b[name]);
  return out;
}

function errorKey(e: CollectorError): string {
  return `${e.probeId}\u0000${e.collector}`;
}

function newerError(a: CollectorError, b: CollectorError): CollectorError {
  if (a.ts !== b.ts) return a.ts > b.ts ? a : b;
  if (a.code !== b.code) return a.code > b.code ? a : b;
  if (a.message !== b.message) return a.message > b.message ? a : b;
  return a.count >= b.count ? a : b;
}

/** One error per (probe, collector): the newest. Sorted by probe, then collector. */
export function mergeErrors(a: readonly CollectorError[], b: readonly CollectorError[]): readonly CollectorError[] {
  if (a === b) return a;
  const byKey = new Map<string, CollectorError>();
  for (const e of [...a, ...b]) {
    const key = errorKey(e);
    const have = byKey.get(key);
    byKey.set(key, have === undefined ? e : newerError(have, e));
  }
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

/** The header of the newer report (by timestamp, then probe id, then seq): a total order. */
function newerHeader(a: FullReport, b: FullReport): FullReport {
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp ? a : b;
  if (a.probeId !== b.probeId) return a.probeId > b.probeId ? a : b;
  return a.seq >= b.seq ? a : b;
}

/**
 * The union of two full reports. The header (probe, host, seq, timestamp) is the
 * newer report's. Deltas are not accepted: apply them to their base first.
 */
export function mergeReports(a: FullReport, b: FullReport): FullReport {
  if (a.kind !== 'full' || b.kind !== 'full') {
    throw new ReportError('E_REPORT_KIND', 'mergeReports takes full reports; apply deltas to their base first');
  }
  if (a === b) return a;
  const head = newerHeader(a, b);
  return {
    version: head.version,
    kind: 'full',
    probeId: head.probeId,
    hostId: head.hostId,
    seq: head.seq,
    timestamp: head.timestamp,
    topologies: mergeTopologies(a.topologies, b.topologies),
    errors: mergeErrors(a.errors, b.errors),
  };
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameRecord<T>(a: Readonly<Record<string, T>>, b: Readonly<Record<string, T>>, same: (x: T, y: T) => boolean): boolean {
  if (a === b) return true;
  // for-in, not Object.keys: the app compares every changed node of every report (its metrics
  // differ each time), and two key arrays per comparison were most of what that allocated.
  let n = 0;
  for (const k in a) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || !same(a[k]!, b[k]!)) return false;
    n++;
  }
  for (const _ in b) if (--n < 0) return false;
  return n === 0;
}

const sameLatest = (x: Latest, y: Latest): boolean => x === y || (x.ts === y.ts && x.v === y.v);
const sameMetric = (x: Metric, y: Metric): boolean => {
  if (x === y) return true;
  if (x.samples.length !== y.samples.length) return false;
  for (let i = 0; i < x.samples.length; i++) {
    const s = x.samples[i]!;
    const t = y.samples[i]!;
    if (s !== t && (s[0] !== t[0] || s[1] !== t[1])) return false;
  }
  return true;
};

const sameControls = (a: NodeControls | undefined, b: NodeControls | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.ts === b.ts && sameStrings(a.ids, b.ids));

/** Structural equality of two nodes (cheap when they share sub-objects). */
export function sameNode(a: ReportNode, b: ReportNode): boolean {
  if (a === b) return true;
  if (!sameStrings(a.adjacency, b.adjacency)) return false;
  if (!sameRecord(a.latest, b.latest, sameLatest)) return false;
  if (!sameRecord(a.metrics, b.metrics, sameMetric)) return false;
  if (!sameRecord(a.parents as Record<string, readonly string[]>, b.parents as Record<string, readonly string[]>, sameStrings)) return false;
  return sameControls(a.controls, b.controls);
}

/**
 * The members of `next` that differ from `old` (the same node in the delta's base); undefined when
 * none does; null when `next` lacks a member `old` has (a patch cannot say "gone"; the node is
 * then sent whole).
 */
function patchOf(old: ReportNode, next: ReportNode): NodePatch | null | undefined {
  if (old === next) return undefined;
  if (old.controls !== undefined && next.controls === undefined) return null;
  const p: { -readonly [K in keyof ReportNode]?: ReportNode[K] } = {};
  if (!sameRecord(old.latest, next.latest, sameLatest)) p.latest = next.latest;
  if (!sameRecord(old.metrics, next.metrics, sameMetric)) p.metrics = next.metrics;
  if (!sameStrings(old.adjacency, next.adjacency)) p.adjacency = next.adjacency;
  if (!sameRecord(old.parents as Record<string, readonly string[]>, next.parents as Record<string, readonly string[]>, sameStrings)) p.parents = next.parents;
  if (!sameControls(old.controls, next.controls)) p.controls = next.controls;
  return Object.keys(p).length > 0 ? p : undefined;
}

/**
 * The delta that turns `base` into `next` (two full reports of one probe): the nodes of `next`
 * that `base` has and that differ, as patches (the members that differ); new nodes, and changed
 * ones that lost a member, whole; the ids of `base` gone from `next`. Header fields come from
 * `next`; errors are always carried whole.
 */
export function diffReports(base: FullReport, next: FullReport): DeltaReport {
  const topologies = {} as Record<TopologyName, Topology>;
  const removed: Partial<Record<TopologyName, string[]>> = {};
  const patches: Partial<Record<TopologyName, Record<string, NodePatch>>> = {};
  for (const name of TOPOLOGY_NAMES) {
    const before = base.topologies[name].nodes;
    const after = next.topologies[name].nodes;
    const changed: Record<string, ReportNode> = {};
    let patched: Record<string, NodePatch> | null = null;
    for (const id of Object.keys(after)) {
      const n = after[id]!;
      const old = Object.prototype.hasOwnProperty.call(before, id) ? before[id] : undefined;
      if (old === undefined) {
        changed[id] = n;
        continue;
      }
      // One pass over the members: which differ (a patch), none (unchanged), or one gone (whole).
      const p = patchOf(old, n);
      if (p === null) changed[id] = n;
      else if (p !== undefined) (patched ??= {})[id] = p;
    }
    const gone: string[] = [];
    for (const id of Object.keys(before)) if (!Object.prototype.hasOwnProperty.call(after, id)) gone.push(id);
    topologies[name] = { nodes: changed };
    if (gone.length > 0) removed[name] = gone.sort();
    if (patched !== null) patches[name] = patched;
  }
  return deltaReport(next, base.seq, topologies, removed, patches);
}

/**
 * A delta with `next`'s header (its errors too) on the base full report `baseSeq`, carrying what
 * changed since it: the one shape of diffReports and DeltaBase.diff. `patches` is left out when empty.
 */
export function deltaReport(
  next: FullReport,
  baseSeq: number,
  topologies: Record<TopologyName, Topology>,
  removed: Partial<Record<TopologyName, string[]>>,
  patches: Partial<Record<TopologyName, Record<string, NodePatch>>>,
): DeltaReport {
  return {
    version: next.version,
    kind: 'delta',
    probeId: next.probeId,
    hostId: next.hostId,
    seq: next.seq,
    baseSeq,
    timestamp: next.timestamp,
    topologies,
    removed,
    ...(Object.keys(patches).length > 0 ? { patches } : {}),
    errors: next.errors,
  };
}

/**
 * The node a patch makes of the base's node: the base's members, the patch's where it has them,
 * in the base node's key order (a model's fingerprint and serialisations read it).
 */
export function patchedNode(old: ReportNode, patch: NodePatch): ReportNode {
  const out: Record<string, unknown> = {};
  for (const k in old) out[k] = Object.prototype.hasOwnProperty.call(patch, k) ? patch[k as keyof ReportNode] : old[k as keyof ReportNode];
  for (const k in patch) if (!Object.prototype.hasOwnProperty.call(out, k)) out[k] = patch[k as keyof ReportNode];
  return out as unknown as ReportNode;
}

/**
 * The delta with its patches made whole nodes of `base` (its base full report), and no patches:
 * what an older reader of deltas (one node whole per change) takes. Throws E_DELTA_BASE_MISMATCH
 * when `base` is not the delta's base, E_DELTA_PATCH when a patched id is not in it.
 */
export function expandPatches(delta: DeltaReport, base: FullReport): DeltaReport {
  return expand(delta, base, false);
}

/**
 * expandPatches for a delta its caller owns (parsed for it, and not read again as it was): each
 * topology's patch record becomes its record of whole nodes, written in place, instead of a new
 * record keyed by the same ids being made. Why: a record keyed by node ids, built key by key, is
 * a chain of hidden classes and descriptor arrays of its own, the larger part of what a delta
 * cost the app to expand (about 20 KB per report at the bench's fleet). Throws as expandPatches
 * does, before writing anything. A frozen record is copied instead.
 */
export function expandOwnPatches(delta: DeltaReport, base: FullReport): DeltaReport {
  return expand(delta, base, true);
}

function expand(delta: DeltaReport, base: FullReport, own: boolean): DeltaReport {
  const patches = delta.patches;
  if (patches === undefined) return delta;
  if (base.probeId !== delta.probeId || base.seq !== delta.baseSeq) {
    throw new ReportError('E_DELTA_BASE_MISMATCH', `delta ${delta.probeId}#${delta.seq} applies to #${delta.baseSeq}, not to ${base.probeId}#${base.seq}`);
  }
  for (const name of TOPOLOGY_NAMES) {
    const patched = patches[name];
    if (patched === undefined) continue;
    const baseNodes = base.topologies[name].nodes;
    for (const id in patched) {
      if (!Object.prototype.hasOwnProperty.call(baseNodes, id)) {
        throw new ReportError('E_DELTA_PATCH', `base report #${base.seq} has no node ${id} to patch; send it whole`, `patches.${name}[${JSON.stringify(id)}]`);
      }
    }
  }
  const topologies = { ...delta.topologies } as Record<TopologyName, Topology>;
  for (const name of TOPOLOGY_NAMES) {
    const patched = patches[name];
    if (patched === undefined) continue;
    const baseNodes = base.topologies[name].nodes;
    const whole = delta.topologies[name].nodes;
    let nodes: Record<string, ReportNode>;
    if (own && !Object.isFrozen(patched) && isEmptyRecord(whole)) {
      nodes = patched as unknown as Record<string, ReportNode>;
      for (const id in patched) nodes[id] = patchedNode(baseNodes[id]!, patched[id]!);
    } else {
      // Whole nodes first, then the patched ones: the order a reader of the record sees.
      nodes = { ...whole };
      for (const id in patched) nodes[id] = patchedNode(baseNodes[id]!, patched[id]!);
    }
    topologies[name] = { nodes };
  }
  const { patches: _, ...rest } = delta;
  return { ...rest, topologies };
}

function isEmptyRecord(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/** True when a delta carries no node change and no removal. */
export function isEmptyDelta(delta: DeltaReport): boolean {
  if (delta.patches !== undefined && Object.keys(delta.patches).length > 0) return false;
  for (const name of TOPOLOGY_NAMES) {
    if (Object.keys(delta.topologies[name].nodes).length > 0) return false;
    if ((delta.removed[name]?.length ?? 0) > 0) return false;
  }
  return true;
}

/**
 * The full report a delta describes. `base` must be the delta's base (same probe,
 * `base.seq === delta.baseSeq`): keep the base full report and apply each new
 * delta to it, not to the result of the previous delta.
 */
export function applyDelta(base: FullReport, delta: DeltaReport): FullReport {
  if (base.kind !== 'full' || delta.kind !== 'delta') {
    throw new ReportError('E_REPORT_KIND', 'applyDelta takes a full report and a delta report');
  }
  if (base.probeId !== delta.probeId || base.seq !== delta.baseSeq) {
    throw new ReportError(
      'E_DELTA_BASE_MISMATCH',
      `delta ${delta.probeId}#${delta.seq} applies to #${delta.baseSeq}, not to ${base.probeId}#${base.seq}`,
    );
  }
  delta = expandPatches(delta, base);
  const topologies = {} as Record<TopologyName, Topology>;
  for (const name of TOPOLOGY_NAMES) {
    const gone = delta.removed[name] ?? [];
    const changed = delta.topologies[name].nodes;
    const changedIds = Object.keys(changed);
    if (gone.length === 0 && changedIds.length === 0) {
      topologies[name] = base.topologies[name];
      continue;
    }
    const nodes: Record<string, ReportNode> = { ...base.topologies[name].nodes };
    for (const id of gone) delete nodes[id];
    for (const id of changedIds) nodes[id] = changed[id]!;
    topologies[name] = { nodes };
  }
  return asFullReport(delta, topologies);
}

/** The full report a delta makes of its base: the delta's header with `topologies`, the base's nodes with the delta applied. */
export function asFullReport(delta: DeltaReport, topologies: Topologies): FullReport {
  return {
    version: delta.version,
    kind: 'full',
    probeId: delta.probeId,
    hostId: delta.hostId,
    seq: delta.seq,
    timestamp: delta.timestamp,
    topologies,
    errors: delta.errors,
  };
}
