/**
 * `metricsTail` (the app) and `slideMetrics` (the page's store) together: rows a client holds,
 * slid by the tail the app computes, equal the rows rendered from the new rings; when the
 * change is not a slide (a metric came or went, a kept sample changed, an older sample
 * appeared), the app says so (null) and the patch carries the whole `metrics` member.
 */
import t from 'tap';
import { metricsOf, metricsTail, type MetricSource } from '../../runtime/app/views/render';
import { slideMetrics } from '../../runtime/ui/store';
import type { MetricTail } from '../../runtime/ui/types';
import type { ReportNode } from '../../runtime/report';
import { seededRandom } from './fleet';

const rows = (m: MetricSource) => metricsOf({ metrics: m } as unknown as ReportNode);
const ring = (...samples: Array<[number, number]>) => ({ samples });

t.test('a ring that slid by one sample is sent as its tail', async (t) => {
  const old = { cpu: ring([1, 5], [2, 7], [3, 1]), mem: ring([1, 10], [2, 20], [3, 30]) };
  const next = { cpu: ring([2, 7], [3, 1], [4, 9]), mem: old.mem };
  const tail = metricsTail(old, next);
  t.equal(tail, '[{"id":"cpu","drop":1,"add":[[4,9]]}]', 'only the metric that changed, one sample out, one in');
  t.same(slideMetrics(rows(old), JSON.parse(tail!) as MetricTail[]), rows(next));
});

t.test('rows are in id order, empty rings left out, whatever order the rings came in', async (t) => {
  const ids = (m: MetricSource) => rows(m).map((r) => r.id);
  t.same(ids({ cpu: ring([1, 2]), mem: ring([1, 1]) }), ['cpu', 'mem'], 'in order already');
  t.same(ids({ mem: ring([1, 1]), cpu: ring([1, 2]) }), ['cpu', 'mem'], 'out of order');
  t.same(ids({ cpu: ring([1, 2]), dsk: ring(), mem: ring([1, 1]) }), ['cpu', 'mem'], 'an empty ring in order');
  t.same(ids({ dsk: ring() }), [], 'only an empty ring');
  const old = { mem: ring([1, 10]), cpu: ring([1, 5]) };
  t.equal(metricsTail(old, { cpu: ring([1, 5], [2, 6]), mem: old.mem }), '[{"id":"cpu","drop":0,"add":[[2,6]]}]', 'the same metrics in another order still slide');
});

t.test('changes that are not a slide give null', async (t) => {
  const old = { cpu: ring([1, 5], [2, 7]) };
  t.equal(metricsTail(old, { cpu: ring([1, 5], [2, 8]) }), null, 'a kept sample changed its value');
  t.equal(metricsTail(old, { cpu: ring([0, 1], [1, 5], [2, 7]) }), null, 'an older sample appeared');
  t.equal(metricsTail(old, { cpu: old.cpu, mem: ring([3, 1]) }), null, 'a metric came');
  t.equal(metricsTail({ ...old, mem: ring([3, 1]) }, old), null, 'a metric went');
  t.equal(metricsTail(old, { cpu: ring() }), null, 'a ring emptied (its row goes)');
  t.equal(metricsTail(old, { dsk: old.cpu }), null, 'another metric in its place');
  t.equal(metricsTail(old, { cpu: ring([1, 5], [2, 7]) }), null, 'equal rings: nothing to send');
});

t.test('random rings: sliding the held rows by the tail gives the new rows, or the tail is null', async (t) => {
  const rnd = seededRandom(11);
  let slid = 0;
  let refused = 0;
  for (let i = 0; i < 2000; i++) {
    const n = 1 + Math.floor(rnd() * 5);
    let ts = Math.floor(rnd() * 1000);
    const samples: Array<[number, number]> = Array.from({ length: n }, () => [(ts += 1 + Math.floor(rnd() * 3)), Math.round(rnd() * 100) / 4]);
    const old: MetricSource = { a: ring(...samples), b: ring([1, 1]) };
    // Next: drop some oldest, append some newer, sometimes change a kept value or add an older one.
    const drop = Math.floor(rnd() * (n + 1));
    const kept = samples.slice(drop).map(([x, v]) => [x, v] as [number, number]);
    if (kept.length > 0 && rnd() < 0.1) kept[Math.floor(rnd() * kept.length)]![1] += 1;
    if (rnd() < 0.05) kept.unshift([samples[0]![0] - 1, 3]);
    const add = Array.from({ length: Math.floor(rnd() * 3) }, () => [(ts += 1 + Math.floor(rnd() * 3)), Math.round(rnd() * 100) / 4] as [number, number]);
    const nextSamples = [...kept, ...add];
    const next: MetricSource = { a: nextSamples.length > 0 ? ring(...nextSamples) : ring(), b: old.b };
    const tail = metricsTail(old, next);
    if (tail === null) {
      refused++;
      continue;
    }
    slid++;
    const got = slideMetrics(rows(old), JSON.parse(tail) as MetricTail[]);
    if (JSON.stringify(got) !== JSON.stringify(rows(next))) {
      t.fail(`case ${i}: ${JSON.stringify(old.a)} → ${JSON.stringify(next.a)} via ${tail}`);
      return;
    }
  }
  t.ok(slid > 1000, `most were slides (${slid})`);
  t.ok(refused > 50, `and some were not (${refused})`);
});
