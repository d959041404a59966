/**
 * Views rendered from the model, node detail, search, probes, metrics, and a
 * probe's life: stale after 3 intervals, removed later, whole again when it
 * reports again.
 */
import t from 'tap';
import { SimProbe, loadTemplates, type FleetShape } from './fleet';
import { TOKENS, http, inspect, postReport, startApp } from './helpers';
import type { MonitoringApp } from '../../runtime/app/server';
import { VIEW_IDS } from '../../runtime/app/views/catalog';

const SHAPE: FleetShape = { probes: 3, containersPerProbe: 3, processesPerProbe: 8, connectionsPerProbe: 1 };

async function fleet(app: MonitoringApp, shape = SHAPE): Promise<SimProbe[]> {
  const tpl = await loadTemplates();
  const probes = Array.from({ length: shape.probes }, (_, i) => new SimProbe(i, shape, tpl));
  for (const p of probes) {
    const r = await postReport(app, p.next(Date.now()));
    if (r.status !== 202) throw new Error(`fleet report refused: ${r.text}`);
  }
  return probes;
}

const get = (app: MonitoringApp, path: string) => http(app, 'GET', path, { token: TOKENS.viewer });
const byId = (nodes: Array<{ id: string }>) => new Map(nodes.map((n) => [n.id, n as any])); // eslint-disable-line @typescript-eslint/no-explicit-any

t.test('every view renders from the model, with edges joined across probes', async (t) => {
  const app = await startApp();
  t.teardown(() => app.stop());
  const probes = await fleet(app);
  // A second report from each probe (one sample per metric each, as the probe sends): the app keeps the history.
  for (const p of probes) t.equal((await postReport(app, p.next(Date.now() + 15_000))).status, 202);
  const list = await get(app, '/api/topology');
  t.equal(list.status, 200);
  const counts = Object.fromEntries(list.json.map((v: { id: string; nodes: number }) => [v.id, v.nodes]));
  t.same(counts, {
    processes: 24,
    'processes-by-name': 8,
    containers: 9,
    'containers-by-image': 3,
    pods: 9,
    services: 0,
    controllers: 0,
    hosts: 3,
  });

  const hosts = byId((await get(app, '/api/topology/hosts')).json.nodes);
  // Each host's client connects to the next host's server: a ring of three edges, one per pair.
  t.same(hosts.get('host;host-0000').adjacency, ['host;host-0001']);
  t.same(hosts.get('host;host-0002').adjacency, ['host;host-0000']);
  const h0 = hosts.get('host;host-0000');
  t.equal(h0.label, 'host-0000');
  t.equal(h0.shape, 'circle');
  t.equal(h0.metrics.find((m: { id: string }) => m.id === 'cpu_percent').samples.length, 2, 'metrics carry a short history, one sample from each report');
  t.same(h0.children, [{ topology: 'process', count: 8 }, { topology: 'container', count: 3 }, { topology: 'pod', count: 3 }]);

  const containers = byId((await get(app, '/api/topology/containers')).json.nodes);
  const c0 = containers.get(`container;${probes[0]!.containerId(0)}`);
  t.same(c0.adjacency, [`container;${probes[1]!.containerId(0)}`], 'container on host A → container on host B is one edge');
  t.equal(c0.labelMinor, 'docker.io/library/nginx:1.25');
  t.same(c0.controls.map((c: { id: string }) => c.id), ['logs', 'pause', 'restart', 'stop']);
  t.same(c0.parents.map((p: { topology: string }) => p.topology).sort(), ['host', 'pod']);
  t.same(c0.children, [{ topology: 'process', count: 2 }]);

  const pods = (await get(app, '/api/topology/pods')).json.nodes;
  t.equal(pods.filter((p: { adjacency: string[] }) => p.adjacency.length > 0).length, 3, 'pod edges through their containers');

  const byImage = byId((await get(app, '/api/topology/containers-by-image')).json.nodes);
  const nginx = [...byImage.values()].find((n) => n.label === 'docker.io/library/nginx');
  t.equal(nginx.stack, 3);
  t.equal(nginx.labelMinor, '3 containers');
  const byName = (await get(app, '/api/topology/processes-by-name')).json.nodes;
  t.equal(byName.length, 8);
});

