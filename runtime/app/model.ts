/**
 * The live model: the newest picture of every probe, merged.
 *
 * Per probe it keeps the last full report (the base deltas apply to) and the
 * current picture (the base with the newest delta applied). The merged picture
 * is kept per node, not per report: each node id maps to the probes that report
 * it and the merge of their views (`mergeNodes` of runtime/report). An ingest
 * recomputes only the nodes of that probe that differ (structurally) from its
 * previous picture, so its cost follows the size of one probe's change, not the
 * size of the fleet.
 *
 * Endpoints need no special case here: two probes that see the two ends of a
 * connection name the same endpoint id, so the merged endpoint node carries the
 * server's process as parent and the client's edge points at it; the views
 * resolve that join (see views/graph.ts).
 *
 * Liveness: a probe silent for `staleAfterIntervals` report intervals has its
 * nodes marked stale; after `removeAfterIntervals` it is removed with its nodes.
 * A probe that reports again is whole again at once: its next full report (or a
 * delta on a base the app still holds) replaces everything it had.
 *
 * Metric history is the model's: each report carries the samples taken since the probe's last
 * one, and a node's rings keep the newest `metricHistory` of them across reports (share.ts).
 * A probe that restarts (a new probe id) starts its nodes' history again.
 */
import {
  asFullReport,
  expandOwnPatches,
  LIMITS,
  mergeNodes,
  sameNode,
  TOPOLOGY_NAMES,
  type DeltaReport,
  type FullReport,
  type Report,
  type ReportNode,
  type Topology,
  type TopologyName,
} from '../report';
import { AppError } from './errors';
import { Interner, METRIC_HISTORY, NodeSharer } from './share';

export interface MergedNode {
  readonly id: string;
  readonly topology: TopologyName;
  /** The merge of every live or stale probe's view of this node. */
  node: ReportNode;
  /** Ids of the probes that report this node. */
  probes: string[];
  /** True when every probe reporting it is stale. */
  stale: boolean;
}

export type ProbeState = 'live' | 'stale';

export interface ProbeInfo {
  probeId: string;
  hostId: string;
  /** Name of the token the probe sends with (a probe id belongs to one token). */
  owner: string;
  seq: number;
  baseSeq: number;
  state: ProbeState;
  firstSeen: number;
  lastSeen: number;
  reports: number;
  nodes: number;
}

interface Probe {
  info: ProbeInfo;
  base: FullReport;
  /**
   * `base` with the newest delta on it applied. A topology the deltas touched has its own node
   * record, made once per base and then updated in place by each delta (see currentWithDelta);
   * the others share base's.
   */
  current: FullReport;
  /** Per topology, the ids where `current` differs from `base` (what the newest delta changed or removed). */
  touched: Record<TopologyName, readonly string[]>;
}

const NOTHING_TOUCHED: Record<TopologyName, readonly string[]> = Object.freeze(
  Object.fromEntries(TOPOLOGY_NAMES.map((t) => [t, Object.freeze([]) as readonly string[]])) as Record<TopologyName, readonly string[]>,
);

/** What changed in the merged picture: ids per topology (added, updated or removed). */
export interface ChangeSet {
  changed: Record<TopologyName, Set<string>>;
  /** Wall-clock ms at which the earliest report of this change arrived (for latency). */
  arrivedAt: number;
  /** `probeId#seq` of the reports behind it (bounded), so a client can time a report end to end. */
  sources: string[];
}

export interface ModelOptions {
  /** How often probes report (ms); staleness is counted in these. Default 15 s. */
  intervalMs?: number;
  staleAfterIntervals?: number;
  removeAfterIntervals?: number;
  /**
   * Samples kept per metric of a node, from the probe's successive reports (a probe sends the
   * samples it took since its last report; see share.ts). Default 8 (METRIC_HISTORY); at most the
   * report schema's bound per metric.
   */
  metricHistory?: number;
  now?: () => number;
}

