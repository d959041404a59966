import t, { type Test } from 'tap';
import { performance } from 'node:perf_hooks';
import { LIMITS, processNodeId, validateReport, type FullReport, type ReportNode } from '../../runtime/report';
import { node, report } from './helpers';

const P = 'process;h1;100;5000';

function expectError(t: Test, x: unknown, code: string, path: string): void {
  const r = validateReport(x);
  if (r.ok) {
    t.fail(`accepted; expected ${code} at ${path}`);
    return;
  }
  t.equal(r.error.code, code, `code for ${path}`);
  t.equal(r.error.path, path, `path of ${r.error.message}`);
}

/** A host-sized report: `n` processes shaped like the probe's. */
export function bigReport(n: number): FullReport {
  const nodes: Record<string, ReportNode> = {};
  for (let i = 0; i < n; i++) {
    const samples = Array.from({ length: 8 }, (_, k) => [1_700_000_000_000 + k * 15_000, (i * k) % 100] as const);
    nodes[processNodeId('host-1', 1000 + i, 90000 + i)] = {
      latest: {
        pid: { ts: 1, v: 1000 + i },
        ppid: { ts: 1, v: 1 },
        name: { ts: 1, v: 'worker' },
        cmdline: { ts: 1, v: `/usr/bin/worker --id ${i} --config /etc/worker.yaml` },
        user: { ts: 1, v: 'www-data' },
        uid: { ts: 1, v: 33 },
        threads: { ts: 1, v: 4 },
        open_fds: { ts: 1, v: 12 },
      },
      metrics: { cpu_percent: { samples }, memory_rss_bytes: { samples } },
      adjacency: [processNodeId('host-1', 1000 + ((i + 1) % n), 90000 + ((i + 1) % n))].sort(),
      parents: { host: ['host;host-1'] },
    };
  }
  return report({ process: nodes }, { hostId: 'host;host-1' });
}

t.test('valid reports pass and come back as the same object', async (t) => {
  const r = report({ process: { [P]: node({ latest: { name: { ts: 1, v: 'x' } }, controls: { ts: 1, ids: ['logs', 'stop'] } }) } });
  const v = validateReport(r);
  t.ok(v.ok);
  if (v.ok) t.equal(v.value, r);
  t.ok(validateReport(JSON.parse(JSON.stringify(bigReport(50)))).ok);
});

t.test('each kind of problem is named with its path', async (t) => {
  const base = report({ process: { [P]: node() } });
  const withNode = (n: unknown): unknown => ({ ...base, topologies: { ...base.topologies, process: { nodes: { [P]: n } } } });
  expectError(t, null, 'E_REPORT_INVALID', '');
  expectError(t, [], 'E_REPORT_INVALID', '');
  expectError(t, { ...base, version: 2 }, 'E_REPORT_VERSION', 'version');
  expectError(t, { ...base, kind: 'partial' }, 'E_REPORT_INVALID', 'kind');
  expectError(t, { ...base, extra: 1 }, 'E_REPORT_INVALID', 'extra');
  expectError(t, { ...base, hostId: 'process;h;1;2' }, 'E_REPORT_INVALID', 'hostId');
  expectError(t, { ...base, seq: -1 }, 'E_REPORT_INVALID', 'seq');
  expectError(t, { ...base, timestamp: 1.5 }, 'E_REPORT_INVALID', 'timestamp');
  expectError(t, { ...base, probeId: 'has space' }, 'E_REPORT_INVALID', 'probeId');
  const { host: _host, ...missing } = base.topologies;
  void _host;
  expectError(t, { ...base, topologies: missing }, 'E_REPORT_INVALID', 'topologies.host');
  expectError(t, { ...base, topologies: { ...base.topologies, process: { nodes: { 'host;h1': node() } } } }, 'E_REPORT_INVALID', 'topologies.process.nodes["host;h1"]');
  expectError(t, withNode({ ...node(), latest: { Name: { ts: 1, v: 'x' } } }), 'E_REPORT_INVALID', `topologies.process.nodes["${P}"].latest.Name`);
  expectError(t, withNode({ ...node(), latest: { name: { ts: 1, v: { nested: 1 } } } }), 'E_REPORT_INVALID', `topologies.process.nodes["${P}"].latest.name.v`);
  expectError(t, withNode({ ...node(), latest: { n: { ts: 1, v: NaN } } }), 'E_REPORT_INVALID', `topologies.process.nodes["${P}"].latest.n.v`);
  expectError(t, withNode({ ...node(), metrics: { cpu: { samples: [[2, 1], [1, 1]] } } }), 'E_REPORT_INVALID', `topologies.process.nodes["${P}"].metrics.cpu.samples[1]`);
  expectError(t, withNode({ ...node(), adjacency: ['process;h;2;2', 'process;h;1;1'] }), 'E_REPORT_INVALID', `topologies.process.nodes["${P}"].adjacency[1]`);
  expectError(t, withNode({ ...node(), adjacency: ['bogus'] }), 'E_REPORT_INVALID', `topologies.process.nodes["${P}"].adjacency[0]`);
  expectError(t, withNode({ ...node(), parents: { container: ['pod;x'] } }), 'E_REPORT_INVALID', `topologies.process.nodes["${P}"].parents.container[0]`);
  expectError(t, withNode({ ...node(), parents: { galaxy: [] } }), 'E_REPORT_INVALID', `topologies.process.nodes["${P}"].parents.galaxy`);
  expectError(t, withNode({ ...node(), controls: { ts: 1, ids: ['explode'] } }), 'E_REPORT_INVALID', `topologies.process.nodes["${P}"].controls.ids[0]`);
  expectError(t, withNode({ ...node(), colour: 'red' }), 'E_REPORT_INVALID', `topologies.process.nodes["${P}"].colour`);
  expectError(t, withNode({ latest: {}, metrics: {}, parents: {} }), 'E_REPORT_INVALID', `topologies.process.nodes["${P}"].adjacency`);
  expectError(t, { ...base, errors: [{ probeId: 'p', collector: 'c', code: 'E', message: 'm', ts: 1 }] }, 'E_REPORT_INVALID', 'errors[0].count');
  expectError(t, { ...base, kind: 'delta', baseSeq: 0, removed: { process: ['host;x'] } }, 'E_REPORT_INVALID', 'removed.process[0]');
  expectError(t, { ...base, removed: {} }, 'E_REPORT_INVALID', 'removed');
});

