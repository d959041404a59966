/**
 * Process nodes updated in place between passes (ProbeOptions.reuseNodes,
 * ProcessesCollector.collect), on this machine's /proc: a report never
 * changes while its sink says it reads it, nor when it went to a caller of
 * fullPass; once nothing reads it, the next full pass updates its nodes in
 * place, and what that pass reports is the report a fresh node would give.
 */
import t, { type Test } from 'tap';
import { applyDelta, hostNodeId, validateReport, type DeltaReport, type FullReport, type Report } from '../../runtime/report';
import { ProcessesCollector } from '../../runtime/probe/collectors/processes';
import { Probe } from '../../runtime/probe/probe';

const identity = { hostname: 'h', hostId: hostNodeId('h'), probeId: 'h/1' };
const RING = 3;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A running probe whose sink holds each full report until the test releases it (deltas are
 * released at once). `fullEvery` 1 unless given: every pass a full report.
 */
function loop(t: Test, fullEvery = 1) {
  const sent: { report: FullReport; json: string; release: () => void }[] = [];
  /** Every report as its JSON at emission, and as the object, in order. */
  const texts: string[] = [];
  const objects: Report[] = [];
  /** Release each report as soon as the sink returned (as the publisher's encoding does, a bit later). */
  const mode = { auto: false };
  const probe = new Probe({
    identity,
    // Rings of three (the default is one sample): the in-place update must carry the older ones over.
    collectors: [new ProcessesCollector({ identity, ring: RING })],
    intervalMs: 60,
    fullEvery,
    reuseNodes: true,
    sink: (r: Report) => {
      texts.push(JSON.stringify(r));
      objects.push(r);
      let release!: () => void;
      const held = new Promise<void>((res) => (release = res));
      if (r.kind === 'full') sent.push({ report: r, json: JSON.stringify(r), release });
      if (mode.auto || r.kind !== 'full') queueMicrotask(release);
      return held;
    },
  });
  t.teardown(() => probe.stop());
  const waitFor = async (n: number): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while (sent.length < n && Date.now() < deadline) await sleep(10);
    if (sent.length < n) throw new Error(`only ${sent.length} of ${n} reports`);
  };
  return { probe, sent, texts, objects, waitFor, mode };
}

const ownNode = (r: FullReport) => Object.entries(r.topologies.process.nodes).find(([, n]) => n.latest.pid?.v === process.pid)!;

t.test('a report the sink still holds does not change; once released, the next pass updates its nodes in place', async (t) => {
  const { probe, sent, waitFor, mode } = loop(t);
  probe.start();
  await waitFor(4);
  // Nothing released yet: every pass made new nodes, and the first report is as it was emitted.
  t.equal(JSON.stringify(sent[0]!.report), sent[0]!.json, 'held report unchanged after three more passes');
  t.not(ownNode(sent[1]!.report)[1], ownNode(sent[2]!.report)[1], 'a node is new while a report is held');
  mode.auto = true;
  for (const s of sent) s.release();
  const from = sent.length;
  await waitFor(from + 4);
  // Passes that started after the release run with nothing held.
  const a = sent[from + 2]!;
  const b = sent[from + 3]!;
  const [id, nodeA] = ownNode(a.report);
  t.equal(b.report.topologies.process.nodes[id], nodeA, 'the same node object, updated in place');
  t.not(a.json, JSON.stringify(a.report), 'the released report changed: its node was reused');
  // What the reused node says at its emission is a whole, valid report with the new sample.
  const decoded = JSON.parse(b.json) as FullReport;
  t.ok(validateReport(decoded).ok, 'valid');
  const rss = decoded.topologies.process.nodes[id]!.metrics.memory_rss_bytes!.samples;
  t.equal(rss[rss.length - 1]![0], b.report.timestamp, 'newest rss sample is the pass time');
  t.same(Object.keys(decoded.topologies.process.nodes[id]!.metrics), ['cpu_percent', 'memory_rss_bytes'], 'keys in the order of a new node');
  const prev = (JSON.parse(a.json) as FullReport).topologies.process.nodes[id]!.metrics.memory_rss_bytes!.samples;
  t.same(rss.slice(0, -1), prev.slice(Math.max(0, prev.length + 1 - RING)), 'older samples carried over, ring bounded');
});

t.test("a report returned by fullPass never changes, even with reuseNodes", async (t) => {
  const { probe, sent, waitFor, mode } = loop(t);
  mode.auto = true;
  const first = await probe.fullPass();
  const json = JSON.stringify(first);
  probe.start();
  await waitFor(6);
  t.equal(JSON.stringify(first), json, 'unchanged after passes that reused nodes');
  t.not(ownNode(sent[1]!.report)[1], ownNode(first)[1], 'the pass after it made new nodes');
  const last = sent[sent.length - 1]!.report;
  t.equal(ownNode(last)[1], ownNode(sent[sent.length - 2]!.report)[1], 'later passes reuse');
});

t.test('without reuseNodes every pass makes new nodes', async (t) => {
  const sent: FullReport[] = [];
  const probe = new Probe({ identity, collectors: [new ProcessesCollector({ identity })], intervalMs: 60, sink: (r) => void (r.kind === 'full' && sent.push(r)) });
  t.teardown(() => probe.stop());
  probe.start();
  const deadline = Date.now() + 20_000;
  while (sent.length < 3 && Date.now() < deadline) await sleep(10);
  t.not(ownNode(sent[1]!)[1], ownNode(sent[2]!)[1]);
});

t.test('between full reports the nodes are updated in place too, and each delta still says what changed', async (t) => {
  const { probe, texts, objects, mode } = loop(t, 3);
  mode.auto = true;
  probe.start();
  const deadline = Date.now() + 20_000;
  while (texts.length < 9 && Date.now() < deadline) await sleep(10);
  const reports = texts.slice(0, 9).map((j) => JSON.parse(j) as Report);
  t.same(reports.map((r) => r.kind), ['full', 'delta', 'delta', 'full', 'delta', 'delta', 'full', 'delta', 'delta']);
  let base: FullReport | null = null;
  let checked = 0;
  for (const r of reports) {
    t.ok(validateReport(r).ok, `report ${r.seq} valid`);
    if (r.kind === 'full') {
      base = r;
      continue;
    }
    // The base's nodes were updated in place by this pass (nothing held them): the texts still
    // tell the new samples from the base's, so this process's node is patched with them.
    const id = ownNode(base!)[0];
    const patch = (r as DeltaReport).patches?.process?.[id];
    t.ok(patch?.metrics !== undefined, `delta ${r.seq} carries this process's new metrics`);
    const now = applyDelta(base!, r as DeltaReport);
    const rss = now.topologies.process.nodes[id]!.metrics.memory_rss_bytes!.samples;
    t.equal(rss[rss.length - 1]![0], r.timestamp, `delta ${r.seq}: the newest rss sample is its pass's`);
    checked++;
  }
  t.equal(checked, 6);
  const id = ownNode(reports[3] as FullReport)[0];
  const metricsOf = (i: number) => (objects[i] as DeltaReport).patches?.process?.[id]?.metrics;
  t.equal(metricsOf(4), metricsOf(5), 'two deltas in a row patch with the same metrics record: updated in place, not made anew');
});