export interface IngestOutcome {
  seq: number;
  /** False when the report was older than what the app holds (a retry): nothing changed. */
  applied: boolean;
  /** Nodes whose merged picture changed. */
  changedNodes: number;
}

function emptyChanges(): Record<TopologyName, Set<string>> {
  const out = {} as Record<TopologyName, Set<string>>;
  for (const t of TOPOLOGY_NAMES) out[t] = new Set();
  return out;
}

export class LiveModel {
  readonly intervalMs: number;
  readonly staleAfterMs: number;
  readonly removeAfterMs: number;
  private readonly now: () => number;
  private readonly probes = new Map<string, Probe>();
  private readonly nodes = {} as Record<TopologyName, Map<string, MergedNode>>;
  private readonly listeners: Array<(c: ChangeSet) => void> = [];
  private readonly sharer: NodeSharer;
  /** Increases with every change of the merged picture. */
  version = 0;

  constructor(opts: ModelOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 15_000;
    this.staleAfterMs = this.intervalMs * (opts.staleAfterIntervals ?? 3);
    this.removeAfterMs = this.intervalMs * (opts.removeAfterIntervals ?? 10);
    if (this.removeAfterMs <= this.staleAfterMs) throw new RangeError('removeAfterIntervals must be greater than staleAfterIntervals');
    this.now = opts.now ?? Date.now;
    const history = opts.metricHistory ?? METRIC_HISTORY;
    if (!Number.isInteger(history) || history < 1 || history > LIMITS.maxSamplesPerMetric) {
      throw new RangeError(`metricHistory must be an integer from 1 to ${LIMITS.maxSamplesPerMetric}, not ${history}`);
    }
    this.sharer = new NodeSharer(new Interner(), history);
    for (const t of TOPOLOGY_NAMES) this.nodes[t] = new Map();
  }