t.test('filters: namespace, status, system, unconnected; bad ones are 400, unknown views 404', async (t) => {
  const app = await startApp();
  t.teardown(() => app.stop());
  const probes = await fleet(app);
  const ids = async (q: string) => (await get(app, `/api/topology/containers${q}`)).json.nodes.map((n: { id: string }) => n.id).sort();
  t.equal((await ids('?namespace=shop')).length, 3);
  t.equal((await ids('?system=application')).length, 6, 'kube-system containers are system');
  t.equal((await ids('?system=system')).length, 3);
  t.equal((await ids('?unconnected=hide')).length, 3, 'only the containers with an edge');
  probes[0]!.flip(1);
  // A container that exited: status=stopped shows it.
  await postReport(app, probes[0]!.full(Date.now()));
  t.equal((await ids('?status=running')).length, 9, 'paused counts as running');
  t.equal((await ids('?namespace=shop&status=running')).length, 3);

  for (const [q, code] of [
    ['?namespace=Not_A_Namespace', 'BAD_QUERY'],
    ['?status=sleeping', 'BAD_QUERY'],
    ['?colour=red', 'BAD_QUERY'],
    ['?status=running&status=stopped', 'BAD_QUERY'],
  ]) {
    const r = await get(app, `/api/topology/containers${q}`);
    t.equal(r.status, 400, q!);
    t.equal(r.json.error.code, code);
  }
  const hostsNs = await get(app, '/api/topology/hosts?namespace=shop');
  t.equal(hostsNs.status, 400, 'hosts have no namespace filter');
  t.match(hostsNs.json.error.message, /no namespace filter/);
  const unknown = await get(app, '/api/topology/bogus');
  t.equal(unknown.status, 404);
  t.equal(unknown.json.error.code, 'UNKNOWN_VIEW');
});

t.test('node detail: connections both ways, children, probes', async (t) => {
  const app = await startApp();
  t.teardown(() => app.stop());
  const probes = await fleet(app);
  const id = `container;${probes[0]!.containerId(0)}`;
  const r = await get(app, `/api/topology/containers/nodes/${encodeURIComponent(id)}`);
  t.equal(r.status, 200);
  t.same(r.json.connections.outgoing.map((c: { id: string }) => c.id), [`container;${probes[1]!.containerId(0)}`]);
  t.same(r.json.connections.incoming.map((c: { id: string }) => c.id), [`container;${probes[2]!.containerId(0)}`]);
  t.equal(r.json.children.length, 2);
  t.equal(r.json.children[0].topology, 'process');
  t.same(r.json.probes, [probes[0]!.probeId]);
  const group = (await get(app, '/api/topology/containers-by-image')).json.nodes[0];
  const g = await get(app, `/api/topology/containers-by-image/nodes/${encodeURIComponent(group.id)}`);
  t.equal(g.json.children.length, group.stack, 'a group lists its members');
  const missing = await get(app, `/api/topology/containers/nodes/${encodeURIComponent('container;nope')}`);
  t.equal(missing.status, 404);
  t.equal(missing.json.error.code, 'UNKNOWN_NODE');
});

t.test('search: free terms, field:value, ranking, limits', async (t) => {
  const app = await startApp();
  t.teardown(() => app.stop());
  await fleet(app);
  const s = async (q: string, extra = '') => (await get(app, `/api/search?q=${encodeURIComponent(q)}${extra}`)).json;
  const nginx = await s('nginx');
  t.ok(nginx.total >= 6, `nginx matches containers and processes (${nginx.total})`);
  t.equal(nginx.hits[0].label.startsWith('nginx'), true, 'label matches rank first');
  t.ok(nginx.hits.every((h: { score: number }, i: number, a: Array<{ score: number }>) => i === 0 || a[i - 1]!.score >= h.score), 'ranked');
  const redis = await s('image:redis');
  t.equal(redis.total, 3);
  t.ok(redis.hits.every((h: { topology: string; view: string }) => h.topology === 'container' && h.view === 'containers'));
  t.same(redis.hits[0].matches.map((m: { field: string }) => m.field), ['image']);
  t.equal((await s('namespace:shop topology:container')).total, 3, 'terms are ANDed');
  t.equal((await s('cmdline:serve name:sshd')).total, 3);
  t.equal((await s('host-0001 sshd')).total, 1);
  t.equal((await s('ngi')).total, nginx.total, 'prefixes match');
  t.equal((await s('zzzzzz')).total, 0);
  t.equal((await s('nginx', '&limit=2')).hits.length, 2);
  const bad = await get(app, '/api/search');
  t.equal(bad.status, 400);
  t.equal(bad.json.error.path, 'q');
  t.equal((await get(app, `/api/search?q=${'x'.repeat(300)}`)).status, 400, 'over-long queries are refused');
  t.equal((await get(app, '/api/search?q=a&limit=0')).status, 400);
  // Search latency is measured by bench/app.ts, not asserted here: timed assertions fail on a busy machine.
});

