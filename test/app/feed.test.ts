/**
 * The WebSocket feed: full view on connect, then add/update/remove deltas with
 * a sequence number; one render per change shared by every subscriber; slow
 * clients reset instead of buffered without bound.
 */
import t, { type Test } from 'tap';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { SimProbe, loadTemplates, type FleetShape } from './fleet';
import { FeedClient, TOKENS, postReport, startApp, wsUrl } from './helpers';
import type { MonitoringApp } from '../../runtime/app/server';
import { RECENT_DELTAS } from '../../runtime/app/views/hub';

const SHAPE: FleetShape = { probes: 3, containersPerProbe: 3, processesPerProbe: 8, connectionsPerProbe: 1 };

async function fleet(app: MonitoringApp, shape = SHAPE): Promise<SimProbe[]> {
  const tpl = await loadTemplates();
  const probes = Array.from({ length: shape.probes }, (_, i) => new SimProbe(i, shape, tpl));
  for (const p of probes) await postReport(app, p.next(Date.now()));
  return probes;
}

/** A raw upgrade request; resolves with the status line and the socket (left unread). */
function rawUpgrade(app: MonitoringApp, path: string, headers: Record<string, string>): Promise<{ status: number; socket: import('node:net').Socket; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect(app.port, '127.0.0.1', () => {
      const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${app.port}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13'];
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      socket.write(lines.join('\r\n') + '\r\n\r\n');
    });
    socket.once('data', (d) => {
      socket.pause();
      // What came after the response head: the first frames, when they came in the same read.
      const end = d.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(String(d))?.[1]), socket, rest: end < 0 ? Buffer.alloc(0) : d.subarray(end + 4) });
    });
    socket.once('error', reject);
  });
}

/**
 * Reads the server's WebSocket frames off a raw socket (server frames are unmasked) and
 * reassembles fragmented text messages: what the app sent, message by message.
 */
class FrameReader {
  private buf = Buffer.alloc(0);
  private parts: Buffer[] = [];
  readonly messages: string[] = [];
  closeCode: number | null = null;

  push(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) return;
      const fin = (this.buf[0]! & 0x80) !== 0;
      const opcode = this.buf[0]! & 0x0f;
      let len = this.buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        at = 10;
      }
      if (this.buf.length < at + len) return;
      const payload = this.buf.subarray(at, at + len);
      this.buf = this.buf.subarray(at + len);
      if (opcode === 8) this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 0;
      if (opcode === 1 || opcode === 0) {
        this.parts.push(Buffer.from(payload));
        if (fin) {
          this.messages.push(Buffer.concat(this.parts).toString('utf8'));
          this.parts = [];
        }
      }
    }
  }
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

  await app.modelThread.call('removeProbe', newcomer.probeId);
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
  // Rings of eight samples (what probes sent before the app kept the history): each node carries
  // them all, so the view is over 4 MiB; with one sample per metric it would be about 2.4 MB.
  await fleet(app, { probes: 30, containersPerProbe: 2, processesPerProbe: 500, connectionsPerProbe: 1, ring: 8 });
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

/** Posts reports until the topic's seq has moved `n` past `from` (each report changes process metrics). */
async function advance(app: MonitoringApp, probes: SimProbe[], topic: string, from: number, n: number): Promise<number> {
  for (let i = 0; i < 20 * n && ((await app.modelThread.call('topicSeq', topic)) ?? 0) < from + n; i++) {
    await postReport(app, probes[i % probes.length]!.next(Date.now()));
    await new Promise((r) => setTimeout(r, 10));
  }
  return (await app.modelThread.call('topicSeq', topic))!;
}

const BIG: FleetShape = { probes: 30, containersPerProbe: 2, processesPerProbe: 500, connectionsPerProbe: 1 };

/**
 * An app with the large processes view, one small probe whose changes make small deltas, and a
 * raw WebSocket client of that view that reads nothing until `read` is called.
 */
