/**
 * The probe's metric rings (runtime/probe/nodes.ts): samples held flat, read and
 * written as the report's `[ts, value]` pairs.
 */
import t from 'tap';
import { FlatMetric, LatestInterner, LatestMemory, SampleRing } from '../../runtime/probe/nodes';
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

t.test('update writes the same rule in place: one object per ring, the samples push would give, and a pushed metric is never written', async (t) => {
  const pushes: Sample[] = [
    [1000, 1],
    [2000, 2.5],
    [2000, 3], // the same time again: replaces
    [1500, 9], // back in time: drops 2000
    ...Array.from({ length: 20 }, (_, i): Sample => [5000 + i * 1000, i * 1_000_000_000.5]),
  ];
  for (const size of [1, 3, 8]) {
    // Alternating runs of push and update, as passes with and without a held report do.
    const ring = new SampleRing(size);
    const seen: Sample[] = [];
    let pushed: { m: ReturnType<SampleRing['push']>; json: string } | null = null;
    let updated: ReturnType<SampleRing['update']> | null = null;
    pushes.forEach((p, i) => {
      seen.push(p);
      if (Math.floor(i / 3) % 2 === 0) {
        const m = ring.push(p[0], p[1]);
        pushed = { m, json: JSON.stringify(m) };
        updated = null;
        t.same(m.samples, expected(size, seen), `size ${size}, push ${i}`);
      } else {
        const m = ring.update(p[0], p[1]);
        if (updated !== null) t.equal(m, updated, 'the same object while updates follow each other');
        else if (pushed !== null) t.not(m, pushed.m, 'the first update after a push makes its own metric');
        updated = m;
        t.same(m.samples, expected(size, seen), `size ${size}, update ${i}`);
        if (pushed !== null) t.equal(JSON.stringify(pushed.m), pushed.json, 'the pushed metric is as it was');
      }
    });
  }
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

t.test('latest records made in one pass are shared between nodes; a value unchanged keeps its own time', async (t) => {
  const shared = new LatestInterner();
  const a = new LatestMemory();
  const b = new LatestMemory();
  const a1 = a.update({ user: 'root', threads: 1, pid: 10 }, 1000, shared);
  const b1 = b.update({ user: 'root', threads: 1, pid: 11 }, 1000, shared);
  t.equal(a1.user, b1.user, 'the same value at the same time: one record');
  t.equal(a1.threads, b1.threads);
  t.not(a1.pid, b1.pid);
  t.same(b1.user, { ts: 1000, v: 'root' });
  shared.clear();
  const b2 = b.update({ user: 'root', threads: 2, pid: 11 }, 2000, shared);
  const c = new LatestMemory().update({ user: 'root', threads: 2 }, 2000, shared);
  t.equal(b2.user, b1.user, 'unchanged: the record of the time it was first seen');
  t.same(b2.threads, { ts: 2000, v: 2 });
  t.equal(c.threads, b2.threads, 'shared within the new pass');
  t.not(c.user, b2.user, 'first seen at 2000 by this node: not the record of 1000');
  t.same(c.user, { ts: 2000, v: 'root' });
  const d = new LatestMemory().update({ threads: 2 }, 3000, shared);
  t.same(d.threads, { ts: 3000, v: 2 }, 'a new time: a new record even without clear');
  t.ok(Object.isFrozen(b2) && Object.isFrozen(d), 'records are frozen (the delta base keeps them by reference)');
  t.equal(b.update({ user: 'root', threads: 2, pid: 11 }, 4000, shared), b2, 'nothing changed: the same record');
});