  onChange(listener: (c: ChangeSet) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Applies one validated report from the token `owner`. Throws an AppError
   * (and changes nothing) when the report cannot be applied: a delta whose base
   * is not held (409 DELTA_BASE_UNKNOWN), a probe id that belongs to another
   * token (403 PROBE_MISMATCH).
   */
  ingest(report: Report, owner: string, arrivedAt = this.now()): IngestOutcome {
    const probe = this.probes.get(report.probeId);
    if (probe && probe.info.owner !== owner) {
      throw new AppError(403, 'PROBE_MISMATCH', `probe ${report.probeId} reports with another token`, 'probeId');
    }
    if (probe && report.seq <= probe.info.seq) return { seq: probe.info.seq, applied: false, changedNodes: 0 };
    if (report.kind === 'delta') {
      if (!probe || probe.base.seq !== report.baseSeq) {
        throw new AppError(409, 'DELTA_BASE_UNKNOWN', `base report #${report.baseSeq} of probe ${report.probeId} is not held; send a full report`, 'baseSeq');
      }
      if (probe.base.hostId !== report.hostId) throw new AppError(400, 'BAD_REQUEST', 'a delta cannot change the host of its base', 'hostId');
      // Patched nodes made whole from the base (a ReportError, 400, for an id the base lacks);
      // they share the base's unchanged members, which sharing below then finds equal at once.
      // In the report's own records, as sharing writes them (see share).
      report = expandOwnPatches(report, probe.base);
    }
    // Share what did not change with the probe's previous picture (see share.ts): without it a
    // parsed report shares nothing with the last one, and base and current are two full copies.
    report = this.share(report, probe?.current ?? null);
    const changes = emptyChanges();
    let next: FullReport;
    let touched: Record<TopologyName, readonly string[]> = NOTHING_TOUCHED;
    if (report.kind === 'delta') {
      // Nothing can fail from here on: the probe's current picture is updated in place.
      ({ current: next, touched } = this.currentWithDelta(probe!, report, changes));
      if (probe!.info.state === 'stale') for (const t of TOPOLOGY_NAMES) for (const id in next.topologies[t].nodes) changes[t].add(id);
    } else {
      next = report;
    }

    const t = this.now();
    if (report.kind === 'full') {
      // A restarted probe has a new id: the old one's picture of the same host is superseded, not stale.
      for (const other of [...this.probes.values()]) {
        if (other.info.probeId !== report.probeId && other.info.hostId === report.hostId && other.info.owner === owner) {
          this.dropProbe(other, changes);
        }
      }
    }
    let entry = probe;
    const prev = probe?.current ?? null;
    const wasStale = probe?.info.state === 'stale';
    if (!entry) {
      entry = {
        info: { probeId: report.probeId, hostId: report.hostId, owner, seq: report.seq, baseSeq: report.seq, state: 'live', firstSeen: t, lastSeen: t, reports: 0, nodes: 0 },
        base: next,
        current: next,
        touched,
      };
      this.probes.set(report.probeId, entry);
    }
    entry.current = next;
    entry.touched = touched;
    if (report.kind === 'full') entry.base = next;
    entry.info.seq = report.seq;
    entry.info.baseSeq = entry.base.seq;
    entry.info.hostId = report.hostId;
    entry.info.state = 'live';
    entry.info.lastSeen = t;
    entry.info.reports++;
    // A delta's changes were found while it was applied (currentWithDelta).
    if (report.kind === 'full') this.diffInto(prev, next, changes, wasStale);
    entry.info.nodes = countNodes(next);
    for (const topology of TOPOLOGY_NAMES) for (const id of changes[topology]) this.remerge(topology, id, report.probeId);
    const n = this.emit(changes, arrivedAt, [`${report.probeId}#${report.seq}`]);
    return { seq: report.seq, applied: true, changedNodes: n };
  }

  /**
   * The probe's picture with `delta` (on `p.base`) applied and, per topology, the ids where it
   * differs from base (`touched`); adds to `changes` the ids where it differs from `p.current`.
   *
   * Why not a fresh copy (runtime/report applyDelta): that copied each touched topology's node
   * record per delta, and the copy lives until the probe's next report, so every copy survived
   * the young generation's collections and was copied by them (the pauses a search waits
   * behind). Here a topology gets its own record once per base, and each later delta puts back
   * base's nodes where the previous delta had changed them and writes its own: only the ids of
   * the two deltas are visited. The previous picture is not kept by anything once this returns.
   */
  private currentWithDelta(
    p: Probe,
    delta: DeltaReport,
    changes: Record<TopologyName, Set<string>>,
  ): { current: FullReport; touched: Record<TopologyName, readonly string[]> } {
    const { base, current: prev } = p;
    const topologies = {} as Record<TopologyName, Topology>;
    const touched = {} as Record<TopologyName, readonly string[]>;
    for (const t of TOPOLOGY_NAMES) {
      const gone = delta.removed[t] ?? [];
      const incoming = delta.topologies[t].nodes;
      const baseNodes = base.topologies[t].nodes;
      const prevNodes = prev.topologies[t].nodes;
      const now: string[] = [];
      for (const id of gone) now.push(id);
      for (const id in incoming) now.push(id);
      const undo = p.touched[t];
      touched[t] = now;
      if (now.length === 0 && undo.length === 0) {
        topologies[t] = base.topologies[t];
        continue;
      }
      const owned = prev.topologies[t] !== base.topologies[t];
      // With nothing of its own left, the topology is base's again (its record is dropped).
      const nodes: Record<string, ReportNode> | null = now.length === 0 ? null : owned ? (prevNodes as Record<string, ReportNode>) : { ...baseNodes };
      const set = changes[t];
      // Each id is written once (`nodes` may be `prevNodes` itself, read before each write): a
      // delta's node wins over its removal of the same id, and the previous delta's ids (`undo`)
      // that this one names are this one's.
      const write = (id: string, node: ReportNode | undefined): void => {
        const old = hasOwn(prevNodes, id) ? prevNodes[id] : undefined;
        if (node === undefined ? old !== undefined : old === undefined || !sameNode(old, node)) set.add(id);
        if (nodes === null) return;
        if (node === undefined) delete nodes[id];
        else nodes[id] = node;
      };
      const gonePerId = gone.length > 0 ? new Set(gone) : null;
      for (const id of gonePerId ?? []) if (!hasOwn(incoming, id)) write(id, undefined);
      for (const id in incoming) write(id, incoming[id]);
      for (const id of undo) if (!hasOwn(incoming, id) && gonePerId?.has(id) !== true) write(id, hasOwn(baseNodes, id) ? baseNodes[id] : undefined);
      topologies[t] = nodes === null ? base.topologies[t] : owned ? prev.topologies[t] : { nodes };
    }
    return { current: asFullReport(delta, topologies), touched };
  }

  /**
   * The report with each node rebuilt to share unchanged parts with `prev`'s picture of it. The
   * report's own node records are updated in place (see share.ts: a copy per report was kept and
   * copied by the young-generation GC); a frozen one (an in-process report) is copied.
   */
  private share<R extends Report>(report: R, prev: FullReport | null): R {
    let copied: Record<TopologyName, Topology> | null = null;
    for (const t of TOPOLOGY_NAMES) {
      const incoming = report.topologies[t].nodes;
      const before = prev?.topologies[t].nodes;
      let nodes: Record<string, ReportNode> | null = null;
      for (const id in incoming) {
        const old = before !== undefined && hasOwn(before, id) ? before[id] : undefined;
        const shared = this.sharer.node(incoming[id]!, old);
        if (shared !== incoming[id]) (nodes ??= Object.isFrozen(incoming) ? { ...incoming } : (incoming as Record<string, ReportNode>))[id] = shared;
      }
      if (nodes !== null && nodes !== incoming) (copied ??= { ...report.topologies })[t] = { nodes };
    }
    return copied === null ? report : { ...report, topologies: copied };
  }

  /** Marks probes silent for too long stale, and removes those silent for longer. Call periodically. */
  sweep(): void {
    const t = this.now();
    const changes = emptyChanges();
    for (const p of [...this.probes.values()]) {
      const silent = t - p.info.lastSeen;
      if (silent >= this.removeAfterMs) {
        this.dropProbe(p, changes);
      } else if (silent >= this.staleAfterMs && p.info.state === 'live') {
        p.info.state = 'stale';
        this.diffInto(null, p.current, changes, false);
      }
    }
    for (const topology of TOPOLOGY_NAMES) for (const id of changes[topology]) this.remerge(topology, id);
    this.emit(changes, t, []);
  }

  /** Removes a probe and its nodes at once (e.g. an operator's request, or a superseding probe). */
  removeProbe(probeId: string): boolean {
    const p = this.probes.get(probeId);
    if (!p) return false;
    const changes = emptyChanges();
    this.dropProbe(p, changes);
    for (const topology of TOPOLOGY_NAMES) for (const id of changes[topology]) this.remerge(topology, id);
    this.emit(changes, this.now(), []);
    return true;
  }

  private dropProbe(p: Probe, changes: Record<TopologyName, Set<string>>): void {
    this.probes.delete(p.info.probeId);
    this.diffInto(p.current, null, changes, false);
  }

  /** Adds to `changes` the ids that differ between two pictures of one probe. */
  private diffInto(prev: FullReport | null, next: FullReport | null, changes: Record<TopologyName, Set<string>>, all: boolean): void {
    for (const topology of TOPOLOGY_NAMES) {
      const before = prev?.topologies[topology].nodes ?? {};
      const after = next?.topologies[topology].nodes ?? {};
      const set = changes[topology];
      if (prev === null || next === null || all) {
        for (const id in before) set.add(id);
        for (const id in after) set.add(id);
        continue;
      }
      if (before === after) continue;
      for (const id in after) {
        const old = before[id];
        if (old === undefined || !sameNode(old, after[id]!)) set.add(id);
      }
      for (const id in before) if (after[id] === undefined) set.add(id);
    }
  }

  /**
   * Recomputes the merged node `id` from the probes that report it now: those
   * that did before, plus `source`, the probe whose report named it (the only
   * one that can have started reporting it).
   */
  private remerge(topology: TopologyName, id: string, source?: string): void {
    const map = this.nodes[topology];
    const old = map.get(id);
    let node: ReportNode | null = null;
    const probes: string[] = [];
    let stale = true;
    // The probes that reported it, then `source` if it is not one of them (no Set per id: this
    // runs for every changed node of every report).
    const before = old?.probes ?? [];
    const n = before.length;
    const extra = source !== undefined && !before.includes(source) ? 1 : 0;
    for (let i = 0; i < n + extra; i++) {
      const probeId = i < n ? before[i]! : source!;
      const p = this.probes.get(probeId);
      const pn = p && hasOwn(p.current.topologies[topology].nodes, id) ? p.current.topologies[topology].nodes[id]! : undefined;
      if (!p || pn === undefined) continue;
      probes.push(probeId);
      node = node === null ? pn : mergeNodes(node, pn);
      if (p.info.state === 'live') stale = false;
    }
    if (node === null) {
      map.delete(id);
      return;
    }
    if (old) {
      old.node = node;
      // Most remerges keep the same probes: the old list stays (the new one dies young instead of
      // being promoted and replaced again at the next report).
      if (!sameList(old.probes, probes)) old.probes = probes;
      old.stale = stale;
    } else {
      map.set(id, { id, topology, node, probes, stale });
    }
  }

  private emit(changes: Record<TopologyName, Set<string>>, arrivedAt: number, sources: string[]): number {
    let n = 0;
    for (const t of TOPOLOGY_NAMES) n += changes[t].size;
    if (n === 0) return 0;
    this.version++;
    const set: ChangeSet = { changed: changes, arrivedAt, sources };
    for (const l of this.listeners) l(set);
    return n;
  }

  // ---- reads ----

  get(topology: TopologyName, id: string): MergedNode | undefined {
    return this.nodes[topology].get(id);
  }

  /** The merged nodes of one topology (a live view: do not mutate). */
  topology(topology: TopologyName): ReadonlyMap<string, MergedNode> {
    return this.nodes[topology];
  }

  probeList(): ProbeInfo[] {
    return [...this.probes.values()].map((p) => ({ ...p.info }));
  }

  probe(probeId: string): ProbeInfo | undefined {
    const p = this.probes.get(probeId);
    return p ? { ...p.info } : undefined;
  }

  /** One probe's own view of a node (e.g. to know which probe offers a control). */
  probeNode(probeId: string, topology: TopologyName, id: string): ReportNode | undefined {
    const p = this.probes.get(probeId);
    return p && hasOwn(p.current.topologies[topology].nodes, id) ? p.current.topologies[topology].nodes[id] : undefined;
  }

  /** A digest of the whole merged picture: equal digests mean nothing changed (used by tests). */
  fingerprint(): string {
    const parts: string[] = [];
    for (const t of TOPOLOGY_NAMES) {
      for (const id of [...this.nodes[t].keys()].sort()) {
        const m = this.nodes[t].get(id)!;
        parts.push(`${id}|${m.stale}|${m.probes.join(',')}|${JSON.stringify(m.node)}`);
      }
    }
    for (const p of [...this.probes.values()].sort((a, b) => (a.info.probeId < b.info.probeId ? -1 : 1))) {
      parts.push(`probe|${p.info.probeId}|${p.info.seq}|${p.info.baseSeq}|${p.info.state}`);
    }
    return parts.join('\n');
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hasOwn(o: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

function countNodes(r: FullReport): number {
  let n = 0;
  // for-in, not Object.keys: no array of every id per report.
  for (const t of TOPOLOGY_NAMES) for (const _ in r.topologies[t].nodes) n++;
  return n;
}
