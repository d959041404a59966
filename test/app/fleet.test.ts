/** The simulated fleet's metric rings (bench/app.ts replays it against the app). */
import t from 'tap';
import type { FullReport } from '../../runtime/report';
import { SimProbe, loadTemplates, type FleetShape } from './fleet';

// Rings of eight, as probes sent before the app kept the history: the sliding is what is tested.
const SHAPE: FleetShape = { probes: 2, containersPerProbe: 2, processesPerProbe: 4, connectionsPerProbe: 1, ring: 8 };

function rings(r: FullReport): Array<readonly (readonly [number, number])[]> {
  const out: Array<readonly (readonly [number, number])[]> = [];
  for (const topology of ['host', 'process', 'container'] as const) {
    for (const n of Object.values(r.topologies[topology].nodes)) for (const m of Object.values(n.metrics)) out.push(m!.samples);
  }
  return out;
}

t.test('sliding rings keep their earlier samples and add one per pass, as the real probe does', async (t) => {
  const tpl = await loadTemplates();
  const p = new SimProbe(0, { ...SHAPE, slidingRings: true }, tpl);
  const t0 = 1_800_000_000_000;
  const a = rings(p.full(t0));
  // Not exactly one interval later: the bench's replay timer is a few ms off.
  const b = rings(p.full(t0 + 15_003));
  t.ok(a.length > 0);
  t.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    t.equal(a[i]!.length, 8, 'a full ring from the first pass');
    t.same(b[i]!.slice(0, -1), a[i]!.slice(1), 'the earlier samples, unchanged');
    t.same(b[i]![b[i]!.length - 1]![0], t0 + 15_003, 'one new sample at the pass time');
  }
});

t.test('recomputed rings (the default) change every sample when passes are not exactly 15 s apart', async (t) => {
  const tpl = await loadTemplates();
  const p = new SimProbe(0, SHAPE, tpl);
  const t0 = 1_800_000_000_000;
  const a = rings(p.full(t0));
  const b = rings(p.full(t0 + 15_003));
  t.notSame(b[0]!.slice(0, -1), a[0]!.slice(1));
});

t.test('by default a report carries what the probe sends: the newest sample of each metric', async (t) => {
  const tpl = await loadTemplates();
  const p = new SimProbe(0, { probes: 2, containersPerProbe: 2, processesPerProbe: 4, connectionsPerProbe: 1, slidingRings: true }, tpl);
  const t0 = 1_800_000_000_000;
  p.full(t0);
  const b = rings(p.full(t0 + 15_003));
  t.ok(b.length > 0);
  for (const r of b) t.same(r.map((s) => s[0]), [t0 + 15_003], 'one sample, at the pass time');
});