async function joinLargeView(t: Test): Promise<{ app: MonitoringApp; small: SimProbe[]; topic: string; seq0: number; read: () => FrameReader; destroy: () => void }> {
  const app = await startApp({ renderIntervalMs: 5 });
  t.teardown(() => app.stop());
  await fleet(app, BIG);
  const small = [new SimProbe(BIG.probes, { probes: BIG.probes + 1, containersPerProbe: 1, processesPerProbe: 3, connectionsPerProbe: 0 }, await loadTemplates())];
  await postReport(app, small[0]!.next(Date.now()));
  const topic = 'view/processes?';
  const raw = await rawUpgrade(app, '/api/topology/processes/ws', { authorization: `Bearer ${TOKENS.viewer}` });
  t.equal(raw.status, 101);
  const read = (): FrameReader => {
    const reader = new FrameReader();
    reader.push(raw.rest);
    raw.socket.on('data', (d: Buffer) => reader.push(d));
    raw.socket.resume();
    return reader;
  };
  return { app, small, topic, seq0: (await app.modelThread.call('full', topic))!.seq, read, destroy: () => raw.socket.destroy() };
}

t.test('a client joining while the view changes gets the full view, then every delta since, in order', async (t) => {
  const { app, small, topic, seq0, read, destroy } = await joinLargeView(t);
  // The client reads nothing while the view moves on by a few deltas (fewer than the topic keeps).
  const seq1 = await advance(app, small, topic, seq0, 5);
  t.ok(seq1 >= seq0 + 5, `the topic moved from seq ${seq0} to ${seq1} while the client read nothing`);
  const reader = read();
  const done = (): boolean => reader.messages.some((m) => m.startsWith('{"type":"delta"') && JSON.parse(m).seq >= seq1);
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  const msgs = reader.messages.map((m) => JSON.parse(m));
  t.equal(msgs[0].type, 'full', 'first the full view');
  t.equal(msgs[0].seq, seq0, 'at the seq the client joined at');
  t.ok(msgs[0].nodes.length >= 15_000, `whole (${msgs[0].nodes.length} nodes)`);
  t.same(msgs.slice(1).map((m) => m.seq), Array.from({ length: msgs.length - 1 }, (_, i) => seq0 + 1 + i), 'then every delta after it, no gap');
  t.ok(msgs.length - 1 >= seq1 - seq0, 'up to where the topic was');
  // Subscribed now: the next change arrives as a published delta.
  const seq2 = await advance(app, small, topic, seq1, 1);
  for (let i = 0; i < 500 && !reader.messages.some((m) => m.startsWith('{"type":"delta"') && JSON.parse(m).seq === seq2); i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(reader.messages.some((m) => JSON.parse(m).seq === seq2), `then live deltas (seq ${seq2})`);
  destroy();
});

t.test('a client that falls out of the recent deltas while catching up gets one catch-up of what changed, then the live deltas', async (t) => {
  const { app, small, topic, seq0, read, destroy } = await joinLargeView(t);
  const seq1 = await advance(app, small, topic, seq0, RECENT_DELTAS + 2);
  t.ok(seq1 > seq0 + RECENT_DELTAS, `the topic moved on by more than the ${RECENT_DELTAS} deltas it keeps`);
  const reader = read();
  const caught = (): boolean => reader.messages.some((m) => m.startsWith('{"type":"catchup"'));
  for (let i = 0; i < 1000 && !caught() && reader.closeCode === null; i++) await new Promise((r) => setTimeout(r, 10));
  const msgs = reader.messages.map((m) => JSON.parse(m));
  t.same(msgs.map((m) => m.type), ['full', 'catchup'], 'the full view once, then one catch-up; no second full view, no reset');
  t.equal(msgs[0].seq, seq0);
  t.equal(msgs[1].base, seq0, 'the catch-up applies to the full view sent');
  t.equal(msgs[1].seq, seq1, 'and brings the client to the seq the topic had reached');
  t.ok(msgs[1].add.length > 0 && msgs[1].add.length < msgs[0].nodes.length / 10, `it carries the changed nodes only (${msgs[1].add.length} of ${msgs[0].nodes.length})`);
  const seq2 = await advance(app, small, topic, seq1, 1);
  for (let i = 0; i < 500 && !reader.messages.some((m) => m.startsWith('{"type":"delta"')); i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(JSON.parse(reader.messages.find((m) => m.startsWith('{"type":"delta"'))!).seq, seq1 + 1, `then the deltas after it (seq ${seq2} reached)`);
  t.equal(reader.closeCode, null, 'still open');
  destroy();
});
