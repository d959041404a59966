/** The app bench's recorded reports (bench/lib/report-tape.ts): what the driver replays to the app. */
import t from 'tap';
import { applyDelta, decodeReport, type FullReport, type Report } from '../../runtime/report';
import { DEFAULT_FULL_EVERY } from '../../runtime/probe/probe';
import { ReportTape, type TapePlan } from '../../bench/lib/report-tape';
import { SimProbe, loadTemplates, type FleetShape, type Templates } from './fleet';

const SHAPE: FleetShape = { probes: 3, containersPerProbe: 2, processesPerProbe: 4, connectionsPerProbe: 1, slidingRings: true };
const PLAN: TapePlan = { startMs: 1_800_000_000_000, intervalMs: 1000, containersPerProbe: SHAPE.containersPerProbe };

function fleet(tpl: Templates): SimProbe[] {
  return Array.from({ length: SHAPE.probes }, (_, i) => new SimProbe(i, SHAPE, tpl));
}

async function decoded(body: Buffer): Promise<Report> {
  const r = await decodeReport(body);
  if (!r.ok) throw new Error(`a recorded report does not decode: ${r.error.message}`);
  return r.value;
}

function containerStates(r: FullReport): string[] {
  return Object.keys(r.topologies.container.nodes)
    .sort()
    .map((id) => String(r.topologies.container.nodes[id]!.latest['state']?.v));
}

t.test('a tape holds each probe\'s reports in order, one interval apart, with a container flipped every 7th send', async (t) => {
  const tpl = await loadTemplates();
  const tape = new ReportTape(fleet(tpl), PLAN);
  const sends = tape.sendsFor(20);
  t.equal(sends, 3 + 60, 'the load and 20 s of three probes reporting every second');
  await tape.record(sends);
  t.equal(tape.length, sends);

  const last = new Map<string, { full: FullReport; seq: number; whole: FullReport; time: number }>();
  for (let k = 0; k < sends; k++) {
    const r = await decoded(await tape.body(k));
    const probe = SHAPE.probes;
    if (k < probe) {
      t.equal(r.kind, 'full', `send ${k} is a full report of the load`);
      t.equal(r.timestamp, PLAN.startMs);
      t.equal(r.probeId, tape.probeOf(k).probeId);
      last.set(r.probeId, { full: r as FullReport, seq: r.seq, whole: r as FullReport, time: r.timestamp });
      continue;
    }
    const j = k - probe;
    const p = tape.probeOf(k);
    t.equal(r.probeId, p.probeId, `send ${k} is from probe ${j % probe}`);
    const before = last.get(r.probeId)!;
    t.equal(r.seq, before.seq + 1, 'the next seq of its probe');
    t.equal(r.timestamp, PLAN.startMs + PLAN.intervalMs + Math.floor((j * PLAN.intervalMs) / probe));
    t.equal(r.timestamp - before.time, j < probe ? PLAN.intervalMs + Math.floor((j * PLAN.intervalMs) / probe) : PLAN.intervalMs, 'one interval after its previous report');
    t.equal(r.kind, (r.seq - before.full.seq) >= DEFAULT_FULL_EVERY ? 'full' : 'delta', 'a full report every DEFAULT_FULL_EVERY, deltas between');
    let whole: FullReport;
    if (r.kind === 'delta') {
      t.equal(r.baseSeq, before.full.seq, 'a delta against its probe\'s last full report');
      whole = applyDelta(before.full, r);
    } else whole = r;
    const was = containerStates(before.whole);
    const now = containerStates(whole);
    const changed = now.map((s, c) => (s !== was[c] ? c : -1)).filter((c) => c >= 0);
    t.same(changed, j % 7 === 0 ? [j % SHAPE.containersPerProbe] : [], `send ${k}: the containers flipped since the probe's previous report`);
    last.set(r.probeId, { full: r.kind === 'full' ? r : before.full, seq: r.seq, whole, time: r.timestamp });
  }
});

t.test('sends past the recording are made on demand, in order, whatever order they are asked in', async (t) => {
  const tpl = await loadTemplates();
  const recorded = new ReportTape(fleet(tpl), PLAN);
  await recorded.record(40);
  const onDemand = new ReportTape(fleet(tpl), PLAN);
  await onDemand.record(10);
  // The replay asks while earlier sends are still being made; ask from the last backwards.
  const ks = Array.from({ length: 30 }, (_, i) => 39 - i);
  const bodies = await Promise.all(ks.map((k) => onDemand.body(k)));
  t.equal(onDemand.length, 40);
  for (let i = 0; i < ks.length; i++) t.same(await decoded(bodies[i]!), await decoded(await recorded.body(ks[i]!)), `send ${ks[i]}`);
});

t.test('a tape refuses a plan it cannot replay, naming the problem', async (t) => {
  const tpl = await loadTemplates();
  t.throws(() => new ReportTape([], PLAN), /at least one probe/);
  t.throws(() => new ReportTape(fleet(tpl), { ...PLAN, intervalMs: 0 }), /interval must be over 0 ms, not 0/);
});
