/**
 * The incremental path: after any sequence of reports (deltas, fulls, probes
 * restarting with other shapes, removed or gone stale, containers renamed,
 * re-imaged, moved between namespaces, processes moved between containers,
 * connections added and dropped), a view rendered incrementally equals the same
 * view rendered from scratch, and a WebSocket topic's state (its full message
 * plus every delta since) equals the view filtered now. A property test over
 * seeded random sequences.
 */
import t from 'tap';
import { LiveModel } from '../../runtime/app/model';
import { VIEW_IDS, type Filters, type ViewId } from '../../runtime/app/views/catalog';
import { passes } from '../../runtime/app/views/filter';
import { ViewHub } from '../../runtime/app/views/hub';
import { ChangeClassifier, ViewRenderer, type ChangeKind, type RenderedView } from '../../runtime/app/views/render';
import type { FullReport, ReportNode } from '../../runtime/report';
import { SimProbe, loadTemplates, seededRandom as rng, type FleetShape } from './fleet';
import { FeedView } from '../helpers/feed-view';

function snapshot(r: RenderedView): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, n] of [...r.nodes].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const inc = [...(r.incoming.get(id)?.keys() ?? [])].sort().join(',');
    out[id] = `${n.json}|${JSON.stringify(n.facets)}|${[...n.members].join(',')}|${inc}`;
  }
  return out;
}

/** A report with one random edit the simulator does not make on its own. */
function mutate(r: FullReport, rand: () => number): FullReport {
  const topo = { ...r.topologies } as Record<string, { nodes: Record<string, ReportNode> }>;
  const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(rand() * xs.length)];
  const edit = (t: string, f: (n: ReportNode, id: string) => ReportNode | null): void => {
    const nodes = { ...topo[t]!.nodes };
    const id = pick(Object.keys(nodes));
    if (id === undefined) return;
    const next = f(nodes[id]!, id);
    if (next === null) delete nodes[id];
    else nodes[id] = next;
    topo[t] = { nodes };
  };
  const setLatest = (n: ReportNode, k: string, v: string): ReportNode => ({ ...n, latest: { ...n.latest, [k]: { ts: 2, v } } });
  switch (Math.floor(rand() * 8)) {
    case 0:
      edit('container', (n) => setLatest(n, 'name', `renamed-${Math.floor(rand() * 3)}`));
      break;
    case 1:
      edit('container', (n) => setLatest(n, 'image', pick(['docker.io/library/nginx:1.26', 'quay.io/x/y:1', 'registry.local/z'])!));
      break;
    case 2:
      edit('pod', (n) => setLatest(n, 'namespace', pick(['shop', 'kube-system', 'other'])!));
      break;
    case 3: {
      const containers = Object.keys(topo.container!.nodes);
      edit('process', (n) => ({ ...n, parents: { ...n.parents, container: containers.length > 0 && rand() < 0.7 ? [pick(containers)!] : undefined } as ReportNode['parents'] }));
      break;
    }
    case 4: {
      const endpoints = Object.keys(topo.endpoint!.nodes);
      edit('process', (n) => ({ ...n, adjacency: rand() < 0.5 || endpoints.length === 0 ? [] : [pick(endpoints)!] }));
      break;
    }
    case 5:
      edit('container', () => null);
      break;
    case 6:
      edit('process', (n) => setLatest(n, 'name', pick(['nginx', 'zzz', ''])!));
      break;
    default:
      edit('container', (n) => setLatest(n, 'state', pick(['running', 'exited', 'paused'])!));
  }
  return { ...r, topologies: topo as unknown as FullReport['topologies'] };
}

t.test('incremental renders equal renders from scratch after random report sequences', async (t) => {
  const tpl = await loadTemplates();
  for (let seed = 1; seed <= 12; seed++) {
    const rand = rng(seed * 7919);
    let clock = 1_700_000_000_000;
    const model = new LiveModel({ intervalMs: 1000, now: () => clock });
    const classifier = new ChangeClassifier(model);
    const renderers = new Map<ViewId, ViewRenderer>(VIEW_IDS.map((v) => [v, new ViewRenderer(model, v)]));
    model.onChange((c) => {
      const kind = classifier.classify(c.changed);
      for (const r of renderers.values()) r.note(c.changed, kind);
    });
    const n = 3 + Math.floor(rand() * 3);
    const shape = (): FleetShape => ({ probes: n, containersPerProbe: 1 + Math.floor(rand() * 4), processesPerProbe: 4 + Math.floor(rand() * 6), connectionsPerProbe: 1 + Math.floor(rand() * 2), ring: 3 });
    const probes: SimProbe[] = Array.from({ length: n }, (_, i) => new SimProbe(i, shape(), tpl));
    let generation = 1;
    let fullSteps = 0;
    for (let step = 0; step < 60; step++) {
      clock += 100 + Math.floor(rand() * 400);
      const i = Math.floor(rand() * n);
      const op = rand();
      try {
        if (op < 0.45) {
          if (rand() < 0.3) probes[i]!.flip(Math.floor(rand() * 3));
          model.ingest(probes[i]!.next(clock), 'tok', clock);
        } else if (op < 0.7) {
          model.ingest(mutate(probes[i]!.full(clock), rand), 'tok', clock);
        } else if (op < 0.8) {
          probes[i] = new SimProbe(i, shape(), tpl, generation++);
          model.ingest(probes[i]!.full(clock), 'tok', clock);
        } else if (op < 0.87) {
          model.removeProbe(probes[i]!.probeId);
        } else {
          clock += 3500 + Math.floor(rand() * 8000);
          model.sweep();
        }
      } catch {
        // a delta on a forgotten base (409): the probe sends a full report next
        model.ingest(probes[i]!.full(clock), 'tok', clock);
      }
      // Render some views now and some later, as watched and unwatched views are.
      for (const [v, r] of renderers) {
        if (rand() < 0.6) {
          const out = r.render(clock);
          if (out.full) fullSteps++;
        }
        if (step % 10 === 9 || step === 59) {
          const incremental = snapshot(r.render(clock).view);
          const scratch = snapshot(new ViewRenderer(model, v).render(clock).view);
          t.same(incremental, scratch, `seed ${seed} step ${step} view ${v}`);
        }
      }
    }
    t.ok(fullSteps < 60 * VIEW_IDS.length, 'not every render is a full one');
  }
});

