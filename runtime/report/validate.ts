/**
 * `validateReport`: the gate between untrusted bytes and the typed report. The
 * app calls it on every POST, so it
 * - never throws, whatever it is given (getters that throw, proxies, cycles
 *   included): it returns `{ ok: false, error }` with a code and the path of the
 *   first problem found;
 * - enforces every limit in `LIMITS` (checked before iterating, so a huge
 *   array costs nothing), the id grammar of `ids.ts`, and the normal form that
 *   `mergeReports` relies on (adjacency and parents sorted and unique, samples in
 *   strictly increasing time);
 * - rejects unknown fields: a field this version does not know is a version
 *   mismatch, not something to pass along unchecked;
 * - builds no strings and copies nothing on the success path: on success it
 *   returns the input object itself, now typed.
 */
import { ReportError, type Checked } from './errors';
import { topologyOfId } from './ids';
import { CONTROL_IDS, LIMITS, REPORT_VERSION, TOPOLOGY_NAMES, type Report, type TopologyName } from './schema';

const ID_CHARS = /^[\x21-\x7e]+$/;
const NAME_CHARS = /^[\x21-\x7e]+$/;
const KEY_CHARS = /^[a-z][a-z0-9_.-]*$/;
const TOPOLOGY_SET: ReadonlySet<string> = new Set(TOPOLOGY_NAMES);
const CONTROL_SET: ReadonlySet<string> = new Set(CONTROL_IDS);
const FULL_KEYS: ReadonlySet<string> = new Set(['version', 'kind', 'probeId', 'hostId', 'seq', 'timestamp', 'topologies', 'errors']);
const DELTA_KEYS: ReadonlySet<string> = new Set([...FULL_KEYS, 'baseSeq', 'removed', 'patches']);
const NODE_KEYS: ReadonlySet<string> = new Set(['latest', 'metrics', 'adjacency', 'parents', 'controls']);
const ERROR_KEYS: ReadonlySet<string> = new Set(['probeId', 'collector', 'code', 'message', 'ts', 'count']);

/** Thrown inside the validator only, caught at its boundary. */
class Invalid {
  constructor(
    readonly code: 'E_REPORT_INVALID' | 'E_REPORT_LIMIT' | 'E_REPORT_VERSION',
    readonly message: string,
    readonly path: string,
  ) {}
}

type Obj = Record<string, unknown>;

