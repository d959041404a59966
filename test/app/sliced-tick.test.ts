/**
 * The hub's timer-driven tick renders one watched view per event-loop turn (so a search or a
 * report waits behind one view, not all of them). Checked here with the real model, renderer
 * and hub: the views of one tick are published in different turns; reports that arrive between
 * two slices end up in every topic; each topic's seqs run 1, 2, 3… with no gap or repeat; and
 * each topic's full message plus its deltas equals the view rendered from scratch at the end.
 */
import t from 'tap';
import { LiveModel } from '../../runtime/app/model';
import type { Filters, ViewId } from '../../runtime/app/views/catalog';
import { passes } from '../../runtime/app/views/filter';
import { ViewHub } from '../../runtime/app/views/hub';
import { ViewRenderer } from '../../runtime/app/views/render';
import { SimProbe, loadTemplates, type FleetShape } from './fleet';
import { FeedView } from '../helpers/feed-view';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('a sliced tick publishes each view in its own turn, in seq order, and converges to the model', async (t) => {
  const tpl = await loadTemplates();
  const shape: FleetShape = { probes: 6, containersPerProbe: 3, processesPerProbe: 8, connectionsPerProbe: 1, ring: 3 };
  let clock = 1_700_000_000_000;
  const model = new LiveModel({ intervalMs: 1000, now: () => clock });
  const probes = Array.from({ length: shape.probes }, (_, i) => new SimProbe(i, shape, tpl));
  for (const p of probes) model.ingest(p.next(clock), 'tok', clock);

  // A turn counter: bumped by a microtask queued at the first publish of a turn. Microtasks run
  // as soon as the callback that published returns, before any other timer or immediate (an
  // immediate here let the next tick's timer publish in between on a slow machine).
  let turn = 0;
  let bumpQueued = false;
  const published: Array<{ topic: string; seq: number; turn: number }> = [];
  const state = new Map<string, FeedView>();
  let injected = 0;
  const hub = new ViewHub(model, {
    minIntervalMs: 5,
    publish: (topic, msg) => {
      if (!bumpQueued) {
        bumpQueued = true;
        queueMicrotask(() => {
          turn++;
          bumpQueued = false;
        });
      }
      const m = JSON.parse(msg);
      published.push({ topic, seq: m.seq, turn });
      const s = state.get(topic)!;
      s.apply(m);
      // A report arriving between two slices of a tick (once in a while).
      if (topic.startsWith('view/containers?') && injected < 5) {
        injected++;
        setImmediate(() => {
          clock += 50;
          const p = probes[injected % shape.probes]!;
          p.flip(injected % 3);
          model.ingest(p.full(clock), 'tok', clock);
        });
      }
    },
  });
  t.teardown(() => hub.close());
  const subs: Array<[ViewId, Filters]> = [
    ['containers', {}],
    ['containers', { namespace: 'shop' }],
    ['hosts', {}],
    ['processes', { system: 'application' }],
  ];
  for (const [v, f] of subs) {
    const { topic, full } = hub.subscribe(v, f);
    state.set(topic, new FeedView());
    state.get(topic)!.apply(JSON.parse(full));
  }
  for (let step = 0; step < 30; step++) {
    clock += 100;
    const p = probes[step % shape.probes]!;
    if (step % 2 === 0) p.flip(step % 3);
    try {
      model.ingest(p.next(clock), 'tok', clock);
    } catch {
      model.ingest(p.full(clock), 'tok', clock);
    }
    await sleep(step % 3 === 0 ? 15 : 1);
  }
  // Quiet: no publish for a while means the last tick (and any it scheduled) is done.
  for (let seen = -1; seen !== published.length; ) {
    seen = published.length;
    await sleep(100);
  }

  t.ok(injected > 0, 'reports arrived between slices');
  const viewOf = (topic: string): string => topic.slice('view/'.length, topic.indexOf('?'));
  const byTurn = new Map<number, Set<string>>();
  for (const p of published) {
    let views = byTurn.get(p.turn);
    if (!views) byTurn.set(p.turn, (views = new Set()));
    views.add(viewOf(p.topic));
  }
  t.ok([...byTurn.values()].every((views) => views.size === 1), 'each turn published the topics of one view only');
  t.ok(new Set(published.map((p) => viewOf(p.topic))).size === 3, 'all three views published');
  // A tick may still be due: the hub waits three times the last tick's work between ticks, which
  // under a loaded machine outlasts the quiet above. Whatever is left is published now, in one call.
  hub.tick();
  for (const [v, f] of subs) {
    const topic = ViewHub.topicName(v, f);
    const seqs = published.filter((p) => p.topic === topic).map((p) => p.seq);
    t.ok(seqs.length > 0, `${topic} got deltas`);
    t.same(seqs, seqs.map((_, i) => i + 1), `${topic}: seqs 1…${seqs.length} in order`);
    const expected = new Map<string, string>();
    for (const [id, n] of new ViewRenderer(model, v).render(0).view.nodes) if (passes(f, n.facets)) expected.set(id, JSON.stringify(JSON.parse(n.json)));
    t.same(Object.fromEntries([...state.get(topic)!.snapshot()].sort()), Object.fromEntries([...expected].sort()), `${topic} equals the model`);
  }
});

t.test('a change that a REST answer rendered before the tick is still published by that tick', async (t) => {
  const tpl = await loadTemplates();
  const shape: FleetShape = { probes: 2, containersPerProbe: 3, processesPerProbe: 4, connectionsPerProbe: 1 };
  let clock = 1_700_000_000_000;
  const model = new LiveModel({ intervalMs: 1000, now: () => clock });
  const probes = Array.from({ length: shape.probes }, (_, i) => new SimProbe(i, shape, tpl));
  for (const p of probes) model.ingest(p.full(clock), 'tok', clock);
  const deltas: Array<{ seq: number; update: Array<{ id: string }> }> = [];
  // A long pause between ticks: the REST answer below comes first, as it did in the UI test.
  const hub = new ViewHub(model, { minIntervalMs: 200, restMaxAgeMs: 0, publish: (_topic, msg) => deltas.push(JSON.parse(msg)) });
  t.teardown(() => hub.close());
  const { seq } = hub.subscribe('containers', {} as Filters);
  await sleep(300); // the subscribe's own tick, if any, is over
  const before = deltas.length;
  clock += 1000;
  probes[1]!.flip(2);
  model.ingest(probes[1]!.full(clock), 'tok', clock);
  const id = [...hub.current('containers').nodes.values()].find((n) => n.json.includes('"paused"'))?.json;
  t.ok(id, 'the REST answer has the container paused (it rendered the view: the view is clean now)');
  for (const deadline = Date.now() + 3000; deltas.length === before && Date.now() < deadline; ) await sleep(20);
  t.equal(deltas.length, before + 1, 'the tick published the change all the same');
  const d = deltas.at(-1)!;
  t.ok(d.seq > seq);
  t.ok(d.update.some((u) => JSON.stringify(u).includes('"paused"')), 'with the container paused');
});
