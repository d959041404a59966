/**
 * Every client of a large view gets its whole full view (sent as WebSocket fragments), and a
 * client joining after nobody watched gets a view that the deltas keep right.
 *
 * Regression: about one load in 20 of a 5,000-node view in Chromium opened the feed and never
 * got the full view. The drain callback sent the next fragment; when that send, made from an
 * empty buffer, was taken by the kernel only in part and nothing was sent after it, this uWS
 * build stopped polling the socket for writable: the rest of the fragment stayed in the app's
 * buffer (both kernel queues empty) and no drain came again. Raw Node readers do not seem to
 * hit that timing; Chromium's reads do, so the browser part runs when Chromium is there.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { SimProbe, loadTemplates, type FleetShape } from './fleet';
import { TOKENS, http, postReport, startApp, wsUrl } from './helpers';
import type { MonitoringApp } from '../../runtime/app/server';

/** Container ids unique per (host, index) (the fleet's short ids collide above a few hundred hosts). */
class Probe extends SimProbe {
  override containerId(c: number): string {
    return createHash('sha256').update(`${this.index}/${c}`).digest('hex');
  }
}

const PATH = '/api/topology/containers/ws';
const SHAPE: FleetShape = { probes: 250, containersPerProbe: 20, processesPerProbe: 40, connectionsPerProbe: 20 };
const NODES = SHAPE.probes * SHAPE.containersPerProbe;
/** Bounded wait for one full view (no timing is asserted: a miss is a socket that never gets it). */
const WAIT_MS = 10_000;

interface Got {
  ok: boolean;
  detail: string;
}

/**
 * Opens the view's WebSocket over a raw TCP socket and reads until the first complete message;
 * `pauseMs` > 0 makes a slow reader (paused after every chunk). Resolves with the full view's
 * node count, or why it was not received.
 */
function rawFeed(port: number, pauseMs: number): Promise<Got> {
  return new Promise((resolve) => {
    const s: Socket = connect(port, '127.0.0.1', () => {
      const head = [`GET ${PATH} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Protocol: bearer.${TOKENS.viewer}`];
      s.write(head.join('\r\n') + '\r\n\r\n');
    });
    let buf = Buffer.alloc(0);
    let headDone = false;
    let bytes = 0;
    const parts: Buffer[] = [];
    let done = false;
    const finish = (g: Got): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(g);
    };
    const timer = setTimeout(() => finish({ ok: false, detail: `no full view within ${WAIT_MS} ms (${bytes} bytes, ${parts.length} fragments read)` }), WAIT_MS);
    s.on('data', (d: Buffer) => {
      bytes += d.length;
      buf = Buffer.concat([buf, d]);
      if (!headDone) {
        const i = buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        const status = /^HTTP\/1\.1 (\d+)/.exec(buf.toString('latin1'))?.[1];
        if (status !== '101') return finish({ ok: false, detail: `upgrade answered ${status}` });
        headDone = true;
        buf = buf.subarray(i + 4);
      }
      for (;;) {
        if (buf.length < 2) break;
        const fin = (buf[0]! & 0x80) !== 0;
        const op = buf[0]! & 0x0f;
        let len = buf[1]! & 0x7f;
        let at = 2;
        if (len === 126) {
          if (buf.length < 4) break;
          len = buf.readUInt16BE(2);
          at = 4;
        } else if (len === 127) {
          if (buf.length < 10) break;
          len = Number(buf.readBigUInt64BE(2));
          at = 10;
        }
        if (buf.length < at + len) break;
        const payload = Buffer.from(buf.subarray(at, at + len));
        buf = buf.subarray(at + len);
        if (op === 8) return finish({ ok: false, detail: `closed (${payload.length >= 2 ? payload.readUInt16BE(0) : 0}) before the full view` });
        if (op !== 0 && op !== 1) continue;
        parts.push(payload);
        if (fin) {
          const m = JSON.parse(Buffer.concat(parts).toString('utf8')) as { type: string; nodes?: unknown[] };
          return finish(m.type === 'full' && m.nodes?.length === NODES ? { ok: true, detail: '' } : { ok: false, detail: `first message ${m.type} with ${m.nodes?.length} nodes` });
        }
      }
      if (pauseMs > 0) {
        s.pause();
        setTimeout(() => s.resume(), pauseMs);
      }
    });
    s.on('error', (e) => finish({ ok: false, detail: `socket error: ${e.message}` }));
    s.on('close', () => finish({ ok: false, detail: `socket closed after ${bytes} bytes` }));
  });
}

let app: MonitoringApp;

t.before(async () => {
  const tpl = await loadTemplates();
  app = await startApp({ model: { intervalMs: 600_000 }, ingest: { maxInFlight: 1000 } });
  for (let i = 0; i < SHAPE.probes; i++) {
    const r = await postReport(app, new Probe(i, SHAPE, tpl).full(Date.now()));
    if (r.status !== 202) throw new Error(`report refused: ${r.status} ${r.text}`);
  }
});
t.teardown(() => app.stop());

t.test('the view is larger than one fragment', async (t) => {
  const r = await http(app, 'GET', '/api/topology/containers', { token: TOKENS.viewer });
  t.equal(r.json.nodes.length, NODES);
  t.ok(r.text.length > 4 * 256 * 1024, `${r.text.length} chars: many fragments`);
});

t.test('sequential, slow and concurrent raw readers each get the full view', async (t) => {
  const misses: string[] = [];
  for (let i = 0; i < 20; i++) {
    const g = await rawFeed(app.port, 0);
    if (!g.ok) misses.push(`fast ${i}: ${g.detail}`);
  }
  for (let i = 0; i < 6; i++) {
    const g = await rawFeed(app.port, 2);
    if (!g.ok) misses.push(`slow ${i}: ${g.detail}`);
  }
  for (let k = 0; k < 3; k++) {
    const gs = await Promise.all(Array.from({ length: 8 }, (_, i) => rawFeed(app.port, i % 2 === 0 ? 0 : 2)));
    gs.forEach((g, i) => g.ok || misses.push(`concurrent ${k}/${i}: ${g.detail}`));
  }
  t.same(misses, [], 'every socket got the full view');
});

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

t.test('Chromium gets the full view on every one of 40 feeds', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { CHROMIUM_ARGS } = await import('../ui/harness');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
  t.teardown(() => browser.close());
  const misses: string[] = [];
  for (let i = 0; i < 40; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${app.url}/healthz`);
    const got = await page.evaluate(
      ([url, token, waitMs]) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(url, [`bearer.${token}`]);
          const timer = setTimeout(() => resolve(`no full view within ${waitMs} ms`), waitMs);
          ws.onmessage = (e) => {
            clearTimeout(timer);
            const m = JSON.parse(String(e.data)) as { type: string; nodes?: unknown[] };
            resolve(`${m.type} ${m.nodes?.length}`);
          };
          ws.onclose = (e) => resolve(`closed ${e.code}`);
        }),
      [wsUrl(app, PATH), TOKENS.viewer, WAIT_MS] as const,
    );
    if (got !== `full ${NODES}`) misses.push(`feed ${i}: ${got}`);
    await context.close();
  }
  t.same(misses, [], 'every feed brought the full view');
});