function isObject(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Path segment for a key: `.key` when it reads well, `["…"]` otherwise. */
function seg(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key.length > 80 ? key.slice(0, 80) + '…' : key)}]`;
}

function invalid(path: string, message: string): never {
  throw new Invalid('E_REPORT_INVALID', message, path.startsWith('.') ? path.slice(1) : path);
}

function overLimit(path: string, message: string): never {
  throw new Invalid('E_REPORT_LIMIT', message, path.startsWith('.') ? path.slice(1) : path);
}

function object(x: unknown, path: () => string): Obj {
  if (!isObject(x)) invalid(path(), `expected an object, got ${describe(x)}`);
  return x;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x;
}

function onlyKeys(o: Obj, allowed: ReadonlySet<string>, path: () => string): string[] {
  const keys = Object.keys(o);
  for (const k of keys) if (!allowed.has(k)) invalid(path() + seg(k), 'unknown field');
  return keys;
}

function timestamp(x: unknown, path: () => string): void {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) invalid(path(), 'expected a non-negative integer (ms since epoch)');
}

function count(x: unknown, path: () => string): void {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) invalid(path(), 'expected a non-negative integer');
}

function name(x: unknown, max: number, path: () => string): void {
  if (typeof x !== 'string') invalid(path(), `expected a string, got ${describe(x)}`);
  if (x.length === 0 || x.length > max) overLimit(path(), `length ${x.length} outside 1..${max}`);
  if (!NAME_CHARS.test(x)) invalid(path(), 'expected printable ASCII without spaces');
}

/** Checks one id; returns its topology. `expected`, when given, is the topology it must name. */
function nodeId(x: unknown, expected: TopologyName | null, path: () => string): TopologyName {
  if (typeof x !== 'string') invalid(path(), `expected a node id, got ${describe(x)}`);
  if (x.length > LIMITS.maxIdLength) overLimit(path(), `id longer than ${LIMITS.maxIdLength}`);
  const topology = topologyOfId(x);
  if (topology === null || !ID_CHARS.test(x)) invalid(path(), 'not a node id (topology;part;…)');
  if (expected !== null && topology !== expected) invalid(path(), `id of topology ${topology} where ${expected} is expected`);
  return topology;
}

/** A sorted, duplicate-free list of ids, at most `max` long. */
function idList(x: unknown, expected: TopologyName | null, max: number, path: () => string): number {
  if (!Array.isArray(x)) invalid(path(), `expected an array of ids, got ${describe(x)}`);
  if (x.length > max) overLimit(path(), `${x.length} ids, limit ${max}`);
  let prev = '';
  for (let i = 0; i < x.length; i++) {
    const id = x[i];
    nodeId(id, expected, () => `${path()}[${i}]`);
    if (i > 0 && (id as string) <= prev) invalid(`${path()}[${i}]`, 'ids must be sorted and unique');
    prev = id as string;
  }
  return x.length;
}

function key(k: string, at: () => string): void {
  if (k.length > LIMITS.maxKeyLength) overLimit(at() + seg(k), `key longer than ${LIMITS.maxKeyLength}`);
  if (!KEY_CHARS.test(k)) invalid(at() + seg(k), 'keys are lowercase: [a-z][a-z0-9_.-]*');
}

/**
 * The node being checked. Paths are built from it only when a check fails, so
 * the success path allocates no strings and no closures per value.
 */
const cursor = { at: '', id: '' };
/** Where a topology's nodes and patches are, made once: the success path builds no strings. */
const NODES_AT = Object.fromEntries(TOPOLOGY_NAMES.map((n) => [n, `topologies.${n}.nodes`])) as Record<TopologyName, string>;
const PATCHES_AT = Object.fromEntries(TOPOLOGY_NAMES.map((n) => [n, `patches.${n}`])) as Record<TopologyName, string>;
const nodePath = (rest: string): string => `${cursor.at}${seg(cursor.id)}${rest}`;
const latestPath = (): string => nodePath('.latest');
const metricsPath = (): string => nodePath('.metrics');
const adjacencyPath = (): string => nodePath('.adjacency');
const parentsPath = (): string => nodePath('.parents');
const controlsPath = (): string => nodePath('.controls');
const atNode = (): string => nodePath('');

/** Number of own enumerable keys, without allocating the key array. */
function keyCount(o: Obj): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}

function latest(x: unknown): void {
  const o = object(x, latestPath);
  if (keyCount(o) > LIMITS.maxLatestPerNode) overLimit(latestPath(), `${keyCount(o)} latest values, limit ${LIMITS.maxLatestPerNode}`);
  for (const k in o) {
    key(k, latestPath);
    const e = o[k];
    if (!isObject(e) || keyCount(e) !== 2 || !('ts' in e) || !('v' in e)) invalid(nodePath(`.latest${seg(k)}`), 'expected { ts, v }');
    const ts = e.ts;
    if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) invalid(nodePath(`.latest${seg(k)}.ts`), 'expected a non-negative integer (ms since epoch)');
    const v = e.v;
    if (typeof v === 'string') {
      if (v.length > LIMITS.maxStringLength) overLimit(nodePath(`.latest${seg(k)}.v`), `string longer than ${LIMITS.maxStringLength}`);
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) invalid(nodePath(`.latest${seg(k)}.v`), 'numbers must be finite');
    } else if (typeof v !== 'boolean') {
      invalid(nodePath(`.latest${seg(k)}.v`), `expected a string, number or boolean, got ${describe(v)}`);
    }
  }
}

function metrics(x: unknown): void {
  const o = object(x, metricsPath);
  if (keyCount(o) > LIMITS.maxMetricsPerNode) overLimit(metricsPath(), `${keyCount(o)} metrics, limit ${LIMITS.maxMetricsPerNode}`);
  for (const k in o) {
    key(k, metricsPath);
    const m = o[k];
    if (!isObject(m) || keyCount(m) !== 1 || !Array.isArray(m.samples)) invalid(nodePath(`.metrics${seg(k)}`), 'expected { samples: [[ts, value], …] }');
    const samples = m.samples as unknown[];
    if (samples.length > LIMITS.maxSamplesPerMetric) overLimit(nodePath(`.metrics${seg(k)}.samples`), `${samples.length} samples, limit ${LIMITS.maxSamplesPerMetric}`);
    let prev = -1;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      if (!Array.isArray(s) || s.length !== 2) invalid(nodePath(`.metrics${seg(k)}.samples[${i}]`), 'expected [ts, value]');
      const ts = s[0] as unknown;
      const v = s[1] as unknown;
      if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) invalid(nodePath(`.metrics${seg(k)}.samples[${i}][0]`), 'expected a non-negative integer (ms since epoch)');
      if (typeof v !== 'number' || !Number.isFinite(v)) invalid(nodePath(`.metrics${seg(k)}.samples[${i}][1]`), 'expected a finite number');
      if (ts <= prev) invalid(nodePath(`.metrics${seg(k)}.samples[${i}]`), 'samples must be in strictly increasing time');
      prev = ts;
    }
  }
}

function parents(x: unknown): number {
  const o = object(x, parentsPath);
  let n = 0;
  for (const k in o) {
    if (!TOPOLOGY_SET.has(k)) invalid(nodePath(`.parents${seg(k)}`), 'not a topology');
    n += idList(o[k], k as TopologyName, LIMITS.maxParentsPerTopology, () => nodePath(`.parents${seg(k)}`));
  }
  return n;
}

function controls(x: unknown): void {
  const o = object(x, controlsPath);
  if (keyCount(o) !== 2 || !('ts' in o) || !Array.isArray(o.ids)) invalid(controlsPath(), 'expected { ts, ids }');
  timestamp(o.ts, () => controlsPath() + '.ts');
  const ids = o.ids as unknown[];
  if (ids.length > CONTROL_IDS.length) overLimit(controlsPath() + '.ids', `more than ${CONTROL_IDS.length} controls`);
  let prev = '';
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (typeof id !== 'string' || !CONTROL_SET.has(id)) invalid(`${controlsPath()}.ids[${i}]`, `not a control (${CONTROL_IDS.join(', ')})`);
    if (i > 0 && id <= prev) invalid(`${controlsPath()}.ids[${i}]`, 'controls must be sorted and unique');
    prev = id;
  }
}

interface Budget {
  nodes: number;
  edges: number;
}

/** A node's adjacency, counted into the report's edges. */
function adjacency(x: unknown, budget: Budget): void {
  budget.edges += idList(x, null, LIMITS.maxAdjacencyPerNode, adjacencyPath);
  if (budget.edges > LIMITS.maxEdges) overLimit(adjacencyPath(), `more than ${LIMITS.maxEdges} edges in the report`);
}

function node(x: unknown, budget: Budget): void {
  const o = object(x, atNode);
  for (const k in o) if (!NODE_KEYS.has(k)) invalid(nodePath(seg(k)), 'unknown field');
  latest(o.latest);
  metrics(o.metrics);
  adjacency(o.adjacency, budget);
  parents(o.parents);
  if (o.controls !== undefined) controls(o.controls);
}

function topologies(x: unknown, budget: Budget): void {
  const o = object(x, () => 'topologies');
  onlyKeys(o, TOPOLOGY_SET, () => 'topologies');
  for (const name of TOPOLOGY_NAMES) {
    const tpath = (): string => `topologies.${name}`;
    const t = object(o[name], tpath);
    onlyKeys(t, NODES_ONLY, tpath);
    const nodes = object(t.nodes, () => tpath() + '.nodes');
    const ids = Object.keys(nodes);
    budget.nodes += ids.length;
    if (budget.nodes > LIMITS.maxNodes) overLimit(tpath() + '.nodes', `more than ${LIMITS.maxNodes} nodes in the report`);
    cursor.at = NODES_AT[name];
    for (const id of ids) {
      cursor.id = id;
      nodeId(id, name, atNode);
      node(nodes[id], budget);
    }
  }
}
const NODES_ONLY: ReadonlySet<string> = new Set(['nodes']);

function errors(x: unknown): void {
  if (!Array.isArray(x)) invalid('errors', `expected an array, got ${describe(x)}`);
  if (x.length > LIMITS.maxErrors) overLimit('errors', `${x.length} errors, limit ${LIMITS.maxErrors}`);
  for (let i = 0; i < x.length; i++) {
    const at = (): string => `errors[${i}]`;
    const e = object(x[i], at);
    onlyKeys(e, ERROR_KEYS, at);
    name(e.probeId, LIMITS.maxNameLength, () => at() + '.probeId');
    name(e.collector, LIMITS.maxNameLength, () => at() + '.collector');
    name(e.code, LIMITS.maxNameLength, () => at() + '.code');
    if (typeof e.message !== 'string') invalid(at() + '.message', 'expected a string');
    if (e.message.length > LIMITS.maxErrorMessageLength) overLimit(at() + '.message', `longer than ${LIMITS.maxErrorMessageLength}`);
    timestamp(e.ts, () => at() + '.ts');
    count(e.count, () => at() + '.count');
  }
}

function removed(x: unknown): void {
  const o = object(x, () => 'removed');
  let n = 0;
  for (const k of Object.keys(o)) {
    if (!TOPOLOGY_SET.has(k)) invalid('removed' + seg(k), 'not a topology');
    n += idList(o[k], k as TopologyName, LIMITS.maxNodes, () => 'removed' + seg(k));
    if (n > LIMITS.maxNodes) overLimit('removed' + seg(k), `more than ${LIMITS.maxNodes} removals`);
  }
}

/** A node patch (schema.ts NodePatch): some of a node's members, at least one, each as in a whole node. */
function patch(x: unknown, budget: Budget): void {
  const o = object(x, atNode);
  let n = 0;
  for (const k in o) {
    if (!NODE_KEYS.has(k)) invalid(nodePath(seg(k)), 'unknown field');
    n++;
  }
  if (n === 0) invalid(atNode(), 'an empty patch (a node that did not change is left out)');
  if ('latest' in o) latest(o.latest);
  if ('metrics' in o) metrics(o.metrics);
  if ('adjacency' in o) adjacency(o.adjacency, budget);
  if ('parents' in o) parents(o.parents);
  if ('controls' in o) controls(o.controls);
}

/** A delta's patches, by topology; checked after `topologies` and `removed`: an id is in one of the three only. */
function patches(x: unknown, topologies: Obj, removed: Obj, budget: Budget): void {
  const o = object(x, () => 'patches');
  for (const k of Object.keys(o)) {
    if (!TOPOLOGY_SET.has(k)) invalid('patches' + seg(k), 'not a topology');
    const name = k as TopologyName;
    const t = object(o[k], () => 'patches' + seg(k));
    const ids = Object.keys(t);
    budget.nodes += ids.length;
    if (budget.nodes > LIMITS.maxNodes) overLimit('patches' + seg(k), `more than ${LIMITS.maxNodes} nodes in the report`);
    const whole = (topologies[name] as Obj).nodes as Obj;
    const gone = removed[name] !== undefined ? new Set(removed[name] as string[]) : null;
    cursor.at = PATCHES_AT[name];
    for (const id of ids) {
      cursor.id = id;
      nodeId(id, name, atNode);
      if (Object.prototype.hasOwnProperty.call(whole, id)) invalid(atNode(), 'the node is also sent whole in this delta');
      if (gone?.has(id)) invalid(atNode(), 'the node is also removed in this delta');
      patch(t[id], budget);
    }
  }
}

function report(x: unknown): Report {
  const o = object(x, () => '');
  if (o.version !== REPORT_VERSION) {
    throw new Invalid('E_REPORT_VERSION', `report version ${JSON.stringify(o.version)} is not ${REPORT_VERSION}`, 'version');
  }
  if (o.kind !== 'full' && o.kind !== 'delta') invalid('kind', 'expected "full" or "delta"');
  onlyKeys(o, o.kind === 'full' ? FULL_KEYS : DELTA_KEYS, () => '');
  name(o.probeId, LIMITS.maxNameLength, () => 'probeId');
  nodeId(o.hostId, 'host', () => 'hostId');
  count(o.seq, () => 'seq');
  timestamp(o.timestamp, () => 'timestamp');
  const budget: Budget = { nodes: 0, edges: 0 };
  topologies(o.topologies, budget);
  errors(o.errors);
  if (o.kind === 'delta') {
    count(o.baseSeq, () => 'baseSeq');
    if ((o.baseSeq as number) > (o.seq as number)) invalid('baseSeq', 'a delta cannot follow its own seq');
    removed(o.removed);
    if ('patches' in o) patches(o.patches, o.topologies as Obj, o.removed as Obj, budget);
  }
  return o as unknown as Report;
}

/**
 * Checks an untrusted value against the report schema and its limits. Never
 * throws. On success the value is returned as is, typed.
 */
export function validateReport(x: unknown): Checked<Report> {
  try {
    return { ok: true, value: report(x) };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, error: new ReportError(err.code, err.message, err.path) };
    // A getter, proxy trap or stack overflow in hostile input: still an answer, not a crash.
    let detail = 'unreadable value';
    try {
      detail = err instanceof Error ? `${err.name}: ${err.message}` : detail;
    } catch {
      // even the error is hostile; keep the generic text
    }
    return { ok: false, error: new ReportError('E_REPORT_INVALID', `input could not be read (${detail.slice(0, 200)})`) };
  }
}
