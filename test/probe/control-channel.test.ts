/**
 * Container controls end to end, with real parts: the probe (collectors,
 * publisher, control channel) reports a real Podman container to the REAL app
 * (runtime/app, uWebSockets.js), a person's POST /api/control goes through the
 * app's control channel to the probe, and the probe runs it on the engine.
 * The real container's state is read back with the podman CLI.
 *
 * `--no-controls` is checked against a small TEST SERVER speaking
 * runtime/control/protocol.ts (the `ws` package), because the real app never
 * forwards a control to a probe whose hello said `controls: false`: only a
 * test server can ask anyway and show that the probe refuses.
 */
import { request } from 'undici';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { WebSocketServer } from 'ws';
import t from 'tap';
import { CONTROL_PATH, MAX_CONTROL_MESSAGE_BYTES, parseProbeMessage, type ProbeMessage } from '../../runtime/control/protocol';
import { containerNodeId, hostNodeId } from '../../runtime/report';
import { TokenStore } from '../../runtime/app/auth';
import { MonitoringApp } from '../../runtime/app/server';
import { createLogger } from '../../runtime/common/logging';
import { defaultCollectors } from '../../runtime/probe/collectors';
import { ControlChannel, runControl } from '../../runtime/probe/control-channel';
import { DockerEngine } from '../../runtime/probe/engine/docker-engine';
import { probeIdentity } from '../../runtime/probe/identity';
import { Probe } from '../../runtime/probe/probe';
import { Publisher } from '../../runtime/probe/publisher';
import { ensureBusyboxImage, podmanCli, podmanSkipReason, removeContainer, runContainer, startPodmanEngine, uniqueContainerName } from '../helpers/podman';
import { sleep } from './helpers';
import { tempDir } from '../helpers/temp-dir';
import { selfSignedCertificate } from '../helpers/tls';

const PROBE_TOKEN = 'probe-token-for-controls-0123';
const ADMIN_TOKEN = 'admin-token-for-controls-0123';
const CHATTY = ['sh', '-c', "trap 'exit 0' TERM; i=0; while :; do echo line-$i; i=$((i+1)); sleep 0.2; done"];

async function until(pred: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await sleep(25);
  }
  return pred();
}

const skip = podmanSkipReason();

t.test('controls through the real app change the real container', { skip: skip ?? false }, async (t) => {
  const [, engine] = await Promise.all([ensureBusyboxImage(), startPodmanEngine()]);
  t.teardown(() => engine.stop());
  const name = uniqueContainerName('probe-ctl');
  t.teardown(() => removeContainer(name));
  const id = await runContainer(name, CHATTY);
  const nodeId = containerNodeId(id);

  const app = new MonitoringApp({
    port: 0,
    tokens: TokenStore.parse(`probe-a:probe:${PROBE_TOKEN}\nroot:admin:${ADMIN_TOKEN}`, 'test'),
    logger: createLogger('app', { level: 'silent' }),
    controlTimeoutMs: 20_000,
  });
  await app.start();
  t.teardown(() => app.stop());

  const identity = probeIdentity();
  const publisher = new Publisher({ apps: [app.url], token: PROBE_TOKEN });
  const controlEngine = new DockerEngine({ socketPath: engine.socketPath });
  const channel = new ControlChannel({ app: app.url, identity, engine: controlEngine, bearer: () => PROBE_TOKEN, version: 'test', backoff: { initialMs: 100, maxMs: 500 } });
  let probe: Probe | null = null;
  probe = new Probe({ identity, intervalMs: 60_000, collectors: defaultCollectors({ identity, engineSocket: engine.socketPath, trigger: (n) => probe?.trigger(n) }), sink: publisher.publish });
  t.teardown(async () => {
    await probe!.stop();
    await channel.close();
    await publisher.close(0);
    await controlEngine.close();
  });
  probe.start();
  channel.start();
  t.ok(await until(() => channel.connected && publisher.status()[0]!.connected, 10_000), 'report accepted and control channel open');

  const state = async (): Promise<string> => (await podmanCli(['inspect', '-f', '{{.State.Status}}', name])).trim();
  /** POST /api/control as an admin; retries while the app has not yet seen the state that offers the control. */
  const control = async (control: string, extra: object = {}): Promise<{ status: number; json: any }> => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const r = await request(`${app.url}/api/control`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ nodeId, control, ...extra }),
      });
      const json = (await r.body.json()) as any;
      if (r.statusCode === 409 && json?.error?.code === 'CONTROL_NOT_OFFERED' && Date.now() < deadline) {
        await sleep(50);
        continue;
      }
      return { status: r.statusCode, json };
    }
  };

  let r = await control('pause');
  t.equal(r.status, 200, `pause: ${JSON.stringify(r.json)}`);
  t.equal(await state(), 'paused', 'the real container is paused');
  r = await control('unpause');
  t.equal(r.status, 200, 'unpause');
  t.equal(await state(), 'running');
  const startedBefore = (await podmanCli(['inspect', '-f', '{{.State.StartedAt}}', name])).trim();
  r = await control('restart');
  t.equal(r.status, 200, 'restart');
  t.equal(await state(), 'running');
  t.not((await podmanCli(['inspect', '-f', '{{.State.StartedAt}}', name])).trim(), startedBefore, 'started again');
  r = await control('stop');
  t.equal(r.status, 200, 'stop');
  t.equal(await state(), 'exited');
  r = await control('start');
  t.equal(r.status, 200, 'start');
  t.equal(await state(), 'running');
  await sleep(500);
  r = await control('logs', { tail: 3 });
  t.equal(r.status, 200, 'logs');
  t.equal(r.json.output?.length, 3, 'the last 3 lines');
  t.match(r.json.output?.[2], /^line-\d+$/);

  // The engine's error comes back as the result: unpause of a running container.
  const refused = await runControl(controlEngine, { type: 'control', id: 'x1', nodeId, control: 'unpause' }, '');
  t.match(refused, { ok: false, error: { code: /ENGINE_/ } }, `engine error returned: ${JSON.stringify(refused)}`);
  const notContainer = await runControl(controlEngine, { type: 'control', id: 'x2', nodeId: hostNodeId('h'), control: 'stop' }, '');
  t.match(notContainer, { ok: false, error: { code: 'BAD_NODE' } });
});

