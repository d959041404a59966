/** Report builders for the report tests: small, deterministic, valid by construction. */
import {
  REPORT_VERSION,
  emptyTopologies,
  hostNodeId,
  processNodeId,
  endpointNodeId,
  containerNodeId,
  type ControlId,
  type FullReport,
  type ReportNode,
  type Sample,
  type TopologyName,
} from '../../runtime/report';

/** A seeded PRNG (mulberry32), so random tests replay exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function node(partial: Partial<ReportNode> = {}): ReportNode {
  return { latest: {}, metrics: {}, adjacency: [], parents: {}, ...partial };
}

export function report(nodes: Partial<Record<TopologyName, Record<string, ReportNode>>>, head: Partial<FullReport> = {}): FullReport {
  const topologies = emptyTopologies();
  for (const [t, ns] of Object.entries(nodes)) topologies[t as TopologyName] = { nodes: ns! };
  return {
    version: REPORT_VERSION,
    kind: 'full',
    probeId: 'h1/abcd',
    hostId: hostNodeId('h1'),
    seq: 1,
    timestamp: 1_000,
    topologies,
    errors: [],
    ...head,
  };
}

/** A random valid full report over a small id space, so that merges overlap. */
export function randomReport(rand: () => number, tag: string): FullReport {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const hosts = ['h1', 'h2'];
  const procIds = Array.from({ length: 6 }, (_, i) => processNodeId(pick(hosts), 100 + i, 5000 + i));
  const epIds = Array.from({ length: 4 }, (_, i) => endpointNodeId(`10.0.0.${i}`, 80 + i));
  const cIds = [containerNodeId('a'.repeat(64)), containerNodeId('b'.repeat(64))];
  const all = [...procIds, ...epIds, ...cIds];
  const sortedSubset = (xs: readonly string[], n: number): string[] => [...new Set(Array.from({ length: n }, () => pick(xs)))].sort();
  const mkNode = (): ReportNode => {
    const latest: Record<string, { ts: number; v: string | number | boolean }> = {};
    for (const k of ['name', 'pid', 'up']) if (rand() < 0.7) latest[k] = { ts: Math.floor(rand() * 4) * 10, v: k === 'name' ? pick(['a', 'b', 'c']) : k === 'pid' ? Math.floor(rand() * 3) : rand() < 0.5 };
    const samples: Sample[] = [];
    let ts = 0;
    for (let i = 0; i < Math.floor(rand() * 5); i++) {
      ts += 1 + Math.floor(rand() * 3);
      samples.push([ts, Math.floor(rand() * 100)]);
    }
    const n: ReportNode = {
      latest,
      metrics: samples.length ? { cpu_percent: { samples } } : {},
      adjacency: sortedSubset(all, Math.floor(rand() * 3)),
      parents: rand() < 0.5 ? { container: sortedSubset(cIds, 1) } : {},
    };
    return rand() < 0.3 ? { ...n, controls: { ts: Math.floor(rand() * 3), ids: pick<ControlId[]>([['pause', 'stop'], ['start'], ['logs', 'remove']]) } } : n;
  };
  const procs: Record<string, ReportNode> = {};
  for (const id of sortedSubset(procIds, 4)) procs[id] = mkNode();
  const eps: Record<string, ReportNode> = {};
  for (const id of sortedSubset(epIds, 2)) eps[id] = mkNode();
  return report(
    { process: procs, endpoint: eps },
    {
      probeId: `${tag}/p`,
      timestamp: Math.floor(rand() * 3),
      seq: Math.floor(rand() * 3),
      errors: rand() < 0.5 ? [{ probeId: pick(['x/p', 'y/p']), collector: 'processes', code: pick(['EACCES', 'E_X']), message: 'm', ts: Math.floor(rand() * 3), count: 1 }] : [],
    },
  );
}

/** Freezes a value deeply, so that any mutation by the code under test throws. */
export function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}
