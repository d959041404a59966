/**
 * A view watched, left alone while it changes, then watched again: the newcomer's full view
 * may come from the render made before the changes (hub.subscribe builds a new topic from the
 * last render, and unsubscribe drops the view's changed ids and pending latency when the last
 * subscriber leaves), but the renderer itself keeps every change noted since that render, so
 * the next tick's delta brings the newcomer to the model's state. Checked here: full view plus
 * deltas equals a fresh REST render, with and without a REST render while nobody watched.
 */
import t from 'tap';
import { SimProbe, loadTemplates, type FleetShape } from './fleet';
import { FeedClient, TOKENS, http, inspect, postReport, startApp, wsUrl } from './helpers';
import type { MonitoringApp } from '../../runtime/app/server';
import { FeedView } from '../helpers/feed-view';

const SHAPE: FleetShape = { probes: 3, containersPerProbe: 3, processesPerProbe: 8, connectionsPerProbe: 1 };
type Node = { id: string };

/** The client's view: its full view with every delta after it applied, id → serialisation. */
function applied(c: FeedClient): Map<string, string> {
  const full = c.messages.find((m) => m.type === 'full');
  const view = new FeedView();
  if (full) view.apply(full);
  for (const m of c.messages) if (m.type === 'delta' && m.seq > full.seq) view.apply(m);
  return view.snapshot();
}

async function restView(app: MonitoringApp): Promise<Map<string, string>> {
  const r = await http(app, 'GET', '/api/topology/containers', { token: TOKENS.viewer });
  if (r.status !== 200) throw new Error(`GET /api/topology/containers: ${r.status} ${r.text}`);
  return new Map((r.json.nodes as Node[]).map((n) => [n.id, JSON.stringify(n)]));
}

async function unwatched(app: MonitoringApp): Promise<void> {
  const deadline = Date.now() + 3000;
  for (let topics = (await inspect(app)).topics; topics > 0; topics = (await inspect(app)).topics) {
    if (Date.now() > deadline) throw new Error(`the view is still watched (${topics} topics)`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const restBetween of [false, true]) {
  t.test(`a client joining after changes made while nobody watched converges${restBetween ? ' (REST render meanwhile)' : ''}`, async (t) => {
    // restMaxAgeMs is 500 ms: a REST answer may reuse a younger render, so the comparison waits past it.
    const app = await startApp({ renderIntervalMs: 20 });
    t.teardown(() => app.stop());
    const tpl = await loadTemplates();
    const probes = Array.from({ length: SHAPE.probes }, (_, i) => new SimProbe(i, SHAPE, tpl));
    for (const p of probes) await postReport(app, p.next(Date.now()));

    const a = new FeedClient(wsUrl(app, '/api/topology/containers/ws'), TOKENS.viewer);
    const before = await a.waitFor((m) => m.type === 'full');
    a.close();
    await a.waitClosed();
    await unwatched(app);

    probes[0]!.flip(1);
    await postReport(app, probes[0]!.next(Date.now()));
    if (restBetween) await restView(app);
    probes[2]!.flip(0);
    await postReport(app, probes[2]!.next(Date.now()));

    const b = new FeedClient(wsUrl(app, '/api/topology/containers/ws'), TOKENS.viewer);
    t.teardown(() => b.close());
    const bFull = await b.waitFor((m) => m.type === 'full');
    await new Promise((r) => setTimeout(r, 600));
    const want = await restView(app);
    t.not(JSON.stringify([...want]), JSON.stringify(before.nodes.map((n: Node) => [n.id, JSON.stringify(n)])), 'the view changed while nobody watched');
    const stale = JSON.stringify(bFull.nodes.map((n: Node) => [n.id, JSON.stringify(n)]).sort()) !== JSON.stringify([...want].sort());
    if (!restBetween) t.ok(stale, 'the newcomer\'s full view came from the render made before the changes');
    // Bounded wait for the delta that brings the newcomer up to date.
    const deadline = Date.now() + 5000;
    while (JSON.stringify([...applied(b)].sort()) !== JSON.stringify([...want].sort()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.same([...applied(b)].sort(), [...want].sort(), 'full view plus deltas equals the current view');
  });
}