t.test('--no-controls: hello says so and requests are refused (test server speaking the protocol)', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', path: '/api/probe/control' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  t.teardown(() => new Promise<void>((r) => wss.close(() => r())));
  const port = (wss.address() as { port: number }).port;
  const got: ProbeMessage[] = [];
  const auth: string[] = [];
  let connections = 0;
  wss.on('connection', (ws, req) => {
    connections++;
    auth.push(String(req.headers.authorization));
    ws.on('message', (data) => {
      const m = parseProbeMessage(String(data));
      got.push(m);
      if (m.type === 'hello') ws.send(JSON.stringify({ type: 'control', id: 'r1', nodeId: containerNodeId('a'.repeat(64)), control: 'stop' }));
      else if (connections === 1) ws.close(1011, 'server restarting'); // then the probe must come back
    });
  });
  const identity = probeIdentity();
  const channel = new ControlChannel({ app: `http://127.0.0.1:${port}`, identity, engine: null, bearer: () => PROBE_TOKEN, version: '1.2.3', backoff: { initialMs: 50, maxMs: 100 } });
  t.teardown(() => channel.close());
  channel.start();
  t.ok(await until(() => got.length >= 2));
  t.same(got[0], { type: 'hello', probeId: identity.probeId, hostId: identity.hostId, controls: false, version: '1.2.3' });
  t.match(got[1], { type: 'result', id: 'r1', ok: false, error: { code: 'CONTROLS_DISABLED', message: /--no-controls/ } });
  t.equal(auth[0], `Bearer ${PROBE_TOKEN}`);
  t.ok(await until(() => connections >= 2 && got.filter((m) => m.type === 'hello').length >= 2), 'reconnected after the server closed, and said hello again');
});

t.test('over TLS: the channel trusts the CA it is given (--ca-file) and no other; a message over the protocol limit closes the socket (test server)', async (t) => {
  const dir = tempDir('control-tls-');
  const { certFile, keyFile, ...ssl } = selfSignedCertificate(dir);
  t.equal(ssl.status, 0, ssl.stderr);
  const cert = readFileSync(certFile, 'utf8');
  const server = createHttpsServer({ cert, key: readFileSync(keyFile, 'utf8') });
  const wss = new WebSocketServer({ server, path: CONTROL_PATH });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => {
    wss.close();
    server.closeAllConnections();
    server.close(() => r());
  }));
  const app = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  const hellos: ProbeMessage[] = [];
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      hellos.push(parseProbeMessage(String(data)));
      // The first session gets one byte more than a control message may have.
      if (hellos.length === 1) ws.send('x'.repeat(MAX_CONTROL_MESSAGE_BYTES + 1));
    });
  });
  const closes: string[] = [];
  const logger = { info: () => undefined, warn: (o: object) => closes.push(String((o as { reason?: unknown }).reason)) };
  const identity = probeIdentity();
  const trusted = new ControlChannel({ app, identity, engine: null, bearer: () => PROBE_TOKEN, version: '1.2.3', ca: cert, logger, backoff: { initialMs: 50, maxMs: 100 } });
  t.teardown(() => trusted.close());
  trusted.start();
  t.ok(await until(() => hellos.length >= 2, 10_000), 'hello over TLS, and again after the oversized message closed the first socket');
  t.match(closes[0], /max payload size exceeded/i, `closed as too big: ${closes[0]}`);
  t.match(hellos[0], { type: 'hello', probeId: identity.probeId });

  const refused: string[] = [];
  const untrusted = new ControlChannel({ app, identity, engine: null, bearer: () => PROBE_TOKEN, version: '1.2.3', logger: { info: () => undefined, warn: (o: object) => refused.push(String((o as { reason?: unknown }).reason)) }, backoff: { initialMs: 50, maxMs: 100 } });
  t.teardown(() => untrusted.close());
  const before = hellos.length;
  untrusted.start();
  t.ok(await until(() => refused.length >= 1, 10_000), 'without the CA the handshake fails');
  t.match(refused[0], /certificate/i, `the reason names the certificate: ${refused[0]}`);
  t.notOk(untrusted.connected);
  t.equal(hellos.length, before, 'no hello reached the server unverified');
});