t.test('limits are enforced before iterating', async (t) => {
  const base = report({ process: { [P]: node() } });
  const withNode = (n: unknown): unknown => ({ ...base, topologies: { ...base.topologies, process: { nodes: { [P]: n } } } });
  const p = `topologies.process.nodes["${P}"]`;
  expectError(t, withNode({ ...node(), latest: { cmdline: { ts: 1, v: 'x'.repeat(LIMITS.maxStringLength + 1) } } }), 'E_REPORT_LIMIT', `${p}.latest.cmdline.v`);
  expectError(t, withNode({ ...node(), metrics: { cpu: { samples: Array.from({ length: LIMITS.maxSamplesPerMetric + 1 }, (_, i) => [i, 0]) } } }), 'E_REPORT_LIMIT', `${p}.metrics.cpu.samples`);
  expectError(t, withNode({ ...node(), adjacency: new Array(LIMITS.maxAdjacencyPerNode + 1).fill('x') }), 'E_REPORT_LIMIT', `${p}.adjacency`);
  expectError(t, withNode({ ...node(), latest: Object.fromEntries(Array.from({ length: LIMITS.maxLatestPerNode + 1 }, (_, i) => [`k${i}`, { ts: 1, v: 1 }])) }), 'E_REPORT_LIMIT', `${p}.latest`);
  expectError(t, { ...base, hostId: 'host;' + 'h'.repeat(LIMITS.maxIdLength) }, 'E_REPORT_LIMIT', 'hostId');
  expectError(t, { ...base, errors: new Array(LIMITS.maxErrors + 1).fill(null) }, 'E_REPORT_LIMIT', 'errors');
  const tooMany: Record<string, ReportNode> = {};
  for (let i = 0; i <= LIMITS.maxNodes; i++) tooMany[`endpoint;;10.0.0.1;${i}`] = node();
  expectError(t, report({ endpoint: tooMany }), 'E_REPORT_LIMIT', 'topologies.endpoint.nodes');
});

t.test('hostile input is answered, never thrown', async (t) => {
  const base = report({ process: { [P]: node() } });
  const throwingGetter = { ...base };
  Object.defineProperty(throwingGetter, 'seq', { get: () => { throw new Error('boom'); }, enumerable: true });
  const proxy = new Proxy({}, { ownKeys: () => { throw new Error('trap'); }, get: () => { throw new Error('trap'); } });
  const cyclic: Record<string, unknown> = { ...base };
  cyclic.topologies = { ...base.topologies, process: { nodes: { [P]: { ...node(), latest: cyclic } } } };
  const protoKey = JSON.parse(`{"version":1,"kind":"full","probeId":"p","hostId":"host;h","seq":1,"timestamp":1,"errors":[],"topologies":${JSON.stringify(base.topologies).replace('"latest":{}', '"latest":{"__proto__":{"ts":1,"v":1}}')}}`);
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  const inputs: unknown[] = [undefined, 42, 'report', Symbol('s'), () => 1, throwingGetter, proxy, cyclic, protoKey, { ...base, topologies: deep }, { ...base, errors: { length: 1e9 } }, new Array(1e6)];
  for (const x of inputs) {
    let r;
    try {
      r = validateReport(x);
    } catch (err) {
      t.fail(`threw ${String(err)}`);
      continue;
    }
    t.notOk(r.ok, `rejected: ${r.ok ? '' : r.error.code + ' ' + r.error.message.slice(0, 60)}`);
  }
  t.equal(({} as Record<string, unknown>).ts, undefined, 'no prototype was polluted');
});

