/**
 * Auth and ingest: tokens and roles on every route, reports per protocol.ts,
 * hostile input refused with the right 4xx while the model stays unchanged.
 */
import t from 'tap';
import { expandPatches, readRecording, type FullReport } from '../../runtime/report';
import { TokenStore, TokenConfigError } from '../../runtime/app/auth';
import { RECORDING, SimProbe, loadTemplates } from './fleet';
import { refusesHostileReports, refusesOverRate } from './hostile-reports';
import { TOKENS, http, inspect, postReport, startApp } from './helpers';

t.test('token files: roles, no defaults, bad entries named', async (t) => {
  const s = TokenStore.parse('# comment\nalice:viewer:0123456789abcdefXYZ\n\nbot:probe:zzzzzzzzzzzzzzzzzz', 'f');
  t.same(s.fromHeader('Bearer 0123456789abcdefXYZ'), { name: 'alice', role: 'viewer' });
  t.equal(s.fromHeader('Bearer 0123456789abcdefXYY'), null);
  t.equal(s.fromHeader('Basic 0123456789abcdefXYZ'), null);
  t.throws(() => TokenStore.load({}), TokenConfigError, 'no tokens at all is an error');
  t.throws(() => TokenStore.parse('a:root:0123456789abcdefXYZ', 'f'), /role must be one of/);
  t.throws(() => TokenStore.parse('a:viewer:short', 'f'), /at least 16/);
  t.throws(() => TokenStore.parse('a:viewer:0123456789abcdefXYZ\nb:admin:0123456789abcdefXYZ', 'f'), /already given/);
  t.equal(TokenStore.load({ env: 'x:admin:0123456789abcdefXYZ,y:probe:0123456789abcdefXYQ' }).size, 2);
});

t.test('every route but /healthz needs a token with the right role', async (t) => {
  const app = await startApp();
  t.teardown(() => app.stop());
  t.equal((await http(app, 'GET', '/healthz')).status, 200, '/healthz (liveness) needs no token');
  // The operational routes take a token of any role (Prometheus and readiness checks hold whichever they were given).
  for (const path of ['/readyz', '/metrics']) {
    const none = await http(app, 'GET', path);
    t.equal(none.status, 401, `${path} without a token`);
    t.equal(none.json.error.code, 'UNAUTHENTICATED');
    t.equal(none.headers['www-authenticate'], 'Bearer');
    t.equal((await http(app, 'GET', path, { token: 'not-a-known-token-at-all' })).status, 401, `${path} with an unknown token`);
    for (const role of ['probe', 'viewer', 'admin'] as const) t.equal((await http(app, 'GET', path, { token: TOKENS[role] })).status, 200, `${path} with a ${role} token`);
  }
  for (const path of ['/api/topology', '/api/topology/containers', '/api/search?q=x', '/api/probes', '/api/openapi.json', '/api/whoami']) {
    const none = await http(app, 'GET', path);
    t.equal(none.status, 401, `${path} without a token`);
    t.equal(none.json.error.code, 'UNAUTHENTICATED');
    t.equal(none.headers['www-authenticate'], 'Bearer');
    t.equal((await http(app, 'GET', path, { token: 'not-a-known-token-at-all' })).status, 401, `${path} with an unknown token`);
    t.equal((await http(app, 'GET', path, { token: TOKENS.probe })).status, 403, `${path} with a probe token`);
    t.equal((await http(app, 'GET', path, { token: TOKENS.viewer })).status, 200, `${path} with a viewer token`);
    t.equal((await http(app, 'GET', path, { token: TOKENS.admin })).status, 200, `${path} with an admin token`);
  }
  const tpl = await loadTemplates();
  const r = new SimProbe(0, { probes: 1, containersPerProbe: 1, processesPerProbe: 2, connectionsPerProbe: 0 }, tpl).full(Date.now());
  t.equal((await postReport(app, r, TOKENS.viewer)).status, 403, 'a viewer cannot post reports');
  t.equal((await postReport(app, r, TOKENS.admin)).status, 403, 'nor can an admin');
  t.equal((await http(app, 'GET', '/nope', { token: TOKENS.viewer })).status, 404);
});

t.test('the recorded reports of the real probe: full, delta, full', async (t) => {
  const app = await startApp();
  t.teardown(() => app.stop());
  const reports = await readRecording(RECORDING);
  for (const r of reports) {
    const res = await postReport(app, r);
    t.equal(res.status, 202, `${r.kind} #${r.seq}`);
    t.same(res.json, { probeId: r.probeId, seq: r.seq });
  }
  const last = reports[reports.length - 1] as FullReport;
  t.equal((await inspect(app)).sizes.process, Object.keys(last.topologies.process.nodes).length, 'the last full report is the picture');
  t.equal((await inspect(app)).sizes.host, 1);
  const probes = await http(app, 'GET', '/api/probes', { token: TOKENS.viewer });
  t.equal(probes.json.length, 1);
  t.equal(probes.json[0].seq, last.seq);
  t.equal(probes.json[0].owner, 'probe-a');
  // A retry of an older report is accepted and ignored.
  const before = (await inspect(app)).fingerprint;
  t.equal((await postReport(app, reports[0]!)).status, 202);
  t.equal((await inspect(app)).fingerprint, before);
});

