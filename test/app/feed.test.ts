/**
 * The WebSocket feed: full view on connect, then add/update/remove deltas with
 * a sequence number; one render per change shared by every subscriber; slow
 * clients reset instead of buffered without bound.
 */
import t from 'tap';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { SimProbe, loadTemplates, type FleetShape } from './fleet';
import { FeedClient, TOKENS, postReport, startApp, wsUrl } from './helpers';
import type { MonitoringApp } from '../../runtime/app/server';

const SHAPE: FleetShape = { probes: 3, containersPerProbe: 3, processesPerProbe: 8, connectionsPerProbe: 1 };

async function fleet(app: MonitoringApp, shape = SHAPE): Promise<SimProbe[]> {
  const tpl = await loadTemplates();
  const probes = Array.from({ length: shape.probes }, (_, i) => new SimProbe(i, shape, tpl));
  for (const p of probes) await postReport(app, p.next(Date.now()));
  return probes;
}

/** A raw upgrade request; resolves with the status line and the socket (left unread). */
function rawUpgrade(app: MonitoringApp, path: string, headers: Record<string, string>): Promise<{ status: number; socket: import('node:net').Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(app.port, '127.0.0.1', () => {
      const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${app.port}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13'];
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      socket.write(lines.join('\r\n') + '\r\n\r\n');
    });
    socket.once('data', (d) => {
      socket.pause();
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(String(d))?.[1]), socket });
    });
    socket.once('error', reject);
  });
}

async function renders(app: MonitoringApp, view: string): Promise<number> {
  const m = await app.metrics.renderSeconds.get();
  return m.values.find((v) => v.metricName?.endsWith('_count') && v.labels.view === view)?.value ?? 0;
}

t.test('full view on connect, then add, update and remove deltas in sequence', async (t) => {
  const app = await startApp();
  t.teardown(() => app.stop());
  const probes = await fleet(app);
  const c = new FeedClient(wsUrl(app, '/api/topology/containers/ws'), TOKENS.viewer);
  t.teardown(() => c.close());
  const full = await c.waitFor((m) => m.type === 'full');
  t.equal(full.seq, 0);
  t.equal(full.nodes.length, 9);
  t.equal(full.view, 'containers');

  probes[1]!.flip(2);
  const r = probes[1]!.next(Date.now());
  await postReport(app, r);
  const d1 = await c.waitFor((m) => m.type === 'delta');
  t.equal(d1.seq, 1);
  t.same(d1.add, []);
  t.same(d1.remove, []);
  const changed = d1.update.find((n: { id: string }) => n.id === `container;${probes[1]!.containerId(2)}`);
  t.ok(changed, 'the paused container is in the update');
  t.ok(changed.metadata.find((m: { id: string; value: string }) => m.id === 'state' && m.value === 'paused'));
  t.same(d1.reports, [`${r.probeId}#${r.seq}`], 'the delta names the report behind it');

  const tpl = await loadTemplates();
  const newcomer = new SimProbe(7, { ...SHAPE, containersPerProbe: 1 }, tpl);
  await postReport(app, newcomer.full(Date.now()));
  const d2 = await c.waitFor((m) => m.type === 'delta' && m.seq === 2);
  t.same(d2.add.map((n: { id: string }) => n.id), [`container;${newcomer.containerId(0)}`]);

  app.model.removeProbe(newcomer.probeId);
  const d3 = await c.waitFor((m) => m.type === 'delta' && m.seq === 3);
  t.same(d3.remove, [`container;${newcomer.containerId(0)}`]);
  t.equal(c.messages.filter((m) => m.type === 'delta').length, 3, 'no delta without a change');
});

t.test('each change is rendered once for all subscribers; filters make their own topic', async (t) => {
  const app = await startApp();
  t.teardown(() => app.stop());
  const probes = await fleet(app);
  const clients = [0, 1, 2, 3].map(() => new FeedClient(wsUrl(app, '/api/topology/containers/ws'), TOKENS.viewer));
  const filtered = new FeedClient(wsUrl(app, '/api/topology/containers/ws?namespace=shop'), TOKENS.admin, true);
  t.teardown(() => [...clients, filtered].forEach((c) => c.close()));
  for (const c of clients) await c.waitFor((m) => m.type === 'full');
  const ff = await filtered.waitFor((m) => m.type === 'full');
  t.equal(ff.nodes.length, 3, 'the filter applies to the full view');
  t.equal(ff.filter, 'namespace=shop');
  const before = await renders(app, 'containers');
  probes[0]!.flip(0);
  await postReport(app, probes[0]!.next(Date.now()));
  for (const c of clients) await c.waitFor((m) => m.type === 'delta');
  await filtered.waitFor((m) => m.type === 'delta');
  t.equal((await renders(app, 'containers')) - before, 1, 'one render for five subscribers on two topics');
  const payloads = new Set(clients.map((c) => JSON.stringify(c.messages.find((m) => m.type === 'delta'))));
  t.equal(payloads.size, 1, 'every subscriber got the same message');
  const m = await (await fetch(app.url + '/metrics', { headers: { authorization: `Bearer ${TOKENS.viewer}` } })).text();
  t.match(m, /^monitoring_app_websocket_clients\{kind="view"\} 5$/m);
});

