/**
 * The model keeps each metric's history: a probe sends the newest sample per metric
 * (runtime/probe/nodes.ts DEFAULT_RING), and a node's ring in the model holds the newest
 * `metricHistory` samples across its full and delta reports (runtime/app/share.ts).
 */
import t from 'tap';
import { LiveModel } from '../../runtime/app/model';
import { METRIC_HISTORY } from '../../runtime/app/share';
import { LIMITS, type Report } from '../../runtime/report';
import { SimProbe, loadTemplates, type FleetShape } from './fleet';

// One sample per metric per report, as the probe sends (ring 1).
const SHAPE: FleetShape = { probes: 2, containersPerProbe: 1, processesPerProbe: 2, connectionsPerProbe: 1, slidingRings: true, ring: 1 };
const T0 = 1_800_000_000_000;
// As over HTTP: the model gets a parsed copy, never the simulator's own objects.
const wire = (r: Report): Report => JSON.parse(JSON.stringify(r)) as Report;

t.test('rings grow by one sample per report, full or delta, up to metricHistory', async (t) => {
  const tpl = await loadTemplates();
  const model = new LiveModel({ intervalMs: 15_000, metricHistory: 3, now: () => T0 });
  const probe = new SimProbe(0, SHAPE, tpl);
  const kinds: string[] = [];
  const lengths: number[] = [];
  for (let i = 0; i < 6; i++) {
    const r = probe.next(T0 + i * 15_000);
    kinds.push(r.kind);
    t.equal(model.ingest(wire(r), 'probe').applied, true);
    lengths.push(model.get('host', probe.hostId)!.node.metrics.cpu_percent!.samples.length);
  }
  t.same(kinds, ['full', 'delta', 'delta', 'delta', 'full', 'delta'], 'both kinds of report');
  t.same(lengths, [1, 2, 3, 3, 3, 3]);
  const times = model.get('host', probe.hostId)!.node.metrics.cpu_percent!.samples.map((s) => s[0]);
  t.same(times, [T0 + 3 * 15_000, T0 + 4 * 15_000, T0 + 5 * 15_000], 'the newest three, oldest first');
});

t.test('the default keeps METRIC_HISTORY samples; a restarted probe (a new id) starts again', async (t) => {
  const tpl = await loadTemplates();
  const model = new LiveModel({ intervalMs: 15_000, now: () => T0 });
  const probe = new SimProbe(0, SHAPE, tpl);
  for (let i = 0; i < METRIC_HISTORY + 3; i++) model.ingest(wire(probe.next(T0 + i * 15_000)), 'probe');
  t.equal(model.get('host', probe.hostId)!.node.metrics.load1!.samples.length, METRIC_HISTORY);
  const restarted = new SimProbe(0, SHAPE, tpl, 1);
  t.not(restarted.probeId, probe.probeId);
  model.ingest(wire(restarted.next(T0 + 20 * 15_000)), 'probe');
  t.equal(model.get('host', probe.hostId)!.node.metrics.load1!.samples.length, 1, 'the superseded probe’s history is gone with it');
});

t.test('metricHistory out of range is refused, naming the bound', async (t) => {
  for (const bad of [0, 1.5, LIMITS.maxSamplesPerMetric + 1]) {
    t.throws(() => new LiveModel({ metricHistory: bad }), { name: 'RangeError', message: `metricHistory must be an integer from 1 to ${LIMITS.maxSamplesPerMetric}, not ${bad}` });
  }
});