t.test('a delta on a base the app holds applies; on another base it is 409 DELTA_BASE_UNKNOWN', async (t) => {
  const app = await startApp();
  t.teardown(() => app.stop());
  const tpl = await loadTemplates();
  const p = new SimProbe(1, { probes: 2, containersPerProbe: 2, processesPerProbe: 4, connectionsPerProbe: 1 }, tpl);
  const full = p.next(1_000);
  t.equal((await postReport(app, full)).status, 202);
  p.flip(0);
  const delta = p.next(16_000);
  t.equal(delta.kind, 'delta');
  t.equal((await postReport(app, delta)).status, 202);
  const c = (await app.modelThread.call('merged', 'container', `container;${p.containerId(0)}`))!;
  t.equal(c.node.latest.state!.v, 'paused', 'the delta changed the container');
  const orphan = { ...delta, seq: delta.seq + 1, baseSeq: 0 } as typeof delta;
  const before = (await inspect(app)).fingerprint;
  const res = await postReport(app, orphan);
  t.equal(res.status, 409);
  t.equal(res.json.error.code, 'DELTA_BASE_UNKNOWN');
  t.equal((await inspect(app)).fingerprint, before);
});

t.test('a delta\'s patches: the same model as the delta with whole nodes; a patch of a node the base lacks is 400 E_DELTA_PATCH', async (t) => {
  const tpl = await loadTemplates();
  const p = new SimProbe(1, { probes: 2, containersPerProbe: 2, processesPerProbe: 4, connectionsPerProbe: 1 }, tpl);
  const full = p.next(1_000);
  p.flip(0);
  const delta = p.next(16_000);
  if (delta.kind !== 'delta' || full.kind !== 'full') throw new Error('the fleet sends a full report, then a delta');
  const patched = Object.values(delta.patches ?? {}).reduce((n, x) => n + Object.keys(x!).length, 0);
  t.ok(patched > 0, `the delta patches ${patched} nodes`);
  t.ok(JSON.stringify(delta).length * 2 < JSON.stringify(expandPatches(delta, full)).length, 'and is less than half the text of the same delta with whole nodes');
  const fingerprints: string[] = [];
  for (const form of [delta, expandPatches(delta, full)]) {
    const app = await startApp();
    t.teardown(() => app.stop());
    t.equal((await postReport(app, full)).status, 202);
    t.equal((await postReport(app, form)).status, 202);
    const c = (await app.modelThread.call('merged', 'container', `container;${p.containerId(0)}`))!;
    t.equal(c.node.latest.state!.v, 'paused', 'the delta changed the container');
    fingerprints.push((await inspect(app)).fingerprint);
  }
  t.equal(fingerprints[0], fingerprints[1], 'patches and whole nodes make the same model');

  const app = await startApp();
  t.teardown(() => app.stop());
  t.equal((await postReport(app, full)).status, 202);
  const before = (await inspect(app)).fingerprint;
  const stranger = 'process;host-0001;999;1';
  const bad = { ...delta, patches: { ...delta.patches, process: { ...delta.patches!.process, [stranger]: { latest: {} } } } };
  const res = await postReport(app, bad);
  t.equal(res.status, 400);
  t.equal(res.json.error.code, 'E_DELTA_PATCH');
  t.equal(res.json.error.path, `patches.process["${stranger}"]`);
  t.match(res.json.error.message, /has no node .* to patch; send it whole/);
  t.equal((await inspect(app)).fingerprint, before, 'the model is unchanged');
  t.equal((await postReport(app, delta)).status, 202, 'and the good delta still applies');
});

t.test('hostile input: the right 4xx, the app stays up, the model unchanged', async (t) => {
  const app = await startApp({ ingest: { maxEncodedBytes: 256 * 1024, maxDecodedBytes: 4 * 1024 * 1024 } });
  t.teardown(() => app.stop());
  await refusesHostileReports(t, app, app);
});

t.test('overload: 429 over the per-token rate, 503 over the in-flight budget, both with Retry-After', async (t) => {
  const app = await startApp({ ingest: { ratePerToken: 1, burstPerToken: 2, maxInFlightBytes: 64 * 1024 } });
  t.teardown(() => app.stop());
  await refusesOverRate(t, app);
  const big = await postReport(app, Buffer.alloc(100 * 1024), TOKENS.probe2);
  t.equal(big.status, 503);
  t.equal(big.json.error.code, 'OVERLOADED');
  t.equal(big.headers['retry-after'], '1');
  t.equal((await http(app, 'GET', '/healthz')).status, 200);
});
