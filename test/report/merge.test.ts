import t from 'tap';
import {
  applyDelta,
  diffReports,
  expandOwnPatches,
  expandPatches,
  isEmptyDelta,
  LIMITS,
  mergeNodes,
  mergeReports,
  mergeSamples,
  validateReport,
  type FullReport,
  type Sample,
} from '../../runtime/report';
import { deepFreeze, node, prng, randomReport, report } from './helpers';

const P = 'process;h1;100;5000';
const Q = 'process;h1;101;5001';

t.test('latest: the newer timestamp wins, whatever the argument order', async (t) => {
  const a = node({ latest: { name: { ts: 10, v: 'old' }, pid: { ts: 5, v: 1 } } });
  const b = node({ latest: { name: { ts: 20, v: 'new' } } });
  for (const m of [mergeNodes(a, b), mergeNodes(b, a)]) {
    t.same(m.latest, { name: { ts: 20, v: 'new' }, pid: { ts: 5, v: 1 } });
  }
});

t.test('latest: a tie on timestamp resolves the same way in both orders', async (t) => {
  const a = node({ latest: { v: { ts: 10, v: 'x' } } });
  const b = node({ latest: { v: { ts: 10, v: 'y' } } });
  const c = node({ latest: { v: { ts: 10, v: 3 } } });
  t.same(mergeNodes(a, b).latest, mergeNodes(b, a).latest);
  t.same(mergeNodes(a, c).latest, mergeNodes(c, a).latest);
});

t.test('samples: union by time, larger value on a tie, newest kept within the bound', async (t) => {
  const a: Sample[] = [[1, 10], [3, 30], [5, 50]];
  const b: Sample[] = [[2, 20], [3, 31], [6, 60]];
  t.same(mergeSamples(a, b), [[1, 10], [2, 20], [3, 31], [5, 50], [6, 60]]);
  t.same(mergeSamples(a, b, 2), [[5, 50], [6, 60]]);
  const long = Array.from({ length: LIMITS.maxSamplesPerMetric }, (_, i): Sample => [i * 2, i]);
  const other = Array.from({ length: LIMITS.maxSamplesPerMetric }, (_, i): Sample => [i * 2 + 1, i]);
  const merged = mergeSamples(long, other);
  t.equal(merged.length, LIMITS.maxSamplesPerMetric, 'bounded by the schema limit');
  t.equal(merged[merged.length - 1]![0], LIMITS.maxSamplesPerMetric * 2 - 1, 'keeps the newest');
});

t.test('adjacency, parents: sorted set union; controls: newest set wins', async (t) => {
  const a = node({ adjacency: ['endpoint;;10.0.0.1;80', Q], parents: { host: ['host;h1'] }, controls: { ts: 5, ids: ['pause', 'stop'] } });
  const b = node({ adjacency: ['endpoint;;10.0.0.2;80'], parents: { host: ['host;h1'], container: ['container;c'] }, controls: { ts: 9, ids: ['unpause'] } });
  const m = mergeNodes(a, b);
  t.same(m.adjacency, ['endpoint;;10.0.0.1;80', 'endpoint;;10.0.0.2;80', Q]);
  t.same(m.parents, { host: ['host;h1'], container: ['container;c'] });
  t.same(m.controls, { ts: 9, ids: ['unpause'] });
  t.same(mergeNodes(node({ controls: { ts: 1, ids: ['stop'] } }), node({ controls: { ts: 1, ids: ['logs'] } })).controls, { ts: 1, ids: ['logs', 'stop'] }, 'same time: union');
});

t.test('mergeReports does not mutate its inputs and keeps the newer header', async (t) => {
  const a = deepFreeze(report({ process: { [P]: node({ latest: { name: { ts: 1, v: 'a' } } }) } }, { probeId: 'h1/a', timestamp: 100, seq: 7 }));
  const b = deepFreeze(report({ process: { [Q]: node() }, host: { 'host;h2': node() } }, { probeId: 'h2/b', hostId: 'host;h2', timestamp: 200, seq: 3 }));
  const before = JSON.stringify([a, b]);
  const m = mergeReports(a, b);
  t.equal(JSON.stringify([a, b]), before);
  t.equal(m.probeId, 'h2/b');
  t.equal(m.seq, 3);
  t.same(Object.keys(m.topologies.process.nodes).sort(), [P, Q]);
  t.ok(validateReport(m).ok, 'the merge of valid reports is valid');
});

t.test('mergeReports refuses deltas', async (t) => {
  const a = report({});
  const d = diffReports(a, { ...a, seq: 2 });
  t.throws(() => mergeReports(a, d as unknown as FullReport), { code: 'E_REPORT_KIND' });
});