t.test('WebSocket upgrades need a viewer token and a known view', async (t) => {
  const app = await startApp();
  t.teardown(() => app.stop());
  const cases: Array<[string, Record<string, string>, number]> = [
    ['/api/topology/containers/ws', {}, 401],
    ['/api/topology/containers/ws', { authorization: `Bearer ${TOKENS.probe}` }, 403],
    ['/api/topology/containers/ws', { 'sec-websocket-protocol': 'bearer.not-a-real-token-xxxx' }, 401],
    ['/api/topology/bogus/ws', { authorization: `Bearer ${TOKENS.viewer}` }, 404],
    ['/api/topology/containers/ws?status=maybe', { authorization: `Bearer ${TOKENS.viewer}` }, 400],
    ['/api/topology/containers/ws', { authorization: `Bearer ${TOKENS.viewer}` }, 101],
  ];
  for (const [path, headers, status] of cases) {
    const r = await rawUpgrade(app, path, headers);
    t.equal(r.status, status, `${path} ${JSON.stringify(headers)}`);
    r.socket.destroy();
  }
});

t.test('a client that does not read is reset and closed; the others go on', async (t) => {
  const app = await startApp({ maxClientBacklogBytes: 64 * 1024, renderIntervalMs: 5 });
  t.teardown(() => app.stop());
  const shape: FleetShape = { probes: 20, containersPerProbe: 2, processesPerProbe: 60, connectionsPerProbe: 1 };
  const probes = await fleet(app, shape);
  const slow = await rawUpgrade(app, '/api/topology/processes/ws', { authorization: `Bearer ${TOKENS.viewer}` });
  t.equal(slow.status, 101);
  let slowClosed = false;
  slow.socket.on('close', () => (slowClosed = true));
  const good = new FeedClient(wsUrl(app, '/api/topology/processes/ws'), TOKENS.viewer);
  t.teardown(() => good.close());
  await good.waitFor((m) => m.type === 'full');
  let resets = 0;
  for (let round = 0; round < 60 && resets === 0; round++) {
    // Every report changes every process's metrics: each round is about a megabyte of deltas.
    await Promise.all(probes.map((p) => postReport(app, p.full(Date.now() + round * 1000))));
    await new Promise((r) => setTimeout(r, 20));
    resets = (await app.metrics.websocketResets.get()).values[0]?.value ?? 0;
  }
  t.equal(resets, 1, 'the slow client was reset');
  t.equal(good.closed, null, 'the reading client is still connected');
  const seqs = good.messages.filter((m) => m.type === 'delta').map((m) => m.seq);
  t.same(seqs, seqs.map((_, i) => i + 1), 'and got every delta in order');
  // The reset message is the last thing the slow client gets before the close.
  slow.socket.resume();
  let tail = Buffer.alloc(0);
  slow.socket.on('data', (d: Buffer) => (tail = Buffer.concat([tail.subarray(-4096), d])));
  for (let i = 0; i < 200 && !slowClosed; i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(slowClosed, 'its connection is closed');
  t.match(tail.toString('latin1'), /"type":"reset"/);
});

t.test('a full view larger than the backlog bound reaches a new client whole', async (t) => {
  // A view of 15,000 processes is several megabytes: more than loopback's socket buffers absorb,
  // so most of it waits in the server's backlog, far over the 64 KiB bound, until the client reads.
  const app = await startApp({ maxClientBacklogBytes: 64 * 1024, renderIntervalMs: 5 });
  t.teardown(() => app.stop());
  await fleet(app, { probes: 30, containersPerProbe: 2, processesPerProbe: 500, connectionsPerProbe: 1 });
  const raw = await rawUpgrade(app, '/api/topology/processes/ws', { authorization: `Bearer ${TOKENS.viewer}` });
  t.equal(raw.status, 101);
  let closed = false;
  raw.socket.on('close', () => (closed = true));
  await new Promise((r) => setTimeout(r, 200)); // the client reads nothing for a while
  let bytes = 0;
  let tail = Buffer.alloc(0);
  raw.socket.on('data', (d: Buffer) => {
    bytes += d.length;
    tail = Buffer.concat([tail.subarray(-64), d]);
  });
  raw.socket.resume();
  for (let i = 0; i < 500 && !/\]\}$/.test(tail.toString('latin1')) && !closed; i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(bytes > 4 * 1024 * 1024, `received ${bytes} bytes`);
  t.match(tail.toString('latin1'), /\]\}$/, 'the full view arrived to its end');
  t.notOk(closed, 'and the connection stayed open');
  t.equal((await app.metrics.websocketResets.get()).values[0]?.value ?? 0, 0, 'no reset');
  raw.socket.destroy();
});
