/**
 * The collection loop with small collectors written here (real implementations
 * of the Collector interface): failures are contained, named, and retried with
 * backoff; deltas carry only changes; the loop runs on its interval.
 */
import t from 'tap';
import { applyDelta, hostNodeId, isEmptyDelta, validateReport, type DeltaReport, type FullReport, type Report, type ReportNode } from '../../runtime/report';
import { CollectorFailure, type Collector, type CollectorResult } from '../../runtime/probe/collector';
import { Probe } from '../../runtime/probe/probe';

const identity = { hostname: 'h', hostId: hostNodeId('h'), probeId: 'h/1' };
const n = (v: string): ReportNode => ({ latest: { v: { ts: 1, v } }, metrics: {}, adjacency: [], parents: {} });

/** A collector whose output and behaviour the test sets between passes. */
class Settable implements Collector {
  runs = 0;
  mode: 'ok' | 'throw' | 'hang' = 'ok';
  nodes: Record<string, ReportNode> = {};
  constructor(readonly name: string) {}
  async collect(): Promise<CollectorResult> {
    this.runs++;
    if (this.mode === 'throw') throw new CollectorFailure('E_ENGINE_DOWN', 'connect ENOENT /run/docker.sock');
    if (this.mode === 'hang') return new Promise<never>(() => undefined);
    return { nodes: { process: { ...this.nodes } }, issues: [] };
  }
}

function setup(clock: { now: number }, extra: Partial<ConstructorParameters<typeof Probe>[0]> = {}) {
  const good = new Settable('good');
  const bad = new Settable('bad');
  good.nodes = { 'process;h;1;1': n('a') };
  bad.nodes = { 'process;h;2;2': n('b') };
  const sent: Report[] = [];
  const probe = new Probe({
    identity,
    collectors: [bad, good],
    sink: (r) => sent.push(r),
    clock: () => clock.now,
    backoff: { initialMs: 10_000, maxMs: 60_000 },
    collectorTimeoutMs: 200,
    ...extra,
  });
  return { good, bad, sent, probe };
}

t.test('a collector that throws is named in the report; the others still report', async (t) => {
  const clock = { now: 1_000_000 };
  const { good, bad, probe } = setup(clock);
  bad.mode = 'throw';
  const r1 = await probe.fullPass();
  t.ok(validateReport(r1).ok);
  t.same(Object.keys(r1.topologies.process.nodes), ['process;h;1;1'], "the good collector's nodes");
  t.equal(r1.errors.length, 1);
  t.match(r1.errors[0], { probeId: 'h/1', collector: 'bad', code: 'E_ENGINE_DOWN', ts: 1_000_000, count: 1 });

  clock.now += 1_000; // within the backoff: not retried, error still reported
  const r2 = await probe.fullPass();
  t.equal(bad.runs, 1, 'not retried during backoff');
  t.equal(good.runs, 2);
  t.equal(r2.errors[0]?.code, 'E_ENGINE_DOWN');

  bad.mode = 'ok';
  clock.now += 10_000; // past the longest first backoff (jitter keeps it within [5 s, 10 s))
  const r3 = await probe.fullPass();
  t.equal(bad.runs, 2, 'retried after the backoff');
  t.same(r3.errors, [], 'recovered: no error');
  t.same(Object.keys(r3.topologies.process.nodes).sort(), ['process;h;1;1', 'process;h;2;2']);
  t.same([r1.seq, r2.seq, r3.seq], [1, 2, 3]);
});

t.test('backoff doubles up to its maximum', async (t) => {
  const clock = { now: 0 };
  const { bad, probe } = setup(clock);
  bad.mode = 'throw';
  const retryDelays: number[] = [];
  let last = 0;
  for (let i = 0; i < 200 && retryDelays.length < 5; i++) {
    const before = bad.runs;
    await probe.fullPass();
    if (bad.runs > before) {
      if (bad.runs > 1) retryDelays.push(clock.now - last);
      last = clock.now;
    }
    clock.now += 1_000;
  }
  t.ok(retryDelays[0]! >= 5_000 && retryDelays[0]! <= 11_000, `first retry after ${retryDelays[0]} ms`);
  t.ok(retryDelays[1]! >= 10_000 && retryDelays[1]! <= 21_000, `second after ${retryDelays[1]} ms`);
  t.ok(retryDelays.slice(3).every((d) => d <= 61_000), `capped: ${retryDelays.join(', ')}`);
});

t.test('a collector that hangs times out without holding up the pass', async (t) => {
  const clock = { now: 1 };
  const { bad, probe } = setup(clock);
  bad.mode = 'hang';
  const started = Date.now();
  const r = await probe.fullPass();
  t.ok(Date.now() - started < 2_000, 'the pass ended');
  t.equal(r.errors[0]?.code, 'E_COLLECTOR_TIMEOUT');
  t.same(Object.keys(r.topologies.process.nodes), ['process;h;1;1']);
});