t.test('/metrics has the names the issue lists', async (t) => {
  const app = await startApp();
  t.teardown(() => app.stop());
  await fleet(app);
  await get(app, '/api/topology/containers');
  const m = (await get(app, '/metrics')).text;
  t.match(m, /^monitoring_app_probes_connected 3$/m);
  t.match(m, /^monitoring_app_containers_total 9$/m);
  t.match(m, /^monitoring_app_view_nodes\{view="containers"\} 9$/m);
  t.match(m, /^http_requests_total\{route="view",code="200"\} 1$/m);
  t.match(m, /^http_request_duration_seconds_bucket\{le="0\.1",route="view",code="200"\} 1$/m);
  t.match(m, /^monitoring_app_ingest_duration_seconds_count 3$/m);
  t.match(m, /^monitoring_app_merge_duration_seconds_count 3$/m);
  t.match(m, /^monitoring_app_reports_total\{kind="full",result="applied"\} 3$/m);
  t.match(m, /^monitoring_app_websocket_clients\{kind="view"\} 0$/m);
  t.match(m, /monitoring_app_delta_latency_seconds_bucket/);
});

t.test('/metrics: each thread\'s loop delay is its own (a stall of the front thread is not the model thread\'s)', async (t) => {
  const app = await startApp();
  t.teardown(() => app.stop());
  await fleet(app);
  const quantile = (m: string, metric: string, q: string): number => Number(new RegExp(`^${metric}\\{quantile="${q}"\\} (\\S+)$`, 'm').exec(m)?.[1]);
  await get(app, '/metrics'); // starts both intervals again
  // The app runs in this process: this loop stalls its front thread, not its model thread.
  for (const until = performance.now() + 500; performance.now() < until; );
  // Recorded when the sampling timer fires next: the scrape waits for it. The stall starts right
  // after the previous scrape, as a scrape's own work would (runtime/app/loop-delay.ts).
  await new Promise((r) => setTimeout(r, 30));
  const m = (await get(app, '/metrics')).text;
  const front = quantile(m, 'monitoring_app_event_loop_delay_seconds', '1');
  const model = quantile(m, 'monitoring_app_model_thread_loop_delay_seconds', '1');
  t.ok(front >= 0.4, `the front thread's maximum delay shows the stall (${front} s)`);
  t.ok(model < 0.4, `the model thread's does not (${model} s)`);
  for (const q of ['0.5', '0.9', '0.99']) t.ok(quantile(m, 'monitoring_app_model_thread_loop_delay_seconds', q) >= 0, `model thread quantile ${q}`);
  t.ok(Number(/^monitoring_app_model_thread_heap_bytes\{state="used"\} (\d+)$/m.exec(m)?.[1]) > 0, 'the model thread\'s heap');
});