t.test('errors: one per probe and collector, the newest', async (t) => {
  const e = (probeId: string, ts: number, code: string) => ({ probeId, collector: 'containers', code, message: code, ts, count: 1 });
  const m = mergeReports(report({}, { errors: [e('a/1', 1, 'ECONNREFUSED')] }), report({}, { errors: [e('a/1', 2, 'ENOENT'), e('b/1', 1, 'EACCES')] }));
  t.same(m.errors.map((x) => [x.probeId, x.code]), [['a/1', 'ENOENT'], ['b/1', 'EACCES']]);
});

t.test('properties over random reports: commutative, associative, idempotent, pure', async (t) => {
  const rand = prng(42);
  const canon = (r: FullReport): string => JSON.stringify(r, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : 1))) : v));
  for (let i = 0; i < 300; i++) {
    const [a, b, c] = [randomReport(rand, 'a'), randomReport(rand, 'b'), randomReport(rand, 'c')].map((r) => deepFreeze(r));
    for (const r of [a!, b!, c!]) {
      const v = validateReport(r);
      if (!v.ok) t.fail(`generated report invalid: ${v.error.message}`);
    }
    const ab = mergeReports(a!, b!);
    if (canon(ab) !== canon(mergeReports(b!, a!))) t.fail(`not commutative at ${i}`);
    if (canon(mergeReports(ab, c!)) !== canon(mergeReports(a!, mergeReports(b!, c!)))) t.fail(`not associative at ${i}`);
    if (canon(mergeReports(ab, ab)) !== canon(ab)) t.fail(`not idempotent at ${i}`);
    if (canon(mergeReports(ab, a!)) !== canon(ab)) t.fail(`absorbing a part changed the whole at ${i}`);
  }
  t.pass('300 random triples');
});

t.test('diffReports + applyDelta: the delta brings the base to the next report', async (t) => {
  const rand = prng(7);
  for (let i = 0; i < 200; i++) {
    const base = deepFreeze(randomReport(rand, 'p'));
    const next = deepFreeze({ ...randomReport(rand, 'p'), probeId: base.probeId, seq: base.seq + 1 + i });
    const delta = diffReports(base, next);
    t.ok(validateReport(delta).ok || t.fail(JSON.stringify(validateReport(delta))));
    t.same(applyDelta(base, delta), next);
  }
});

t.test('a delta holds only what changed, and removals', async (t) => {
  const n1 = node({ latest: { name: { ts: 1, v: 'a' } } });
  const base = report({ process: { [P]: n1, [Q]: node() } }, { seq: 1 });
  const next = report({ process: { [P]: n1, 'process;h1;102;1': node() } }, { seq: 2, timestamp: 2000 });
  const d = diffReports(base, next);
  t.equal(d.kind, 'delta');
  t.equal(d.baseSeq, 1);
  t.equal(d.seq, 2);
  t.same(Object.keys(d.topologies.process.nodes), ['process;h1;102;1']);
  t.same(d.removed, { process: [Q] });
  t.ok(isEmptyDelta(diffReports(base, { ...base, seq: 3 })));
});

t.test('deltas are cumulative: the newest applies to the base alone', async (t) => {
  const base = report({ process: { [P]: node() } }, { seq: 1 });
  const mid = report({ process: { [P]: node(), [Q]: node() } }, { seq: 2 });
  const last = report({ process: { [Q]: node({ adjacency: [P] }) } }, { seq: 3 });
  diffReports(base, mid); // a consumer that missed this one loses nothing
  t.same(applyDelta(base, diffReports(base, last)), last);
});

t.test('applyDelta refuses a delta of another base', async (t) => {
  const base = report({}, { seq: 4 });
  const d = diffReports(report({}, { seq: 3 }), report({}, { seq: 5 }));
  t.throws(() => applyDelta(base, d), { code: 'E_DELTA_BASE_MISMATCH' });
  t.throws(() => applyDelta(base, { ...d, probeId: 'other/1', baseSeq: 4 }), { code: 'E_DELTA_BASE_MISMATCH' });
});

