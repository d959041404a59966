import t from 'tap';
import { applyDelta, diffReports, DeltaBase, expandPatches, isEmptyDelta, validateReport, type FullReport, type Metric, type ReportNode } from '../../runtime/report';
import { deepFreeze, node, prng, randomReport, report } from './helpers';

const P = 'process;h1;100;5000';
const Q = 'process;h1;101;5001';
const R = 'process;h1;102;5002';

t.test('properties: the delta against the texts is the delta against the report', async (t) => {
  const rand = prng(23);
  let patched = 0;
  for (let i = 0; i < 300; i++) {
    const base = deepFreeze(randomReport(rand, 'p'));
    // Every other pair: the next report keeps some of the base's nodes as they were, as a probe's pass does.
    const fresh = randomReport(rand, 'p');
    const next = deepFreeze({ ...fresh, probeId: base.probeId, seq: base.seq + 1 + i, ...(i % 2 === 0 ? {} : { topologies: { ...fresh.topologies, process: { nodes: { ...base.topologies.process.nodes, ...fresh.topologies.process.nodes } } } }) }) as FullReport;
    const want = diffReports(base, next);
    const got = DeltaBase.of(base).diff(next);
    t.same(got, want, `pair ${i}`);
    patched += Object.values(got.patches ?? {}).reduce((n, p) => n + Object.keys(p!).length, 0);
    t.same(applyDelta(base, expandPatches(got, base)), next);
  }
  t.ok(patched > 0, `${patched} nodes patched`);
});

t.test('a node updated in place after the base was taken is still a change', async (t) => {
  // What the probe's collectors do with reuseNodes: the next pass's node is the same object.
  const metrics: Record<string, Metric> = { cpu_percent: { samples: [[1000, 1]] } };
  const n: ReportNode = node({ latest: { name: { ts: 1000, v: 'nginx' } }, metrics });
  const base = report({ process: { [P]: n } }, { seq: 1 });
  const db = DeltaBase.of(base);
  metrics.cpu_percent = { samples: [[2000, 7]] };
  const next = report({ process: { [P]: n } }, { seq: 2, timestamp: 2000 });
  const d = db.diff(next);
  t.same(d.patches, { process: { [P]: { metrics: { cpu_percent: { samples: [[2000, 7]] } } } } }, 'only the metrics, which changed');
  t.equal(diffReports(base, next).patches, undefined, 'comparing the objects would have missed it');
  t.equal(d.baseSeq, 1);
  t.ok(validateReport(JSON.parse(JSON.stringify(d))).ok);
});

t.test('new, lost-a-member, gone and unchanged nodes; errors are carried', async (t) => {
  const controls = { ts: 1, ids: ['pause', 'stop'] } as const;
  const base = report({ process: { [P]: node({ controls }), [Q]: node(), [R]: node() } }, { seq: 4 });
  const err = { probeId: 'h1/abcd', collector: 'processes', code: 'EACCES', message: 'm', ts: 5, count: 2 };
  const next = report({ process: { [P]: node(), [Q]: node(), 'process;h1;103;1': node() } }, { seq: 5, errors: [err] });
  const d = DeltaBase.of(base).diff(next);
  t.same(Object.keys(d.topologies.process.nodes).sort(), [P, 'process;h1;103;1'], 'P lost its controls: whole; the new one whole');
  t.same(d.removed, { process: [R] });
  t.equal(d.patches, undefined, 'Q did not change');
  t.same(d.errors, [err]);
  t.ok(isEmptyDelta(DeltaBase.of(base).diff({ ...base, seq: 5 })), 'the same nodes: an empty delta');
});

t.test('a report of another probe, or not after the base, is refused', async (t) => {
  const db = DeltaBase.of(report({}, { seq: 3 }));
  t.throws(() => db.diff(report({}, { seq: 3 })), { code: 'E_DELTA_BASE_MISMATCH' });
  t.throws(() => db.diff(report({}, { seq: 4, probeId: 'h2/x' })), { code: 'E_DELTA_BASE_MISMATCH' });
  t.equal(db.diff(report({}, { seq: 4 })).baseSeq, 3);
});

t.test('what the base holds: the texts, counted', async (t) => {
  const n = node({ latest: { name: { ts: 1, v: 'a' } }, adjacency: [Q] });
  const db = DeltaBase.of(report({ process: { [P]: n, [Q]: node() } }));
  t.equal(db.nodes, 2);
  const texts = [n.latest, n.metrics, n.adjacency, n.parents, node().latest, node().metrics, node().adjacency, node().parents].map((v) => JSON.stringify(v).length);
  t.equal(db.chars, texts.reduce((a, b) => a + b, 0));
});

t.test('a frozen member is kept by reference: the same object is unchanged, another is compared by its text', async (t) => {
  const latest = Object.freeze({ name: { ts: 1, v: 'nginx' }, cmdline: { ts: 1, v: 'nginx -g daemon off;' } });
  const base = report({ process: { [P]: node({ latest }), [Q]: node({ latest }), [R]: node({ latest }) } }, { seq: 1 });
  const db = DeltaBase.of(base);
  t.equal(db.chars, 3 * (2 + 2 + 2), 'only the unfrozen members are held as text (metrics {}, adjacency [], parents {} per node)');
  const next = report(
    {
      process: {
        [P]: node({ latest }),
        [Q]: node({ latest: Object.freeze({ name: { ts: 1, v: 'nginx' }, cmdline: { ts: 1, v: 'nginx -g daemon off;' } }) }),
        [R]: node({ latest: Object.freeze({ name: { ts: 1, v: 'nginx' }, cmdline: { ts: 9, v: 'nginx -s reload' } }) }),
      },
    },
    { seq: 2 },
  );
  const d = db.diff(next);
  t.same(Object.keys(d.patches?.process ?? {}), [R], 'P the same object, Q another with the same text: unchanged; R changed');
  t.same(d.patches?.process?.[R], { latest: next.topologies.process.nodes[R]!.latest });
  t.same(d, diffReports(base, next), 'what diffReports says');
});
