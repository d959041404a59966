/**
 * The publisher against small real HTTP(S) servers written here, which decode
 * every POST with runtime/report's codec and answer as the protocol says
 * (202, 409 DELTA_BASE_UNKNOWN, 429/503 with Retry-After), or go away.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { decodeReport, diffReports, emptyTopologies, hostNodeId, REPORT_VERSION, type FullReport, type Report } from '../../runtime/report';
import { REPORT_PATH } from '../../runtime/control/protocol';
import { parseRetryAfter, Publisher, PublishError, type PublishObserver } from '../../runtime/probe/publisher';
import { sleep } from './helpers';
import { tempDir } from '../helpers/temp-dir';
import { selfSignedCertificate } from '../helpers/tls';

const TOKEN = 'probe-token-0123456789';

function full(seq: number, v: string): FullReport {
  const topologies = emptyTopologies();
  (topologies.host.nodes as Record<string, unknown>)[hostNodeId('h')] = { latest: { v: { ts: seq, v } }, metrics: {}, adjacency: [], parents: {} };
  return { version: REPORT_VERSION, kind: 'full', probeId: 'h/1', hostId: hostNodeId('h'), seq, timestamp: seq, topologies, errors: [] };
}
const delta = (base: FullReport, seq: number, v: string): Report => ({ ...diffReports(base, { ...full(seq, v) }), seq });

type Answer = (r: Report, res: ServerResponse) => void;

async function sink(t: Test, answer: Answer = (_r, res) => res.writeHead(202).end('{}'), tls?: { key: string; cert: string }) {
  const got: Report[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (req.url !== REPORT_PATH || req.headers.authorization !== `Bearer ${TOKEN}` || req.headers['content-encoding'] !== 'gzip') {
        res.writeHead(401).end();
        return;
      }
      const d = await decodeReport(Buffer.concat(chunks));
      if (!d.ok) return void res.writeHead(400).end();
      got.push(d.value);
      answer(d.value, res);
    });
  };
  const server = tls ? createTlsServer(tls, handler) : createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const port = (server.address() as { port: number }).port;
  return { got, url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, server, port };
}

async function until(pred: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await sleep(10);
  return pred();
}

/** An app that comes back on `port` (where one was down) and accepts every report; returns what it got. */
async function appBackOn(t: Test, port: number): Promise<Report[]> {
  const got: Report[] = [];
  const back = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const d = await decodeReport(Buffer.concat(chunks));
      if (d.ok) got.push(d.value);
      res.writeHead(202).end('{}');
    });
  });
  await new Promise<void>((r) => back.listen(port, '127.0.0.1', r));
  t.teardown(() => {
    back.closeAllConnections();
    back.close();
  });
  return got;
}

class Tally implements PublishObserver {
  ok = 0;
  errors: string[] = [];
  drops: string[] = [];
  published(): void {
    this.ok++;
  }
  failed(_a: string, reason: string): void {
    this.errors.push(reason);
  }
  dropped(_a: string, reason: string): void {
    this.drops.push(reason);
  }
}

t.test('config errors are coded', async (t) => {
  t.throws(() => new Publisher({ apps: [], token: TOKEN }), { code: 'E_PUBLISH_CONFIG' });
  t.throws(() => new Publisher({ apps: ['http://x'], tokenFile: '/nonexistent/token' }), PublishError);
  t.throws(() => new Publisher({ apps: ['ftp://x'], token: TOKEN }), { message: /http\(s\)/ });
  t.equal(parseRetryAfter('3', 300), 3000);
  t.equal(parseRetryAfter('9999', 300), 300_000, 'capped');
  t.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', 300, Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 10_000);
  t.equal(parseRetryAfter('soon', 300), undefined);
});

t.test('reports reach two apps, encoded, in order, with the token from the file', async (t) => {
  const a = await sink(t);
  const b = await sink(t);
  const dir = tempDir('pub-');
  writeFileSync(join(dir, 'token'), TOKEN + '\n');
  const tally = new Tally();
  const p = new Publisher({ apps: [a.url, b.url], tokenFile: join(dir, 'token'), observer: tally });
  t.teardown(() => p.close(0));
  const f1 = full(1, 'a');
  p.publish(f1);
  p.publish(delta(f1, 2, 'b'));
  // publish only enqueues: it has returned before the sink saw anything.
  t.equal(a.got.length, 0, 'nothing was sent synchronously');
  t.ok(await until(() => a.got.length === 2 && b.got.length === 2));
  t.same(a.got.map((r) => [r.kind, r.seq]), [['full', 1], ['delta', 2]]);
  t.same(b.got.map((r) => r.seq), [1, 2]);
  // The sink has the report before the publisher has read its answer: the observer counts it a moment later.
  t.ok(await until(() => tally.ok === 4), `4 publishes observed as ok (${tally.ok})`);
  t.equal(tally.ok, 4);
});

t.test('--ingest-port: reports go to that port of the app\'s host, none to the app URL\'s port', async (t) => {
  const app = await sink(t);
  const ingest = await sink(t);
  const p = new Publisher({ apps: [app.url], reportPort: ingest.port, token: TOKEN });
  t.teardown(() => p.close(0));
  const f1 = full(1, 'a');
  p.publish(f1);
  p.publish(delta(f1, 2, 'b'));
  t.ok(await until(() => ingest.got.length === 2), 'the ingest port got both');
  t.same(ingest.got.map((r) => [r.kind, r.seq]), [['full', 1], ['delta', 2]]);
  t.equal(app.got.length, 0, 'the app URL\'s port got none');
  t.same(p.status().map((s) => s.app), [app.url], 'the target is still named by its --app URL');
  for (const bad of [0, 65536, 1.5]) t.throws(() => new Publisher({ apps: [app.url], reportPort: bad, token: TOKEN }), { code: 'E_PUBLISH_CONFIG', message: /--ingest-port must be a port from 1 to 65535/ });
});

