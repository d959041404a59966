/**
 * The probe's metric rings (runtime/probe/nodes.ts): samples held flat, read and
 * written as the report's `[ts, value]` pairs.
 */
import t from 'tap';
import { FlatMetric, SampleRing } from '../../runtime/probe/nodes';
import { REPORT_VERSION, emptyTopologies, validateReport, type FullReport, type Sample } from '../../runtime/report';

/** The pairs a ring of `size` holds after `pushes`, by the rule: newest `size`, a sample not newer than the last replacing those at or after it. */
function expected(size: number, pushes: ReadonlyArray<Sample>): Sample[] {
  let out: Sample[] = [];
  for (const [ts, v] of pushes) {
    out = out.filter((s) => s[0] < ts);
    out.push([ts, v]);
    if (out.length > size) out = out.slice(out.length - size);
  }
  return out;
}

t.test('a ring keeps the newest samples, oldest first, and replaces samples from a time it sees again', async (t) => {
  const pushes: Sample[] = [
    [1000, 1],
    [2000, 2.5],
    [3000, 0],
    [3000, 7], // the same time again: replaces
    [4000, 4],
    [3500, 9], // back in time: drops 4000, replaces nothing older
    ...Array.from({ length: 12 }, (_, i): Sample => [5000 + i * 1000, i * 1.25]),
  ];
  for (const size of [1, 2, 8]) {
    const ring = new SampleRing(size);
    t.equal(ring.current(), null, 'no metric before the first sample');
    const seen: Sample[] = [];
    for (const p of pushes) {
      seen.push(p);
      const m = ring.push(p[0], p[1]);
      t.same(m.samples, expected(size, seen), `size ${size} after ${seen.length} samples`);
      t.equal(ring.current(), m, 'current() is the last metric pushed');
    }
  }
});

t.test('a metric once returned does not change when the ring moves on', async (t) => {
  const ring = new SampleRing(3);
  const first = ring.push(1000, 1);
  const second = ring.push(2000, 2);
  ring.push(2000, 5);
  ring.push(3000, 3);
  t.same(first.samples, [[1000, 1]]);
  t.same(second.samples, [
    [1000, 1],
    [2000, 2],
  ]);
});

t.test("a flat metric is the report's metric in JSON, to validation and to a for-in", async (t) => {
  const m = new FlatMetric([1000, 1.5, 2000, 2, 3000, 0]);
  const plain = {
    samples: [
      [1000, 1.5],
      [2000, 2],
      [3000, 0],
    ],
  };
  t.equal(JSON.stringify({ cpu: m }), JSON.stringify({ cpu: plain }));
  t.same(m.samples, plain.samples);
  const keys: string[] = [];
  for (const k in m) keys.push(k);
  t.same(keys, ['samples'], 'one enumerable key, as a plain metric has');
  t.same(Object.keys(m), [], 'no own data the report would not carry');

  const topologies = emptyTopologies();
  (topologies.process.nodes as Record<string, unknown>)['process;h;1;1'] = { latest: {}, metrics: { cpu_percent: m }, adjacency: [], parents: {} };
  const report: FullReport = { version: REPORT_VERSION, kind: 'full', probeId: 'p', hostId: 'host;h', seq: 1, timestamp: 4000, topologies, errors: [] };
  const checked = validateReport(report);
  t.ok(checked.ok, checked.ok ? 'valid in memory' : checked.error.message);
  const decoded = validateReport(JSON.parse(JSON.stringify(report)));
  t.ok(decoded.ok, decoded.ok ? 'valid as JSON' : decoded.error.message);
  t.same((JSON.parse(JSON.stringify(report)) as FullReport).topologies.process.nodes['process;h;1;1']!.metrics.cpu_percent, plain);
});