t.test('a 10,000-process report validates, every time (its time is printed, not asserted: bench/app.ts measures ingest)', async (t) => {
  const json = JSON.stringify(bigReport(10_000));
  const times: number[] = [];
  const parseTimes: number[] = [];
  for (let i = 0; i < 7; i++) {
    let s = performance.now();
    const x = JSON.parse(json);
    parseTimes.push(performance.now() - s);
    s = performance.now();
    const r = validateReport(x);
    times.push(performance.now() - s);
    t.ok(r.ok);
  }
  times.sort((a, b) => a - b);
  parseTimes.sort((a, b) => a - b);
  const median = times[3]!;
  t.comment(`validateReport, 10,000 process nodes (${(json.length / 1e6).toFixed(1)} MB JSON): median ${median.toFixed(1)} ms; JSON.parse of the same: ${parseTimes[3]!.toFixed(1)} ms`);
});

t.test('a delta\'s patches: each problem is named with its path', async (t) => {
  const full = report({ process: { [P]: node() } });
  const Q = 'process;h1;101;5001';
  const delta = (extra: Record<string, unknown>): unknown => ({ ...full, kind: 'delta', baseSeq: 0, removed: {}, ...extra });
  t.ok(validateReport(delta({ patches: { process: { [Q]: { metrics: { cpu_percent: { samples: [[5, 1]] } } } } } })).ok, 'a patch of one member passes');
  t.ok(validateReport(delta({ patches: { process: { [Q]: { latest: {}, metrics: {}, adjacency: [], parents: {}, controls: { ts: 1, ids: ['stop'] } } } } })).ok, 'and of every member');
  expectError(t, { ...full, patches: {} }, 'E_REPORT_INVALID', 'patches');
  expectError(t, delta({ patches: [] }), 'E_REPORT_INVALID', 'patches');
  expectError(t, delta({ patches: { nosuch: {} } }), 'E_REPORT_INVALID', 'patches.nosuch');
  expectError(t, delta({ patches: { process: { 'host;h1': { latest: {} } } } }), 'E_REPORT_INVALID', 'patches.process["host;h1"]');
  expectError(t, delta({ patches: { process: { [Q]: {} } } }), 'E_REPORT_INVALID', `patches.process["${Q}"]`);
  expectError(t, delta({ patches: { process: { [Q]: { colour: 1 } } } }), 'E_REPORT_INVALID', `patches.process["${Q}"].colour`);
  expectError(t, delta({ patches: { process: { [Q]: { latest: { name: { ts: 1 } } } } } }), 'E_REPORT_INVALID', `patches.process["${Q}"].latest.name`);
  expectError(t, delta({ patches: { process: { [Q]: { metrics: { cpu: { samples: [[2, 1], [1, 1]] } } } } } }), 'E_REPORT_INVALID', `patches.process["${Q}"].metrics.cpu.samples[1]`);
  expectError(t, delta({ patches: { process: { [Q]: { adjacency: ['b;x', 'a;x'] } } } }), 'E_REPORT_INVALID', `patches.process["${Q}"].adjacency[0]`);
  expectError(t, delta({ patches: { process: { [Q]: { controls: { ts: 1, ids: ['fly'] } } } } }), 'E_REPORT_INVALID', `patches.process["${Q}"].controls.ids[0]`);
  expectError(t, delta({ patches: { process: { [P]: { latest: {} } } } }), 'E_REPORT_INVALID', `patches.process["${P}"]`);
  expectError(t, delta({ removed: { process: [Q] }, patches: { process: { [Q]: { latest: {} } } } }), 'E_REPORT_INVALID', `patches.process["${Q}"]`);
  const many = Object.fromEntries(Array.from({ length: LIMITS.maxNodes }, (_, i) => [processNodeId('h1', i + 2, 1), { latest: {} }]));
  expectError(t, delta({ patches: { process: many } }), 'E_REPORT_LIMIT', 'patches.process');
});