t.test('metrics-only reports render incrementally: only the reporting probe’s nodes change', async (t) => {
  const tpl = await loadTemplates();
  const shape: FleetShape = { probes: 20, containersPerProbe: 4, processesPerProbe: 10, connectionsPerProbe: 2 };
  const probes = Array.from({ length: shape.probes }, (_, i) => new SimProbe(i, shape, tpl));
  let clock = Date.now();
  const model = new LiveModel({ now: () => clock });
  const classifier = new ChangeClassifier(model);
  const r = new ViewRenderer(model, 'containers');
  let kind: ChangeKind | null = null;
  model.onChange((c) => {
    kind = classifier.classify(c.changed);
    r.note(c.changed, kind);
  });
  for (const p of probes) model.ingest(p.next(clock), 'tok', clock);
  t.equal(r.render(clock).full, true);
  clock += 1000;
  model.ingest(probes[3]!.next(clock), 'tok', clock);
  t.equal(kind!.structural, false, 'new metric samples are not structural');
  t.same(kind!.edgeSources, { process: [], endpoint: [] }, 'and no process’s edges are lifted again for them');
  const out = r.render(clock);
  t.equal(out.full, false);
  t.same([...out.changed].sort(), Array.from({ length: 4 }, (_, c) => `container;${probes[3]!.containerId(c)}`).sort(), 'the probe’s containers, nothing else');
});

t.test('a topic’s full message plus its deltas equals the filtered view, whatever the sequence', async (t) => {
  const tpl = await loadTemplates();
  const shape: FleetShape = { probes: 4, containersPerProbe: 3, processesPerProbe: 8, connectionsPerProbe: 1, ring: 3 };
  const rand = rng(42);
  let clock = 1_700_000_000_000;
  const model = new LiveModel({ intervalMs: 1000, now: () => clock });
  const state = new Map<string, FeedView>();
  const hub = new ViewHub(model, {
    minIntervalMs: 1e9,
    publish: (topic, msg) => {
      const m = JSON.parse(msg);
      const s = state.get(topic)!;
      s.apply(m);
    },
  });
  t.teardown(() => hub.close());
  const probes = Array.from({ length: shape.probes }, (_, i) => new SimProbe(i, shape, tpl));
  for (const p of probes) model.ingest(p.next(clock), 'tok', clock);
  const subs: Array<[ViewId, Filters]> = [
    ['containers', {}],
    ['containers', { namespace: 'shop' }],
    ['containers', { status: 'stopped' }],
    ['hosts', { unconnected: 'hide' }],
    ['containers-by-image', {}],
    ['processes-by-name', { system: 'application' }],
    ['pods', {}],
  ];
  for (const [v, f] of subs) {
    const { topic, full } = hub.subscribe(v, f);
    const m = JSON.parse(full);
    state.set(topic, new FeedView());
    state.get(topic)!.apply(m);
  }
  for (let step = 0; step < 80; step++) {
    clock += 200;
    const i = Math.floor(rand() * shape.probes);
    if (rand() < 0.5) probes[i]!.flip(Math.floor(rand() * 3));
    if (rand() < 0.3) model.ingest(mutate(probes[i]!.full(clock), rand), 'tok', clock);
    else {
      try {
        model.ingest(probes[i]!.next(clock), 'tok', clock);
      } catch {
        model.ingest(probes[i]!.full(clock), 'tok', clock);
      }
    }
    if (rand() < 0.2) hub.current('containers'); // a REST render between ticks
    if (rand() < 0.5) hub.tick();
  }
  hub.tick();
  for (const [v, f] of subs) {
    const expected = new Map<string, string>();
    for (const [id, n] of new ViewRenderer(model, v).render(0).view.nodes) if (passes(f, n.facets)) expected.set(id, JSON.stringify(JSON.parse(n.json)));
    t.same(Object.fromEntries([...state.get(ViewHub.topicName(v, f))!.snapshot()].sort()), Object.fromEntries([...expected].sort()), `${v} ${JSON.stringify(f)}`);
  }
});
