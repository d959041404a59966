/**
 * A client that got a topic's full view at seq s and then everything `deltasAfter(s)` gives it
 * (the kept deltas, or one `catchup` message once they are gone) holds exactly the topic's view
 * now, whatever happened in between: updates, containers stopped and started, a probe gone and
 * its nodes removed, ids coming back; a catch-up shared by the clients at the same seq may end
 * before the topic's seq, and the client asks again from its end. When the topic no longer
 * remembers every removal after s (its tombstones were pruned), `deltasAfter` says so (null:
 * the client needs a newer full view) rather than give a wrong view.
 */
import t from 'tap';
import { LiveModel } from '../../runtime/app/model';
import { RECENT_DELTAS, ViewHub } from '../../runtime/app/views/hub';
import { SimProbe, loadTemplates, seededRandom, type FleetShape } from './fleet';
import { FeedView } from '../helpers/feed-view';

const SHAPE: FleetShape = { probes: 6, containersPerProbe: 4, processesPerProbe: 6, connectionsPerProbe: 1, ring: 2 };
/** Rings that slide one sample per report, as a live probe's do: updates carry `metricsTail`. */
const SLIDING: FleetShape = { ...SHAPE, ring: 3, slidingRings: true };

/** A copy of a held view. */
function copy(v: FeedView): FeedView {
  const c = new FeedView();
  c.apply({ type: 'full', nodes: [...v.nodes.values()] });
  return c;
}

async function setup(maxTombstones?: number, shape = SHAPE) {
  const tpl = await loadTemplates();
  let clock = 1_700_000_000_000;
  const model = new LiveModel({ now: () => clock });
  const hub = new ViewHub(model, { minIntervalMs: 1e9, publish: () => undefined, ...(maxTombstones !== undefined ? { maxTombstones } : {}) });
  const probes = Array.from({ length: shape.probes }, (_, i) => new SimProbe(i, shape, tpl));
  for (const p of probes) model.ingest(p.next(clock), 'tok', clock);
  const { topic } = hub.subscribe('containers', {});
  const rnd = seededRandom(7);
  let round = 0;
  /** One step of change: reports (metrics move, containers flip), now and then a probe replaced or gone. */
  const step = (): void => {
    clock += 1000;
    const i = Math.floor(rnd() * probes.length);
    const r = rnd();
    if (r < 0.1) {
      model.removeProbe(probes[i]!.probeId);
      probes[i] = new SimProbe(i, { ...shape, containersPerProbe: 1 + Math.floor(rnd() * 4) }, tpl, ++round);
      model.ingest(probes[i]!.full(clock), 'tok', clock);
    } else {
      if (r < 0.5) probes[i]!.flip(Math.floor(rnd() * shape.containersPerProbe));
      model.ingest(probes[i]!.next(clock), 'tok', clock);
    }
    hub.tick();
  };
  /** The view as the last tick rendered it (no filter: every node of the render). */
  const now = (): FeedView => {
    const v = new FeedView();
    v.apply({ type: 'full', nodes: [...hub.current('containers').nodes.values()].map((n) => JSON.parse(n.json)) });
    return v;
  };
  return { hub, topic, step, now };
}

for (const [rings, shape] of [['recomputed', SHAPE], ['sliding', SLIDING]] as const)
t.test(`full view at s + deltasAfter(s) = the view now, from kept deltas and from catch-ups (${rings} rings)`, async (t) => {
  const { hub, topic, step, now } = await setup(undefined, shape);
  let tails = 0;
  // Views held by clients that joined at various seqs, kept as they were then.
  const held: Array<{ seq: number; view: FeedView }> = [];
  let catchups = 0;
  let kept = 0;
  let shared = 0;
  for (let i = 0; i < 400; i++) {
    step();
    if (i % 9 === 0) held.push({ seq: hub.topicSeq(topic)!, view: now() });
    if (i % 23 !== 0) continue;
    const want = now().snapshot();
    for (const h of held) {
      const view = copy(h.view);
      let seq = h.seq;
      for (let asked = 0; ; asked++) {
        const after = hub.deltasAfter(topic, seq);
        if (after === null) throw new Error(`no catch-up from seq ${seq}`);
        for (const m of after.messages) view.apply(JSON.parse(m));
        for (const m of after.messages) if (m.includes('"metricsTail":')) tails++;
        if (after.messages.some((m) => m.startsWith('{"type":"catchup"'))) catchups++;
        else if (after.messages.length > 0) kept++;
        if (after.current) break;
        shared++;
        if (asked > 3) throw new Error(`still not current after ${asked} catch-ups from seq ${h.seq}`);
        seq = after.seq;
      }
      t.same([...view.snapshot()].sort(), [...want].sort(), `from seq ${h.seq} to ${hub.topicSeq(topic)}`);
    }
  }
  t.ok(hub.topicSeq(topic)! > RECENT_DELTAS * 2, `the topic moved on far past the deltas it keeps (seq ${hub.topicSeq(topic)})`);
  t.ok(catchups > 0 && kept > 0, `both ways were checked (${catchups} catch-ups, ${kept} from kept deltas)`);
  t.ok(shared > 0, `and shared catch-ups that ended before the topic's seq (${shared})`);
  if (rings === 'sliding') t.ok(tails > 0, `updates carried slid metric rings as metricsTail (${tails} messages)`);
  hub.close();
});

t.test('once removals older than a client were forgotten, no catch-up is offered', async (t) => {
  const { hub, topic, step } = await setup(2);
  const seq0 = hub.topicSeq(topic)!;
  for (let i = 0; i < RECENT_DELTAS * 3; i++) step();
  t.equal(hub.deltasAfter(topic, seq0), null, 'null: the client needs a newer full view');
  const seqNow = hub.topicSeq(topic)!;
  t.same(hub.deltasAfter(topic, seqNow), { seq: seqNow, messages: [], current: true }, 'a client at the current seq needs nothing');
  hub.close();
});
