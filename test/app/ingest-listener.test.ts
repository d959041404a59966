/**
 * The ingest listener (`ingestListen`, `--ingest-listen`): reports on a port of their own, served by
 * the model thread. Same admission and refusals as the app's own listener, counted in the one
 * /metrics, drained at shutdown, and an address it cannot have fails the app's start; a process
 * that ends with it open ends cleanly.
 */
import t from 'tap';
import { createServer } from 'node:net';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { readRecording } from '../../runtime/report';
import { REPORT_PATH } from '../../runtime/control/protocol';
import { TALLY_FLUSH_MS } from '../../runtime/app/model-thread/ingest-listener';
import { RECORDING, SimProbe, loadTemplates } from './fleet';
import { freePort } from '../helpers/stack';
import { refusesHostileReports, refusesOverRate } from './hostile-reports';
import { TOKENS, http, inspect, postReport, startApp } from './helpers';

const TSX = join(__dirname, '../../node_modules/tsx/dist/cli.mjs');

const ON_LOOPBACK = { ingestListen: { host: '127.0.0.1', port: 0 } };

/** The value of one series in a /metrics text, or 0 when it is absent. */
function series(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function metricsText(app: Parameters<typeof http>[0]): Promise<string> {
  return (await http(app, 'GET', '/metrics', { token: TOKENS.viewer })).text;
}

t.test('reports on the ingest listener reach the model; the views on the app\'s listener show them', async (t) => {
  const app = await startApp(ON_LOOPBACK);
  t.teardown(() => app.stop());
  const ingest = app.ingestUrl;
  t.ok(ingest !== null, 'the app has an ingest URL');
  t.match(ingest!, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.not(ingest, app.url, 'a port of its own');
  const reports = await readRecording(RECORDING);
  for (const r of reports) {
    const res = await postReport(ingest!, r);
    t.equal(res.status, 202, `${r.kind} #${r.seq}`);
    t.same(res.json, { probeId: r.probeId, seq: r.seq });
  }
  t.equal((await inspect(app)).sizes.host, 1, 'the model has the probe\'s host');
  const probes = await http(app, 'GET', '/api/probes', { token: TOKENS.viewer });
  t.equal(probes.json.length, 1);
  t.equal(probes.json[0].owner, 'probe-a', 'the token\'s name is the owner, as on the app\'s listener');
  const hosts = await http(app, 'GET', '/api/topology/hosts', { token: TOKENS.viewer });
  t.equal(hosts.status, 200);
  t.equal(hosts.json.nodes.length, 1, 'the hosts view, served by the front, shows it');
});

t.test('the ingest listener takes reports and nothing else; the probe role only', async (t) => {
  const app = await startApp(ON_LOOPBACK);
  t.teardown(() => app.stop());
  const ingest = app.ingestUrl!;
  const tpl = await loadTemplates();
  const r = new SimProbe(0, { probes: 1, containersPerProbe: 1, processesPerProbe: 2, connectionsPerProbe: 0 }, tpl).full(Date.now());
  const none = await http(ingest, 'POST', REPORT_PATH, { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: Buffer.alloc(10) });
  t.equal(none.status, 401, 'no token');
  t.equal(none.json.error.code, 'UNAUTHENTICATED');
  t.equal(none.headers['www-authenticate'], 'Bearer');
  t.equal((await postReport(ingest, r, 'not-a-known-token-at-all')).status, 401, 'an unknown token');
  t.equal((await postReport(ingest, r, TOKENS.viewer)).status, 403, 'a viewer cannot post reports');
  t.equal((await postReport(ingest, r, TOKENS.admin)).status, 403, 'nor can an admin');
  for (const [method, path] of [['GET', '/api/topology'], ['GET', '/api/search?q=x'], ['GET', '/metrics'], ['GET', REPORT_PATH], ['POST', '/api/control']]) {
    const res = await http(ingest, method!, path!, { token: TOKENS.admin });
    t.equal(res.status, 404, `${method} ${path}`);
    t.equal(res.json.error.code, 'NOT_FOUND');
    t.match(res.json.error.message, /ingest listener, which takes POST \/api\/report only/, 'the refusal says what the port is for');
  }
  t.equal((await http(ingest, 'GET', '/healthz')).status, 200, '/healthz needs no token');
  t.equal((await inspect(app)).probes.length, 0, 'nothing refused reached the model');
  t.equal((await postReport(ingest, r)).status, 202, 'a probe token can');
});

t.test('hostile input on the ingest listener: the right 4xx, the app stays up, the model unchanged', async (t) => {
  const app = await startApp({ ...ON_LOOPBACK, ingest: { maxEncodedBytes: 256 * 1024, maxDecodedBytes: 4 * 1024 * 1024 } });
  t.teardown(() => app.stop());
  await refusesHostileReports(t, app, app.ingestUrl!);
});

t.test('overload on the ingest listener: 429 over its per-token rate, with Retry-After', async (t) => {
  const app = await startApp({ ...ON_LOOPBACK, ingest: { ratePerToken: 1, burstPerToken: 2 } });
  t.teardown(() => app.stop());
  await refusesOverRate(t, app.ingestUrl!);
  t.equal((await http(app, 'GET', '/healthz')).status, 200);
});

t.test('one /metrics: requests and reports of both listeners, counted once each', async (t) => {
  const app = await startApp(ON_LOOPBACK);
  t.teardown(() => app.stop());
  const tpl = await loadTemplates();
  const a = new SimProbe(0, { probes: 2, containersPerProbe: 1, processesPerProbe: 2, connectionsPerProbe: 0 }, tpl);
  const b = new SimProbe(1, { probes: 2, containersPerProbe: 1, processesPerProbe: 2, connectionsPerProbe: 0 }, tpl);
  for (let i = 0; i < 3; i++) t.equal((await postReport(app.ingestUrl!, a.full(1000 + i))).status, 202);
  t.equal((await postReport(app, b.full(1000))).status, 202);
  t.equal((await postReport(app.ingestUrl!, b.full(999), TOKENS.viewer)).status, 403);
  // The listener hands its counts over once a second.
  let text = '';
  const deadline = Date.now() + 5 * TALLY_FLUSH_MS;
  while (Date.now() < deadline) {
    text = await metricsText(app);
    if (series(text, 'http_requests_total', 'route="report",code="202"') >= 4 && series(text, 'http_requests_total', 'route="report",code="403"') >= 1) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(series(text, 'http_requests_total', 'route="report",code="202"'), 4, 'three on the ingest listener, one on the app\'s');
  t.equal(series(text, 'http_requests_total', 'route="report",code="403"'), 1, 'the refused one too');
  t.equal(series(text, 'monitoring_app_reports_total', 'kind="full",result="applied"'), 4);
  const merges = Number(/^monitoring_app_merge_duration_seconds_count (\d+)$/m.exec(text)?.[1]);
  const ingests = Number(/^monitoring_app_ingest_duration_seconds_count (\d+)$/m.exec(text)?.[1]);
  t.equal(merges, 4, 'merge times of both listeners');
  t.equal(ingests, 4, 'ingest times of both listeners');
});

t.test('shutdown drains the ingest listener; an address it cannot have fails the start', async (t) => {
  const app = await startApp(ON_LOOPBACK);
  const ingest = app.ingestUrl!;
  t.equal((await http(ingest, 'GET', '/healthz')).status, 200);
  await app.stop();
  await t.rejects(http(ingest, 'GET', '/healthz'), 'closed after stop()');

  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  await t.rejects(startApp({ ingestListen: { host: '127.0.0.1', port } }), new RegExp(`cannot listen for reports on 127\\.0\\.0\\.1:${port} \\(--ingest-listen\\)`));
});

t.test('a model thread that fails closes its ingest listener and ends; the new one listens on the same address', async (t) => {
  const port = await freePort();
  const app = await startApp({ ingestListen: { host: '127.0.0.1', port } });
  t.teardown(() => app.stop());
  const ingest = app.ingestUrl!;
  t.equal(ingest, `http://127.0.0.1:${port}`);
  const tpl = await loadTemplates();
  const p = new SimProbe(0, { probes: 1, containersPerProbe: 1, processesPerProbe: 2, connectionsPerProbe: 0 }, tpl);
  t.equal((await postReport(ingest, p.full(1000))).status, 202);
  // A bug in the model thread: a message it cannot read throws outside every handler there.
  const worker = (app.modelThread as unknown as { worker: Worker }).worker;
  // (The thread's handle drops every listener once it has ended: the error is the signal.)
  const failed = new Promise<Error>((r) => worker.once('error', r));
  worker.postMessage(null);
  t.match((await failed).message, /Cannot read properties of null/, 'the model thread ended on the error, and the process did not (uWS left open would abort it)');
  // Until the new thread listens, the port refuses connections.
  let status = 0;
  for (const deadline = Date.now() + 10_000; status !== 202 && Date.now() < deadline; ) {
    status = await postReport(ingest, p.full(2000)).then((r) => r.status, () => 0);
    if (status !== 202) await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(status, 202, 'the new model thread takes reports on the same port');
  t.equal(app.ingestUrl, ingest);
  t.equal((await inspect(app)).sizes.container, 1, 'into the new model');
});

/**
 * Node stops every worker when the process ends, however it ends, and a uWS listener still open
 * on one aborts the process (uWebSockets.js 20.30): the model thread is told to close its listener
 * first (client.ts, ExitGuard). Each way out below aborted (exit 134, "uv_loop_close() while having
 * open handles") before it.
 */
t.test('a process that ends with the ingest listener open ends as it meant to, not by an abort', async (t) => {
  const helpers = JSON.stringify(join(__dirname, 'helpers'));
  const ways: Record<string, { code: string; status: number; stderr?: RegExp }> = {
    'process.exit(3)': { code: 'process.exit(3);', status: 3 },
    'an uncaught error on the front thread': { code: "setTimeout(() => { throw new Error('front thread bug'); }, 0);", status: 1, stderr: /front thread bug/ },
  };
  for (const [way, { code, status, stderr }] of Object.entries(ways)) {
    const script = [
      `const { startApp } = require(${helpers});`,
      `startApp({ ingestListen: { host: '127.0.0.1', port: 0 } }).then((app) => {`,
      `  process.stdout.write(app.ingestUrl + '\\n');`,
      `  ${code}`,
      `});`,
    ].join('\n');
    const r = spawnSync(process.execPath, [TSX, '-e', script], { encoding: 'utf8', timeout: 60_000 });
    t.match(r.stdout, /^http:\/\/127\.0\.0\.1:\d+\n$/, `${way}: the app was listening for reports`);
    t.equal(r.status, status, `${way}: exit ${status}`);
    t.notMatch(r.stderr, /uv_loop_close|Assertion failed/, `${way}: no abort`);
    if (stderr) t.match(r.stderr, stderr, `${way}: the error is told`);
  }
});
