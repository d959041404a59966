/**
 * Controls end to end through the control channel, against a TEST PEER that
 * speaks runtime/control/protocol.ts the way a probe does (the real probe's
 * channel is being written separately and will replace this peer here).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'undici';
import { CONTROL_PATH, parseAppMessage, type ControlRequest, type ControlResult } from '../../runtime/control/protocol';
import { SimProbe, loadTemplates } from './fleet';
import { TOKENS, http, postReport, startApp, wsUrl } from './helpers';
import type { MonitoringApp } from '../../runtime/app/server';
import { tempDir } from '../helpers/temp-dir';

/** The test peer: a minimal probe-side control channel with a scripted engine. */
class TestProbePeer {
  readonly ws: WebSocket;
  readonly requests: ControlRequest[] = [];
  closed: { code: number; reason: string } | null = null;
  answer: (r: ControlRequest) => ControlResult | null = (r) => ({ type: 'result', id: r.id, ok: true });

  constructor(app: MonitoringApp, token: string) {
    this.ws = new WebSocket(wsUrl(app, CONTROL_PATH), { headers: { authorization: `Bearer ${token}` } } as never);
    this.ws.onmessage = (e) => {
      const req = parseAppMessage(String(e.data));
      this.requests.push(req);
      const res = this.answer(req);
      if (res) this.ws.send(JSON.stringify(res));
    };
    this.ws.onclose = (e) => (this.closed = { code: e.code, reason: e.reason });
  }

  async hello(probeId: string, hostId: string, controls = true): Promise<void> {
    if (this.ws.readyState !== WebSocket.OPEN) await new Promise((r) => this.ws.addEventListener('open', r, { once: true }));
    this.ws.send(JSON.stringify({ type: 'hello', probeId, hostId, controls, version: '0.1.0' }));
    await new Promise((r) => setTimeout(r, 30));
  }

  close(): void {
    this.ws.close();
  }
}

async function setup(t: { teardown(fn: () => unknown): void }, opts: Parameters<typeof startApp>[0] = {}) {
  const dir = tempDir('app-audit-');
  const auditLogPath = join(dir, 'audit.jsonl');
  const app = await startApp({ auditLogPath, ...opts });
  t.teardown(() => app.stop());
  const tpl = await loadTemplates();
  const probe = new SimProbe(0, { probes: 1, containersPerProbe: 2, processesPerProbe: 4, connectionsPerProbe: 0 }, tpl);
  await postReport(app, probe.full(Date.now()));
  const peer = new TestProbePeer(app, TOKENS.probe);
  t.teardown(() => peer.close());
  await peer.hello(probe.probeId, probe.hostId);
  const audit = (): Array<Record<string, unknown>> =>
    readFileSync(auditLogPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  const control = (body: unknown, token = TOKENS.admin) =>
    http(app, 'POST', '/api/control', { token, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { app, probe, peer, audit, control, nodeId: `container;${probe.containerId(0)}` };
}

t.test('an admin control goes to the probe over its channel and comes back; the audit log has it', async (t) => {
  const { app, peer, audit, control, nodeId, probe } = await setup(t);
  const res = await control({ nodeId, control: 'pause' });
  t.equal(res.status, 200, res.text);
  t.same(res.json, { probeId: probe.probeId, ok: true });
  t.equal(peer.requests.length, 1);
  t.match(peer.requests[0], { type: 'control', nodeId, control: 'pause' });
  const [entry] = audit();
  t.match(entry, { who: 'root', role: 'admin', control: 'pause', nodeId, probeId: probe.probeId, result: 'ok' });
  t.ok(Date.parse(entry!.time as string) > Date.now() - 10_000, 'with the time');

  peer.answer = (r) => ({ type: 'result', id: r.id, ok: true, output: Array.from({ length: r.tail ?? 0 }, (_, i) => `line ${i}`) });
  const logs = await control({ nodeId, control: 'logs', tail: 3 });
  t.same(logs.json.output, ['line 0', 'line 1', 'line 2']);
  t.equal(peer.requests[1]!.tail, 3);
  const probes = await http(app, 'GET', '/api/probes', { token: TOKENS.viewer });
  t.equal(probes.json[0].controlChannel, true);
});

t.test('refusals: role, body, node, control, probe errors and silence; each audited', async (t) => {
  const { peer, audit, control, nodeId } = await setup(t, { controlTimeoutMs: 200 });
  const viewer = await control({ nodeId, control: 'stop' }, TOKENS.viewer);
  t.equal(viewer.status, 403);
  t.equal(viewer.json.error.code, 'FORBIDDEN');
  t.equal((await control({ nodeId, control: 'stop' }, '')).status, 401);
  t.equal((await control({ nodeId, control: 'exec' })).status, 400, 'unknown control');
  t.equal((await control({ nodeId, control: 'logs', tail: 100000 })).status, 400, 'tail over the limit');
  t.equal((await control({ nodeId, control: 'stop', extra: 1 })).status, 400, 'unknown field');
  t.equal((await control({ nodeId: 'container;nope', control: 'stop' })).json.error.code, 'UNKNOWN_NODE');
  const notOffered = await control({ nodeId, control: 'unpause' });
  t.equal(notOffered.status, 409);
  t.equal(notOffered.json.error.code, 'CONTROL_NOT_OFFERED');
  peer.answer = (r) => ({ type: 'result', id: r.id, ok: false, error: { code: 'ENGINE_NOT_FOUND', message: 'no such container' } });
  const failed = await control({ nodeId, control: 'restart' });
  t.equal(failed.status, 502);
  t.match(failed.json.error.message, /ENGINE_NOT_FOUND/);
  peer.answer = () => null;
  const silent = await control({ nodeId, control: 'restart' });
  t.equal(silent.status, 504);
  t.equal(silent.json.error.code, 'CONTROL_TIMEOUT');
  peer.close();
  await new Promise((r) => setTimeout(r, 50));
  const gone = await control({ nodeId, control: 'restart' });
  t.equal(gone.status, 503);
  t.equal(gone.json.error.code, 'PROBE_UNREACHABLE');
  const results = audit().map((e) => `${e.who}:${e.result}`);
  t.same(results, ['alice:FORBIDDEN', 'root:UNKNOWN_NODE', 'root:CONTROL_NOT_OFFERED', 'root:CONTROL_FAILED', 'root:CONTROL_TIMEOUT', 'root:PROBE_UNREACHABLE']);
});

t.test('the control channel: probe token only, hello first, its own probe id only', async (t) => {
  const { app, probe } = await setup(t);
  const viewer = new TestProbePeer(app, TOKENS.viewer);
  await new Promise((r) => viewer.ws.addEventListener('error', r, { once: true }));
  t.equal(viewer.ws.readyState, WebSocket.CLOSED, 'a viewer token cannot open a control channel');
  const thief = new TestProbePeer(app, TOKENS.probe2);
  await thief.hello(probe.probeId, probe.hostId);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(thief.closed?.code, 1008, 'another token cannot claim the probe id');
  const rude = new TestProbePeer(app, TOKENS.probe);
  await new Promise((r) => rude.ws.addEventListener('open', r, { once: true }));
  rude.ws.send('{"type":"result","id":"1","ok":true}');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(rude.closed?.code, 1008, 'results before hello close the channel');
  const garbage = new TestProbePeer(app, TOKENS.probe);
  await new Promise((r) => garbage.ws.addEventListener('open', r, { once: true }));
  garbage.ws.send('not json');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(garbage.closed?.code, 1008);
  t.equal((await http(app, 'GET', '/healthz')).status, 200);
});