t.test('triggers make small deltas; nothing changed means nothing sent', async (t) => {
  const clock = { now: 1 };
  const { good, bad, sent, probe } = setup(clock, { triggerDelayMs: 10 });
  const full = await probe.fullPass();
  t.equal(await probe.deltaPass(['good']), null, 'no change: no delta');
  good.nodes = { 'process;h;1;1': n('a'), 'process;h;3;3': n('c') };
  bad.nodes = {};
  probe.trigger('good');
  probe.trigger('good');
  // Bounded wait for the delta, then as long again for a second one that must not come.
  for (const deadline = Date.now() + 5_000; sent.length < 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(sent.length, 2, 'one delta for two triggers');
  const delta = sent[1]!;
  t.equal(delta.kind, 'delta');
  if (delta.kind !== 'delta') return;
  t.equal(delta.baseSeq, full.seq);
  t.equal(delta.seq, full.seq + 1, 'seq has no gaps');
  t.same(Object.keys(delta.topologies.process.nodes), ['process;h;3;3'], 'only the new node');
  t.same(delta.removed, {}, "bad was not re-run, so its node stays");
  t.equal(bad.runs, 1);
  const now = applyDelta(full, delta);
  t.same(Object.keys(now.topologies.process.nodes).sort(), ['process;h;1;1', 'process;h;2;2', 'process;h;3;3']);
});

t.test('with fullEvery 1 the loop sends a full report per interval until stopped', async (t) => {
  const sent: Report[] = [];
  const c = new Settable('c');
  const probe = new Probe({ identity, collectors: [c], sink: (r) => sent.push(r), intervalMs: 100, fullEvery: 1 });
  probe.start();
  // Bounded wait for three reports; wall-clock counts are not asserted (a busy machine delays timers).
  for (let waited = 0; sent.length < 3 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  await probe.stop();
  const count = sent.length;
  t.ok(count >= 3, `${count} reports at a 100 ms interval`);
  const gaps = sent.slice(1).map((r, i) => r.timestamp - sent[i]!.timestamp);
  t.ok(gaps.every((g) => g >= 90), `reports no closer than the interval: ${gaps.join(', ')} ms`);
  t.ok(sent.every((r) => r.kind === 'full'));
  await new Promise((r) => setTimeout(r, 200));
  t.equal(sent.length, count, 'nothing after stop');
  t.same(sent.map((r) => (r as FullReport).seq), sent.map((_, i) => i + 1));
});

t.test('fullEvery 3: a full report, then two deltas against it, each a pass of every collector, sent even when nothing changed', async (t) => {
  const sent: Report[] = [];
  const c = new Settable('c');
  const d = new Settable('d');
  c.nodes = { 'process;h;1;1': n('a'), 'process;h;2;2': n('b') };
  d.nodes = { 'process;h;3;3': n('c') };
  const pictures: string[] = [];
  const probe = new Probe({
    identity,
    collectors: [c, d],
    intervalMs: 40,
    fullEvery: 3,
    sink: (r) => {
      sent.push(r);
      // The picture of the host at this pass, changed for the next one.
      pictures.push(JSON.stringify({ ...c.nodes, ...d.nodes }));
      if (sent.length === 1) c.nodes = { 'process;h;1;1': n('a2'), 'process;h;4;4': n('e') };
      if (sent.length === 4) d.nodes = {};
    },
  });
  probe.start();
  for (let waited = 0; sent.length < 7 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  await probe.stop();
  t.same(sent.slice(0, 7).map((r) => r.kind), ['full', 'delta', 'delta', 'full', 'delta', 'delta', 'full']);
  t.same(sent.map((r) => r.seq), sent.map((_, i) => i + 1), 'seq gapless');
  t.equal(c.runs, sent.length, 'every collector ran in every pass');
  t.equal(d.runs, sent.length);
  let base: FullReport | null = null;
  sent.forEach((r, i) => {
    t.ok(validateReport(r).ok, `report ${r.seq} valid`);
    if (r.kind === 'full') base = r;
    else {
      t.equal(r.baseSeq, base!.seq, `delta ${r.seq} is against the last full report`);
      const now = applyDelta(base!, r);
      const want = JSON.parse(pictures[i]!) as Record<string, ReportNode>;
      t.same(now.topologies.process.nodes, want, `delta ${r.seq} brings the base to its pass's picture`);
    }
  });
  const second = sent[1]!;
  t.ok(second.kind === 'delta' && second.patches?.process?.['process;h;1;1'] !== undefined, 'a changed node of the base goes as a patch');
  const third = sent[2]!;
  t.ok(third.kind === 'delta' && third.patches?.process?.['process;h;1;1'] !== undefined, 'deltas are cumulative: the third still carries it');
  for (const r of sent.slice(4, 6)) t.same(r.kind === 'delta' ? r.removed : null, { process: ['process;h;3;3'] }, `delta ${r.seq}: d's node gone since the full report`);
});

t.test('a pass of the interval with nothing changed since the full report still sends its (empty) delta', async (t) => {
  const sent: Report[] = [];
  const c = new Settable('c');
  c.nodes = { 'process;h;1;1': n('a') };
  const probe = new Probe({ identity, collectors: [c], sink: (r) => sent.push(r), intervalMs: 40, fullEvery: 5 });
  probe.start();
  for (let waited = 0; sent.length < 3 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  await probe.stop();
  const deltas = sent.filter((r) => r.kind === 'delta');
  t.ok(deltas.length >= 2, `${deltas.length} deltas`);
  t.ok(deltas.every((r) => isEmptyDelta(r as DeltaReport)), 'empty: the app hears the probe is alive');
});

t.test('fullEvery must be a whole number of passes, at least 1', async (t) => {
  for (const bad of [0, -1, 1.5, NaN]) t.throws(() => new Probe({ identity, collectors: [], sink: () => undefined, fullEvery: bad }), { name: 'RangeError', message: /fullEvery/ });
});

t.test('a sink that throws does not stop the probe', async (t) => {
  const probe = new Probe({ identity, collectors: [new Settable('c')], sink: () => { throw new Error('queue full'); } });
  const r = await probe.fullPass();
  t.equal(r.seq, 1);
  t.equal((await probe.fullPass()).seq, 2);
});

t.test('the collectors of a pass run concurrently; one that awaits settled(name) sees that collector finished in the same pass', async (t) => {
  const events: string[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  let tablePass = 0;
  // "slow" stands for the engine: it waits on I/O (here a gate the test opens).
  const slow: Collector = {
    name: 'slow',
    async collect(_now, pass) {
      events.push('slow:start');
      await gate;
      await pass?.settled?.('table');
      events.push(`slow:end saw table of pass ${tablePass}`);
      return { nodes: {}, issues: [] };
    },
  };
  const table: Collector = {
    name: 'table',
    async collect() {
      events.push('table:start');
      await new Promise((r) => setTimeout(r, 20));
      tablePass++;
      events.push('table:end');
      return { nodes: {}, issues: [] };
    },
  };
  const reader: Collector = {
    name: 'reader',
    async collect(_now, pass) {
      await pass?.settled?.('table');
      events.push(`reader saw table of pass ${tablePass}`);
      release();
      return { nodes: {}, issues: [] };
    },
  };
  const probe = new Probe({ identity, collectors: [slow, table, reader], sink: () => undefined });
  t.teardown(() => probe.stop());
  await probe.fullPass();
  t.same(events, ['slow:start', 'table:start', 'table:end', 'reader saw table of pass 1', 'slow:end saw table of pass 1'], 'all start at once; the readers wait for the table of this pass');
  // A delta pass of the slow collector alone: the table does not run, so settled() does not wait.
  events.length = 0;
  const delta = await probe.deltaPass(['slow']);
  t.equal(delta, null);
  t.same(events, ['slow:start', 'slow:end saw table of pass 1'], 'settled() of a collector not in the pass resolves at once');
});

t.test('a full pass lets go of the last full report and fragments before its collectors run', async (t) => {
  // gc() without --expose-gc on tap's command line: the flag, then gc from a fresh context.
  require('node:v8').setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc') as () => void;
  const clock = { now: 1_000_000 };
  let lastReport: WeakRef<object> | null = null;
  let lastNode: WeakRef<object> | null = null;
  const freedWhenCollecting: boolean[] = [];
  // Runs inside the pass, as a collector: what the probe still holds then is what the pass's top holds.
  const watcher: Collector = {
    name: 'watcher',
    async collect() {
      gc();
      freedWhenCollecting.push(lastReport !== null && lastReport.deref() === undefined && lastNode!.deref() === undefined);
      return { nodes: {}, issues: [] };
    },
  };
  const good = new Settable('good');
  good.nodes = { 'process;h;1;1': n('a') };
  // The sink keeps nothing, as the publisher keeps only the encoded bytes.
  const probe = new Probe({ identity, collectors: [watcher, good], sink: () => undefined, clock: () => clock.now });
  let r: FullReport | null = await probe.fullPass();
  lastReport = new WeakRef(r);
  lastNode = new WeakRef(r.topologies.process.nodes['process;h;1;1']!);
  r = null;
  // A WeakRef's target is kept until the current task ends: let it end.
  await new Promise((resolve) => setImmediate(resolve));
  // Fresh node objects for the next pass, as the real collectors make.
  good.nodes = { 'process;h;1;1': n('a2') };
  clock.now += 15_000;
  const r2 = await probe.fullPass();
  t.same(freedWhenCollecting, [false, true], 'during the second pass the first report and its nodes were gone');
  t.equal(r2.topologies.process.nodes['process;h;1;1']!.latest['v']!.v, 'a2');
  // Deltas still have their base once the full pass is done.
  good.nodes = { 'process;h;1;1': n('a3') };
  const d = await probe.deltaPass(['good']);
  t.equal(d?.kind, 'delta');
  t.same(Object.keys(d?.kind === 'delta' ? (d.patches?.process ?? {}) : {}), ['process;h;1;1'], 'the delta against the new full report (its node patched)');
});