t.test('a changed node of the base is sent as the members that differ; one that lost a member, whole', async (t) => {
  const controls = { ts: 1, ids: ['logs', 'stop'] } as const;
  const latest = { name: { ts: 1, v: 'nginx' }, cmdline: { ts: 1, v: '/usr/bin/nginx -g daemon off;' } };
  const base = deepFreeze(report({ process: { [P]: node({ latest, metrics: { cpu: { samples: [[1000, 1]] } }, controls }), [Q]: node({ controls }) } }, { seq: 1 }));
  const next = deepFreeze(
    report({ process: { [P]: node({ latest, metrics: { cpu: { samples: [[2000, 3]] } }, controls }), [Q]: node() } }, { seq: 2, timestamp: 2000 }),
  );
  const d = diffReports(base, next);
  t.same(d.patches, { process: { [P]: { metrics: { cpu: { samples: [[2000, 3]] } } } } }, 'P: only its metrics');
  t.same(Object.keys(d.topologies.process.nodes), [Q], 'Q lost its controls: sent whole');
  t.ok(validateReport(JSON.parse(JSON.stringify(d))).ok);
  const whole = expandPatches(d, base);
  t.equal(whole.patches, undefined);
  t.same(whole.topologies.process.nodes[P], next.topologies.process.nodes[P], 'made whole from the base');
  t.same(Object.keys(whole.topologies.process.nodes[P]!), Object.keys(base.topologies.process.nodes[P]!), 'in the base node\'s key order');
  t.equal(whole.topologies.process.nodes[P]!.latest, base.topologies.process.nodes[P]!.latest, 'sharing the base\'s unchanged members');
  t.same(applyDelta(base, d), next);
  t.notOk(isEmptyDelta(d));
});

t.test('expandPatches: a patch of a node the base lacks, or the wrong base, is an error', async (t) => {
  const base = report({ process: { [P]: node() } }, { seq: 1 });
  const d = diffReports(base, report({ process: { [P]: node({ adjacency: [Q] }) } }, { seq: 2 }));
  t.ok(d.patches?.process?.[P], 'a patch');
  t.throws(() => expandPatches(d, report({ process: { [Q]: node() } }, { seq: 1 })), { code: 'E_DELTA_PATCH', path: `patches.process["${P}"]` });
  t.throws(() => expandPatches(d, { ...base, seq: 0 }), { code: 'E_DELTA_BASE_MISMATCH' });
  t.equal(expandPatches(diffReports(base, report({ process: {} }, { seq: 3 })), base).patches, undefined, 'a delta without patches is returned as it is');
});

t.test('properties: a delta with its patches made whole is valid, has none, and brings the base to the next report', async (t) => {
  const rand = prng(11);
  let patched = 0;
  for (let i = 0; i < 200; i++) {
    const base = deepFreeze(randomReport(rand, 'p'));
    const next = deepFreeze({ ...randomReport(rand, 'p'), probeId: base.probeId, seq: base.seq + 1 + i });
    const delta = diffReports(base, next);
    patched += Object.values(delta.patches ?? {}).reduce((n, p) => n + Object.keys(p!).length, 0);
    const whole = expandPatches(delta, base);
    t.ok(validateReport(whole).ok || t.fail(JSON.stringify(validateReport(whole))));
    t.equal(whole.patches, undefined);
    t.same(applyDelta(base, whole), next);
    // The owned form, on a copy of the delta as the app parses it: the same report, ids in the same order.
    const own = expandOwnPatches(JSON.parse(JSON.stringify(delta)) as typeof delta, base);
    t.same(own, whole);
    for (const name of Object.keys(whole.topologies) as Array<keyof typeof whole.topologies>) {
      t.same(Object.keys(own.topologies[name].nodes), Object.keys(whole.topologies[name].nodes));
    }
  }
  t.ok(patched > 0, `the random reports patched ${patched} nodes`);
});

t.test('expandOwnPatches writes the whole nodes into the delta\'s patch record, and nothing before it throws', async (t) => {
  const base = report({ process: { [P]: node(), [Q]: node() } }, { seq: 1 });
  const next = report({ process: { [P]: node({ adjacency: [Q] }), [Q]: node({ adjacency: [P] }) } }, { seq: 2 });
  const parsed = (): ReturnType<typeof diffReports> => JSON.parse(JSON.stringify(diffReports(base, next))) as ReturnType<typeof diffReports>;
  const d = parsed();
  const record = d.patches!.process!;
  const own = expandOwnPatches(d, base);
  t.equal(own.topologies.process.nodes, record as unknown, 'the patch record is the record of whole nodes');
  t.same(own.topologies.process.nodes, next.topologies.process.nodes);
  t.equal(own.patches, undefined);

  const bad = parsed();
  const before = JSON.stringify(bad);
  t.throws(() => expandOwnPatches(bad, report({ process: { [P]: node() } }, { seq: 1 })), { code: 'E_DELTA_PATCH', path: `patches.process["${Q}"]` });
  t.equal(JSON.stringify(bad), before, 'a delta refused is left as it was');

  const frozen = deepFreeze(parsed());
  t.same(expandOwnPatches(frozen, base), expandPatches(frozen, base), 'a frozen record is copied');
});