t.test('409 DELTA_BASE_UNKNOWN: the full report is sent, then the delta', async (t) => {
  let refuseDeltas = true;
  const a = await sink(t, (r, res) => {
    if (r.kind === 'delta' && refuseDeltas) {
      refuseDeltas = false;
      return void res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'DELTA_BASE_UNKNOWN', message: 'send a full report' } }));
    }
    res.writeHead(202).end('{}');
  });
  const p = new Publisher({ apps: [a.url], token: TOKEN });
  t.teardown(() => p.close(0));
  const f1 = full(1, 'a');
  p.publish(f1);
  await until(() => a.got.length === 1);
  p.publish(delta(f1, 2, 'b'));
  t.ok(await until(() => a.got.length === 4));
  t.same(a.got.map((r) => [r.kind, r.seq]), [['full', 1], ['delta', 2], ['full', 1], ['delta', 2]], 'refused delta, then full and the delta again');
});

t.test('429 with Retry-After is honoured', async (t) => {
  let first = true;
  const times: number[] = [];
  const a = await sink(t, (_r, res) => {
    times.push(Date.now());
    if (first) {
      first = false;
      return void res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'RATE_LIMITED', message: 'slow down' } }));
    }
    res.writeHead(202).end('{}');
  });
  const tally = new Tally();
  const p = new Publisher({ apps: [a.url], token: TOKEN, observer: tally, backoff: { initialMs: 10, maxMs: 20 } });
  t.teardown(() => p.close(0));
  p.publish(full(1, 'a'));
  t.ok(await until(() => a.got.length === 2));
  t.ok(times[1]! - times[0]! >= 950, `retried after ${times[1]! - times[0]!} ms (Retry-After: 1)`);
  t.same(tally.errors, ['rate_limited']);
});

t.test('an app that is down: bounded queue, backoff, then a full report first on reconnect', async (t) => {
  // A port with nothing listening: take one, then close it.
  const probe = await sink(t);
  const port = probe.port;
  probe.server.close();
  await sleep(50);
  const tally = new Tally();
  const p = new Publisher({ apps: [`http://127.0.0.1:${port}`], token: TOKEN, observer: tally, maxQueue: 3, backoff: { initialMs: 50, maxMs: 200 } });
  t.teardown(() => p.close(0));
  const f1 = full(1, 'a');
  p.publish(f1);
  for (let s = 2; s <= 6; s++) p.publish(delta(f1, s, `v${s}`));
  await sleep(300);
  t.ok(tally.errors.length >= 2 && tally.errors.every((e) => e === 'network'), `retried with backoff (${tally.errors.length} failures)`);
  t.ok(p.status()[0]!.queued <= 3, 'queue bounded');
  t.ok(tally.drops.includes('superseded'), 'older deltas on the same base superseded');
  const f7 = full(7, 'b');
  p.publish(f7);
  p.publish(delta(f7, 8, 'c'));
  // The app comes back on the same port.
  const got = await appBackOn(t, port);
  t.ok(await until(() => got.length >= 2));
  t.same(got.map((r) => [r.kind, r.seq]), [['full', 7], ['delta', 8]], 'full report first after reconnect, then the newest delta; stale deltas dropped');
});

t.test('TLS: verified against --ca-file; an unknown CA is refused', { skip: process.platform !== 'linux' }, async (t) => {
  const { certFile, keyFile, status } = selfSignedCertificate(tempDir('pub-tls-'));
  if (status !== 0) {
    t.comment('openssl is not available: skipped');
    return;
  }
  const a = await sink(t, undefined, { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') });
  const trusted = new Publisher({ apps: [a.url], token: TOKEN, caFile: certFile });
  t.teardown(() => trusted.close(0));
  trusted.publish(full(1, 'a'));
  t.ok(await until(() => a.got.length === 1), 'accepted with the private CA');

  const tally = new Tally();
  const untrusted = new Publisher({ apps: [a.url], token: TOKEN, observer: tally, backoff: { initialMs: 50, maxMs: 100 } });
  t.teardown(() => untrusted.close(0));
  untrusted.publish(full(2, 'b'));
  t.ok(await until(() => tally.errors.length > 0));
  t.equal(tally.errors[0], 'tls', 'refused: certificate not verified');
  t.equal(a.got.length, 1, 'nothing sent without verification');
});

t.test('a queued report is held as its encoding, not as the report object', async (t) => {
  require('node:v8').setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc') as () => void;
  const app = await sink(t);
  const port = app.port;
  app.server.close();
  await sleep(50);
  const p = new Publisher({ apps: [`http://127.0.0.1:${port}`], token: TOKEN, backoff: { initialMs: 50, maxMs: 100 } });
  t.teardown(() => p.close(0));
  let f1: FullReport | null = full(1, 'kept as bytes');
  const weak = new WeakRef(f1);
  p.publish(f1);
  f1 = null;
  await sleep(100); // the encoding is done; the app is still down, so the item is queued
  t.equal(p.status()[0]!.queued, 1, 'queued while the app is down');
  gc();
  t.equal(weak.deref(), undefined, 'the report object was let go once encoded');
  const got = await appBackOn(t, port);
  t.ok(await until(() => got.length >= 1));
  t.same(got[0], full(1, 'kept as bytes'), 'what reaches the app is the report as published');
});
