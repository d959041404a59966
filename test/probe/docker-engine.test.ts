/**
 * The probe's container-engine client against a REAL engine: Podman's
 * Docker-compatible API on a private socket, with real busybox containers.
 * Only the malformed-response tests use a fake server, because no real engine
 * can be made to send garbage on demand.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import t, { type Test } from 'tap';
import { DockerEngine, EngineError, type ContainerEvent, type EngineErrorCode } from '../../runtime/probe/engine/docker-engine';
import { detectFraming, logLines } from '../../runtime/probe/engine/log-frames';
import { ensureBusyboxImage, podmanCli, podmanSkipReason, removeContainer, runContainer, startPodmanEngine, uniqueContainerName, BUSYBOX_IMAGE, type PodmanEngine } from '../helpers/podman';

/** Exits at once on SIGTERM (a shell as pid 1 has no default TERM handler), so stop and restart are fast. */
const IDLE = ['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 0.1; done"];
const BUSY = ['sh', '-c', "trap 'exit 0' TERM; while :; do :; done"];

async function rejectsWith(t: Test, p: Promise<unknown>, code: EngineErrorCode, message?: RegExp): Promise<EngineError | undefined> {
  try {
    await p;
    t.fail(`expected ${code}, but it resolved`);
    return undefined;
  } catch (err) {
    if (!(err instanceof EngineError)) {
      t.fail(`expected an EngineError ${code}, got ${String(err)}`);
      return undefined;
    }
    t.equal(err.code, code, `${code}: ${err.message}`);
    if (message) t.match(err.message, message);
    return err;
  }
}

/** Collects events and lets a test wait for one that matches, with a deadline. */
class EventLog {
  readonly events: Array<ContainerEvent & { receivedAt: number }> = [];
  private waiters: Array<() => void> = [];

  push = (e: ContainerEvent): void => {
    this.events.push({ ...e, receivedAt: Date.now() });
    for (const w of this.waiters.splice(0)) w();
  };

  async waitFor(pred: (e: ContainerEvent) => boolean, timeoutMs: number): Promise<(ContainerEvent & { receivedAt: number }) | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

const skip = podmanSkipReason();

t.test('against the real Podman engine', { skip: skip ?? false }, async (t) => {
  const [, service] = await Promise.all([ensureBusyboxImage(), startPodmanEngine()]);
  const podmanService: PodmanEngine = service;
  const engine = new DockerEngine({ socketPath: podmanService.socketPath });
  t.teardown(async () => {
    await engine.close();
    await podmanService.stop();
  });

  /** Runs a container that the test's teardown removes, pass or fail. */
  const container = async (tt: Test, prefix: string, args: string[], opts?: Parameters<typeof runContainer>[2]): Promise<{ name: string; id: string }> => {
    const name = uniqueContainerName(prefix);
    tt.teardown(() => removeContainer(name));
    return { name, id: await runContainer(name, args, opts) };
  };

  t.test('version', async (t) => {
    const v = await engine.version();
    t.equal(v.apiVersion, '1.41');
    t.equal(v.os, 'linux');
    t.match(v.version, /^\d+\.\d+/);
    t.ok(v.arch.length > 0);
  });

  t.test('a started container is listed with its image, state and labels', async (t) => {
    const { name, id } = await container(t, 'list', IDLE, { labels: { 'orchestrator.test': 'list' }, network: 'host' });
    const all = await engine.listContainers();
    const c = all.find((x) => x.id === id);
    if (!c) {
      t.fail(`container ${name} not in the list of ${all.length}`);
      return;
    }
    t.equal(c.name, name, 'name without the leading /');
    t.equal(c.image, BUSYBOX_IMAGE);
    t.match(c.imageId, /^sha256:[0-9a-f]{64}$/);
    t.equal(c.state, 'running');
    t.match(c.status, /^Up/);
    t.equal(c.labels['orchestrator.test'], 'list');
    t.match(c.command, /^sh -c /);
    t.ok(Math.abs(c.createdAt - Date.now() / 1000) < 120, 'createdAt is unix seconds, recent');
  });

  t.test('inspect gives the pid and the details', async (t) => {
    const { name, id } = await container(t, 'inspect', IDLE, { network: 'host' });
    const d = await engine.inspect(name);
    t.equal(d.id, id);
    t.equal(d.name, name);
    t.equal(d.state, 'running');
    t.ok(d.pid > 0, `pid ${d.pid}`);
    t.ok(existsSync(`/proc/${d.pid}`), 'the pid is a real process on this host');
    t.equal(d.networkMode, 'host');
    t.equal(d.image, BUSYBOX_IMAGE);
    t.match(d.imageId, /^sha256:/);
    t.ok(d.startedAt && Date.parse(d.startedAt) > 0);
    t.equal(d.exitCode, undefined, 'no exit code while running');
    t.ok(d.env.some((e) => e.startsWith('PATH=')));
    t.equal(d.restartCount, 0);
    t.match(d.status, /^Up/);
  });

  t.test('stats: memory, pids, and CPU from consecutive samples', async (t) => {
    const { name } = await container(t, 'stats', BUSY);
    const first = await engine.stats(name);
    t.ok(first.memoryBytes > 0, `memory ${first.memoryBytes}`);
    t.ok(first.memoryLimitBytes >= first.memoryBytes);
    t.ok(first.pids >= 1);
    t.ok(Date.parse(first.readAt) > 0);
    await new Promise((r) => setTimeout(r, 1000));
    const second = await engine.stats(name);
    // A busy loop on a shared, noisy machine: some share of a core, never more than all of them.
    t.ok(second.cpuPercent > 0 && second.cpuPercent <= os.cpus().length * 100, `cpu ${second.cpuPercent.toFixed(1)}% of one core`);

    const { name: stopped } = await container(t, 'stats-stopped', IDLE, { createOnly: true });
    await rejectsWith(t, engine.stats(stopped), 'ENGINE_CONFLICT');
  });

  t.test('a pass\'s stats reuse the connections of the pass before (kept past undici\'s 4 s default)', async (t) => {
    const names = await Promise.all(['keep-a', 'keep-b', 'keep-c'].map(async (p) => (await container(t, p, IDLE)).name));
    let connects = 0;
    const counted = (): void => {
      connects++;
    };
    diagnosticsChannel.subscribe('undici:client:connected', counted);
    t.teardown(() => diagnosticsChannel.unsubscribe('undici:client:connected', counted));
    await Promise.all(names.map((n) => engine.stats(n)));
    const first = connects;
    // Longer than undici's default keep-alive (4 s), shorter than a pass interval.
    await new Promise((r) => setTimeout(r, 5000));
    await Promise.all(names.map((n) => engine.stats(n)));
    t.equal(connects, first, `no new connection for the second round (${first} made before it)`);
  });

  t.test('events: start within 1 s, and die', async (t) => {
    const log = new EventLog();
    const ac = new AbortController();
    const streaming = engine.events(log.push, ac.signal);
    t.teardown(() => ac.abort());
    const name = uniqueContainerName('events');
    t.teardown(() => removeContainer(name));
    const ours = (action: string) => (e: ContainerEvent) => e.attributes['name'] === name && e.action === action;

    // The create event proves the stream is live before the timed part starts.
    const id = await runContainer(name, IDLE, { createOnly: true });
    const created = await log.waitFor(ours('create'), 10_000);
    t.ok(created, 'create event');
    t.equal(created?.id, id);

    const t0 = Date.now();
    await podmanCli(['start', name]);
    const started = await log.waitFor(ours('start'), 5000);
    if (!started) {
      t.fail('no start event');
      return;
    }
    const latency = started.receivedAt - t0;
    // Arriving at all proves the stream (nothing here polls); how soon is printed, not asserted.
    t.comment(`start event ${latency} ms after podman start was issued`);
    t.ok(Math.abs(started.time - started.receivedAt) < 5000, 'event time is unix ms');

    const t1 = Date.now();
    await podmanCli(['kill', name]);
    const died = await log.waitFor(ours('die'), 5000);
    if (!died) {
      t.fail('no die event');
      return;
    }
    t.comment(`die event ${died.receivedAt - t1} ms after podman kill`);
    t.equal(died.id, id);

    ac.abort();
    await t.resolves(streaming, 'events() resolves when aborted');
  });

  t.test('controls change the real container', async (t) => {
    const { name, id } = await container(t, 'control', IDLE);
    const state = async () => (await engine.inspect(id)).state;

    await engine.control(id, 'pause');
    t.equal(await state(), 'paused');
    t.equal((await engine.listContainers()).find((c) => c.id === id)?.state, 'paused', 'list agrees');
    await engine.control(id, 'unpause');
    t.equal(await state(), 'running');

    const before = await engine.inspect(id);
    await engine.control(id, 'restart');
    const after = await engine.inspect(id);
    t.equal(after.state, 'running');
    t.not(after.pid, before.pid, 'restart gave a new process');

    await engine.control(name, 'stop');
    const stopped = await engine.inspect(id);
    t.equal(stopped.state, 'exited');
    t.equal(stopped.pid, 0);
    t.equal(stopped.exitCode, 0, 'the TERM trap exited 0');
    t.match(stopped.status, /^Exited \(0\)/);
    await engine.control(id, 'stop'); // 304: already stopped is not an error
    await rejectsWith(t, engine.control(id, 'pause'), 'ENGINE_CONFLICT', /not running/);

    await engine.control(id, 'start');
    t.equal(await state(), 'running');

    await engine.control(id, 'remove');
    await rejectsWith(t, engine.inspect(id), 'ENGINE_NOT_FOUND');
    t.notOk((await engine.listContainers()).some((c) => c.id === id), 'gone from the list');
  });

  t.test('logs: the last N lines of stdout and stderr', async (t) => {
    // The pauses keep the order across the two pipes that conmon reads.
    const script = 'i=1; while [ $i -le 12 ]; do echo out$i; sleep 0.03; echo err$i >&2; sleep 0.03; i=$((i+1)); done';
    const { name } = await container(t, 'logs', ['sh', '-c', script]);
    await podmanCli(['wait', name]);
    t.same(await engine.logs(name, 6), ['out10', 'err10', 'out11', 'err11', 'out12', 'err12']);
    t.same(await engine.logs(name, 1), ['err12']);
    t.same(await engine.logs(name, 0), []);
    t.equal((await engine.logs(name, 1000)).length, 24, 'fewer lines than asked: all of them');
  });

  t.test('logs of a container with a TTY are plain text', async (t) => {
    // Kept running: a TTY container that exits at once can lose its last output
    // before conmon drains the terminal, which would test Podman, not the client.
    const { name } = await container(t, 'logs-tty', ['sh', '-c', "trap 'exit 0' TERM; echo one; echo two; echo three; while :; do sleep 0.1; done"], { tty: true });
    let lines: string[] = [];
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      lines = await engine.logs(name, 2);
      if (lines.at(-1) === 'three') break;
    }
    t.same(lines, ['two', 'three']);
  });

  t.test('events: an engine that goes away breaks the stream with ENGINE_UNREACHABLE', async (t) => {
    const doomed = await startPodmanEngine();
    t.teardown(() => doomed.stop());
    const client = new DockerEngine({ socketPath: doomed.socketPath });
    t.teardown(() => client.close());
    const outcome = rejectsWith(t, client.events(() => undefined, new AbortController().signal), 'ENGINE_UNREACHABLE');
    await client.version();
    await doomed.stop();
    await outcome;
  });

  t.test('close() ends an open event stream quietly', async (t) => {
    const second = new DockerEngine({ socketPath: podmanService.socketPath });
    const streaming = second.events(() => undefined, new AbortController().signal);
    await second.version(); // usually lets the stream connect first; close() must end it either way
    await second.close();
    await t.resolves(streaming);
    await rejectsWith(t, second.version(), 'ENGINE_UNREACHABLE');
  });

  t.test('a missing container is ENGINE_NOT_FOUND', async (t) => {
    const missing = uniqueContainerName('never-created');
    for (const action of ['start', 'stop', 'restart', 'pause', 'unpause', 'remove'] as const) {
      const err = await rejectsWith(t, engine.control(missing, action), 'ENGINE_NOT_FOUND');
      t.equal(err?.status, 404);
    }
    await rejectsWith(t, engine.inspect(missing), 'ENGINE_NOT_FOUND');
    await rejectsWith(t, engine.stats(missing), 'ENGINE_NOT_FOUND');
    await rejectsWith(t, engine.logs(missing, 5), 'ENGINE_NOT_FOUND');
    // Never sent: it could not be a container reference, and it must not reach the URL path.
    await rejectsWith(t, engine.control('../../version', 'stop'), 'ENGINE_NOT_FOUND', /not a valid container/);
  });
});

t.test('nothing behind the socket path is ENGINE_UNREACHABLE', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'engine-unreachable-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const missing = new DockerEngine({ socketPath: path.join(dir, 'no.sock'), timeoutMs: 2000 });
  t.teardown(() => missing.close());
  await rejectsWith(t, missing.version(), 'ENGINE_UNREACHABLE');
  await rejectsWith(t, missing.control('web', 'stop'), 'ENGINE_UNREACHABLE');
  await rejectsWith(t, missing.events(() => undefined, new AbortController().signal), 'ENGINE_UNREACHABLE');

  // A leftover file where the socket was (engine crashed): connect is refused.
  const stale = path.join(dir, 'stale.sock');
  await writeFile(stale, '');
  const refused = new DockerEngine({ socketPath: stale, timeoutMs: 2000 });
  t.teardown(() => refused.close());
  await rejectsWith(t, refused.listContainers(), 'ENGINE_UNREACHABLE');
});