t.test('node counts render nothing, agree with the renders, and a view left alone is dropped', async (t) => {
  const app = await startApp({ viewIdleReleaseMs: 150 });
  t.teardown(() => app.stop());
  const probes = await fleet(app);
  const gauge = async (): Promise<Map<string, number>> => {
    const m = (await get(app, '/metrics')).text;
    return new Map([...m.matchAll(/^monitoring_app_view_nodes\{view="([^"]+)"\} (\d+)$/gm)].map((x) => [x[1]!, Number(x[2])]));
  };
  const listed = async (): Promise<Map<string, number>> => new Map((await get(app, '/api/topology')).json.map((v: { id: string; nodes: number }) => [v.id, v.nodes]));
  const counts = await gauge();
  t.equal(counts.size, VIEW_IDS.length, 'one gauge per view');
  t.same(await listed(), counts, 'the list of views gives the same counts');
  const held = async (): Promise<string[]> => (await inspect(app)).held;
  t.same(await held(), [], 'a scrape and the list render nothing');
  // A structural change (a new container) between counts: the count follows the model.
  await postReport(app, probes[0]!.full(Date.now()));
  const after = await gauge();
  for (const v of VIEW_IDS) t.equal(after.get(v), (await get(app, `/api/topology/${v}`)).json.nodes.length, `${v}: the count is the rendered view's size`);
  t.ok((await held()).includes('containers'), 'a REST answer keeps its render for a while');
  // The release is a timer (150 ms here): wait for it, boundedly, rather than for a fixed time.
  for (const deadline = Date.now() + 10_000; (await held()).length > 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
  t.same(await held(), [], 'dropped once nobody asked for it');
  t.same(await gauge(), after, 'and counted the same without it');
});

t.test('a silent probe goes stale after 3 intervals, is removed later, and is whole again when it reports', async (t) => {
  // Intervals of 1 s, stale after 3 and removed after 8: each check below sits 0.5 s or more from
  // the bounds it tests, and 2 s or more from the next one (a busy machine stretching a sleep once
  // removed probe 0 before it could be seen stale, with 100 ms intervals). The model runs on its
  // own thread on the wall clock; the sweep is called here, its timer set far beyond the test.
  const app = await startApp({ model: { intervalMs: 1000, staleAfterIntervals: 3, removeAfterIntervals: 8 }, sweepIntervalMs: 3_600_000 });
  t.teardown(() => app.stop());
  const probes = await fleet(app, { ...SHAPE, probes: 2 });
  const t0 = Date.now();
  /** Waits until `ms` after the fleet reported; probe 1 reports then, probe 0 stays silent; then a sweep. */
  const step = async (ms: number): Promise<void> => {
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + ms - Date.now())));
    t.equal((await postReport(app, probes[1]!.next(Date.now()))).status, 202);
    await app.modelThread.call('sweep');
  };
  await step(1500); // probe 0 silent 1.5 s: live still
  t.same(Object.fromEntries((await get(app, '/api/probes')).json.map((p: { probeId: string; state: string }) => [p.probeId, p.state])), { [probes[0]!.probeId]: 'live', [probes[1]!.probeId]: 'live' }, 'silent under 3 intervals: live');
  await step(3700); // 3.7 s: over 3 intervals
  const states = Object.fromEntries((await get(app, '/api/probes')).json.map((p: { probeId: string; state: string }) => [p.probeId, p.state]));
  t.same(states, { [probes[0]!.probeId]: 'stale', [probes[1]!.probeId]: 'live' });
  const hosts = byId((await get(app, '/api/topology/hosts')).json.nodes);
  t.equal(hosts.get(probes[0]!.hostId).stale, true, 'its nodes are marked stale');
  t.equal(hosts.get(probes[1]!.hostId).stale, undefined);
  await step(6000); // 6 s: stale still
  t.equal((await get(app, '/api/probes')).json.length, 2, 'stale, not removed, under 8 intervals');
  await step(8600); // 8.6 s: over 8 intervals
  t.same((await get(app, '/api/probes')).json.map((p: { probeId: string }) => p.probeId), [probes[1]!.probeId], 'then removed');
  t.equal((await inspect(app)).sizes.container, 3);
  // It reconnects: a delta on the forgotten base is refused, its full report makes it whole.
  probes[0]!.next(Date.now());
  const delta = probes[0]!.next(Date.now());
  t.equal(delta.kind, 'delta');
  t.equal((await postReport(app, delta)).status, 409);
  t.equal((await postReport(app, probes[0]!.full(Date.now()))).status, 202);
  t.equal((await inspect(app)).sizes.container, 6);
  // A REST answer may reuse a render up to 500 ms old (ViewHub's restMaxAgeMs): ask until it is newer, boundedly.
  let again = byId((await get(app, '/api/topology/hosts')).json.nodes);
  for (const deadline = Date.now() + 5_000; again.get(probes[0]!.hostId)?.stale !== undefined && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 50));
    again = byId((await get(app, '/api/topology/hosts')).json.nodes);
  }
  t.equal(again.get(probes[0]!.hostId).stale, undefined);
  t.same(again.get(probes[0]!.hostId).adjacency, [probes[1]!.hostId]);
});

t.test('a restarted probe (new id, same host and token) replaces the old picture', async (t) => {
  const app = await startApp();
  t.teardown(() => app.stop());
  const tpl = await loadTemplates();
  const old = new SimProbe(0, SHAPE, tpl, 0);
  const restarted = new SimProbe(0, { ...SHAPE, containersPerProbe: 1 }, tpl, 1);
  t.not(old.probeId, restarted.probeId);
  await postReport(app, old.full(Date.now()));
  await postReport(app, restarted.full(Date.now()));
  t.same((await inspect(app)).probes, [restarted.probeId]);
  t.equal((await inspect(app)).sizes.container, 1);
});