// ---------------------------------------------------------------------------
// Malformed responses. Fake server on purpose: a real engine cannot be made to
// send these, and the client must turn each into ENGINE_BAD_RESPONSE.

type Reply = (socket: net.Socket, requestHead: string) => void;

async function fakeEngine(t: Test, reply: Reply): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fake-engine-'));
  const socketPath = path.join(dir, 'engine.sock');
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        const h = head;
        head = '';
        reply(socket, h);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  return socketPath;
}

function httpResponse(body: string | Buffer, headers: Record<string, string> = {}): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const lines = ['HTTP/1.1 200 OK', 'Content-Type: application/json', `Content-Length: ${bytes.length}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), bytes]);
}

const answer = (body: string | Buffer): Reply => (socket) => socket.end(httpResponse(body));

const validListItem = {
  Id: 'a'.repeat(64),
  Names: ['/web'],
  Image: 'web:1',
  ImageID: 'sha256:' + 'b'.repeat(64),
  Command: 'httpd',
  Created: 1700000000,
  State: 'running',
  Status: 'Up 1 second',
  Labels: null,
  Ports: null,
};

t.test('malformed responses (fake server: the real engine cannot produce these) are ENGINE_BAD_RESPONSE', async (t) => {
  const client = async (reply: Reply, opts: { maxResponseBytes?: number; timeoutMs?: number } = {}) => {
    const engine = new DockerEngine({ socketPath: await fakeEngine(t, reply), timeoutMs: 2000, ...opts });
    t.teardown(() => engine.close());
    return engine;
  };

  t.test('the fake itself answers a well-formed list', async (t) => {
    const engine = await client(answer(JSON.stringify([validListItem])));
    const [c] = await engine.listContainers();
    t.equal(c?.name, 'web');
    t.same(c?.labels, {});
    t.same(c?.ports, []);
  });

  t.test('a container listed under link aliases keeps its own name', async (t) => {
    const engine = await client(answer(JSON.stringify([{ ...validListItem, Names: ['/web/db', '/db'] }])));
    t.equal((await engine.listContainers())[0]?.name, 'db');
  });

  t.test('error statuses keep the engine message', async (t) => {
    const status = (code: number, body: string): Reply => (socket) =>
      socket.end(`HTTP/1.1 ${code} X\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const err = await rejectsWith(t, (await client(status(500, '{"message": "disk full"}'))).control('web', 'start'), 'ENGINE_REJECTED', /disk full/);
    t.equal(err?.status, 500);
    await rejectsWith(t, (await client(status(409, '{"message": "is paused"}'))).control('web', 'stop'), 'ENGINE_CONFLICT', /is paused/);
    await rejectsWith(t, (await client(status(503, 'upstream gone'))).version(), 'ENGINE_REJECTED', /upstream gone/);
  });

  t.test('garbage JSON', async (t) => {
    await rejectsWith(t, (await client(answer('{"Id": [1, '))).listContainers(), 'ENGINE_BAD_RESPONSE', /invalid JSON/);
    await rejectsWith(t, (await client(answer('<html>oops</html>'))).version(), 'ENGINE_BAD_RESPONSE', /invalid JSON/);
    await rejectsWith(t, (await client(answer(''))).version(), 'ENGINE_BAD_RESPONSE', /empty body/);
  });

  t.test('well-formed JSON of the wrong shape names the field', async (t) => {
    await rejectsWith(t, (await client(answer('{"containers": []}'))).listContainers(), 'ENGINE_BAD_RESPONSE', /expected an array/);
    await rejectsWith(t, (await client(answer(JSON.stringify([validListItem, { ...validListItem, Image: 5 }])))).listContainers(), 'ENGINE_BAD_RESPONSE', /\[1\]\.Image: expected a string, got number 5/);
    await rejectsWith(t, (await client(answer(JSON.stringify([{ ...validListItem, State: 'exploded' }])))).listContainers(), 'ENGINE_BAD_RESPONSE', /State: expected a container state/);
    await rejectsWith(t, (await client(answer(JSON.stringify([{ ...validListItem, Labels: { a: 1 } }])))).listContainers(), 'ENGINE_BAD_RESPONSE', /Labels\["a"\]/);
    await rejectsWith(t, (await client(answer(JSON.stringify([{ ...validListItem, Id: '../x' }])))).listContainers(), 'ENGINE_BAD_RESPONSE', /Id: expected a container id/);
    await rejectsWith(t, (await client(answer(JSON.stringify([{ ...validListItem, Ports: [{ PrivatePort: 70000, Type: 'tcp' }] }])))).listContainers(), 'ENGINE_BAD_RESPONSE', /PrivatePort: expected a port/);
    await rejectsWith(t, (await client(answer('{"ApiVersion": "1.41"}'))).version(), 'ENGINE_BAD_RESPONSE', /Version: expected a string/);
    await rejectsWith(t, (await client(answer('{"Id": "web", "Config": {}, "State": {"Pid": 1}}'))).inspect('web'), 'ENGINE_BAD_RESPONSE', /State\.Status/);
    await rejectsWith(t, (await client(answer('{"read": "2024-01-01T00:00:00Z", "memory_stats": {"usage": "lots"}}'))).stats('web'), 'ENGINE_BAD_RESPONSE', /memory_stats\.usage: expected a non-negative integer/);
  });

  t.test('a truncated body', async (t) => {
    const declaredMore: Reply = (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[{"Id": "abc"');
      setTimeout(() => socket.destroy(), 20);
    };
    await rejectsWith(t, (await client(declaredMore)).listContainers(), 'ENGINE_BAD_RESPONSE', /broken response/);
    const chunkedCut: Reply = (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n[{"Id": "abc", "Names": ["/we');
      setTimeout(() => socket.destroy(), 20);
    };
    await rejectsWith(t, (await client(chunkedCut)).listContainers(), 'ENGINE_BAD_RESPONSE', /broken response/);
  });

  t.test('an oversized body', async (t) => {
    const big = JSON.stringify([validListItem, validListItem, validListItem, validListItem, validListItem, validListItem, validListItem, validListItem]);
    await rejectsWith(t, (await client(answer(big), { maxResponseBytes: 1024 })).listContainers(), 'ENGINE_BAD_RESPONSE', /exceeds the limit of 1024/);
    // No Content-Length: the limit still holds while streaming.
    const chunked: Reply = (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
      const piece = Buffer.alloc(512, 0x20);
      for (let i = 0; i < 8; i++) socket.write(`${piece.length.toString(16)}\r\n${piece.toString()}\r\n`);
      socket.end('0\r\n\r\n');
    };
    await rejectsWith(t, (await client(chunked, { maxResponseBytes: 1024 })).listContainers(), 'ENGINE_BAD_RESPONSE', /exceeds the limit of 1024/);
  });

  t.test('not HTTP at all', async (t) => {
    await rejectsWith(t, (await client((socket) => socket.end('SSH-2.0-OpenSSH\r\n\r\n'))).version(), 'ENGINE_BAD_RESPONSE');
  });

  t.test('a garbage event line breaks the stream with ENGINE_BAD_RESPONSE', async (t) => {
    const stream: Reply = (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
      const good = JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: 'a'.repeat(64), Attributes: { name: 'web' } }, time: 1700000000, timeNano: 1700000000123456789 }) + '\n';
      const bad = '{"Type": "container", "Action": \n';
      for (const line of [good, bad]) socket.write(`${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n`);
    };
    const seen: ContainerEvent[] = [];
    const engine = await client(stream);
    await rejectsWith(t, engine.events((e) => seen.push(e), new AbortController().signal), 'ENGINE_BAD_RESPONSE', /invalid JSON/);
    t.equal(seen.length, 1, 'the good event before it was delivered');
    t.equal(seen[0]?.time, 1700000000123);
    t.equal(seen[0]?.action, 'start');
  });

  t.test('an engine that ends the event stream is ENGINE_UNREACHABLE', async (t) => {
    const ends: Reply = (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    await rejectsWith(t, (await client(ends)).events(() => undefined, new AbortController().signal), 'ENGINE_UNREACHABLE', /ended the event stream/);
  });

  t.test('broken log frames', async (t) => {
    const frame = Buffer.from([1, 0, 0, 0, 0, 0, 0, 50, 0x61, 0x62, 0x0a]); // declares 50 bytes, has 3
    const reply: Reply = (socket) => socket.end(httpResponse(frame, { 'X-Note': 'log' }));
    await rejectsWith(t, (await client(reply)).logs('web', 5), 'ENGINE_BAD_RESPONSE', /declares 50 bytes/);
  });

  t.test('an engine that never answers is ENGINE_TIMEOUT', async (t) => {
    const silent: Reply = () => undefined;
    const started = Date.now();
    await rejectsWith(t, (await client(silent, { timeoutMs: 300 })).listContainers(), 'ENGINE_TIMEOUT');
    t.ok(Date.now() - started < 2000, 'within the deadline');
  });

  t.test('requests queued for a connection behind a silent engine time out on their own deadline', async (t) => {
    const silent: Reply = () => undefined;
    const engine = await client(silent, { timeoutMs: 300 });
    const started = Date.now();
    // More than the pool's 8 connections: the rest wait in its queue when their deadline passes.
    const all = await Promise.allSettled(Array.from({ length: 20 }, () => engine.listContainers()));
    const codes = all.map((r) => (r.status === 'rejected' ? (r.reason as EngineError).code : 'answered'));
    t.same(new Set(codes), new Set(['ENGINE_TIMEOUT']), `every one ENGINE_TIMEOUT (${[...new Set(codes)].join(', ')})`);
    t.ok(Date.now() - started < 2000, 'none waited for another to end first');
  });
});

t.test('log frame decoding (pure)', async (t) => {
  const frame = (stream: number, text: string | Buffer): Buffer => {
    const payload = typeof text === 'string' ? Buffer.from(text) : text;
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };
  const euro = Buffer.from('€\n'); // 3 bytes + newline: split inside the character
  const body = Buffer.concat([frame(1, 'a1\na2'), frame(2, 'e1\n'), frame(1, '-tail\n'), frame(1, euro.subarray(0, 1)), frame(1, euro.subarray(1)), frame(2, 'no newline')]);
  t.equal(detectFraming(body, 'application/octet-stream'), 'multiplexed');
  t.same(logLines(body, 'multiplexed'), ['a1', 'e1', 'a2-tail', '€', 'no newline']);
  const tty = Buffer.from('one\r\ntwo\r\n');
  t.equal(detectFraming(tty, undefined), 'raw');
  t.same(logLines(tty, 'raw'), ['one', 'two']);
  t.equal(detectFraming(tty, 'application/vnd.docker.multiplexed-stream'), 'multiplexed', 'the content type wins when it says');
  t.same(logLines(Buffer.alloc(0), 'multiplexed'), []);
  t.throws(() => logLines(Buffer.from([7, 0, 0, 0, 0, 0, 0, 1, 0x61]), 'multiplexed'), { code: 'ENGINE_BAD_RESPONSE' });
});
