/**
 * `orchestrator up` as a person runs it: one command, no configuration; the
 * printed link and token open an app that already shows this machine.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { freePort, until } from './helpers/stack';

const CLI = join(__dirname, '../runtime/cli.ts');

interface Up {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startUp(args: string[]): Up {
  // tsx loaded in-process (not its CLI, which runs a grandchild): a kill reaches `up` itself.
  const proc = spawn(process.execPath, ['--import', require.resolve('tsx'), CLI, 'up', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += String(d)));
  proc.stderr!.on('data', (d: Buffer) => (err += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/**
 * The test's own connections: closed before the port check, as a browser closes its side when
 * the app goes away (a client that never closes keeps the server's half in FIN_WAIT2).
 */
const agent = new Agent();
t.teardown(() => agent.close().catch(() => undefined));

async function getJson(url: string, token?: string): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await request(url, { dispatcher: agent, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await r.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.statusCode, json };
}


function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

interface Meta {
  id: string;
  value: unknown;
}

t.test('up: app and probe in one command; the printed link shows this machine; SIGTERM stops it cleanly', async (t) => {
  // A fixed port, as a person gives it: with port 0, uWebSockets.js leaves SO_REUSEADDR off, so
  // the port would stay blocked by TIME_WAIT for a minute after the stop, which is not what a
  // person meets with the default 4040.
  const up = startUp(['--listen', `127.0.0.1:${await freePort()}`]);
  t.teardown(() => {
    if (up.proc.exitCode === null && up.proc.signalCode === null) up.proc.kill('SIGKILL');
  });
  // tsx compiles on the first run: allow it time to print the banner.
  const banner = await until('the banner', 30_000, () => {
    if (up.proc.exitCode !== null) throw new Error(`exited ${up.proc.exitCode}: ${up.stderr()}`);
    return /^\s*token\s+\S+/m.test(up.stdout()) ? up.stdout() : undefined;
  });
  const link = /^\s*open\s+(http:\/\/127\.0\.0\.1:(\d+))\/#token=(\S+)$/m.exec(banner);
  t.ok(link, 'a link with the token in its fragment');
  const base = link![1]!;
  const port = Number(link![2]);
  const token = /^\s*token\s+(\S+)/m.exec(banner)![1]!;
  t.equal(link![3], token, 'the link carries the printed token');
  t.ok(token.length >= 32 && /^[A-Za-z0-9_-]+$/.test(token), 'a long random token');
  t.match(banner, /^\s*containers\s+\S/m, 'says what it found for containers');
  t.notOk(up.stderr().includes(token), 'the token is not in the logs');

  // The printed token is an admin token; there is no other way in.
  const who = await getJson(`${base}/api/whoami`, token);
  t.equal(who.status, 200);
  t.equal(who.json.role, 'admin');
  t.equal((await getJson(`${base}/api/topology`)).status, 401, 'no token, no API');
  t.equal((await getJson(`${base}/api/topology`, 'x'.repeat(32))).status, 401, 'a guessed token, no API');

  const t0 = Date.now();
  const host = await until('this machine in the hosts view', 10_000, async () => {
    const r = await getJson(`${base}/api/topology/hosts`, token);
    return (r.json?.nodes as Array<{ label: string }> | undefined)?.find((n) => n.label === hostname());
  });
  t.ok(host, `hosts view has ${hostname()}`);
  const me = await until('the test process in the processes view', 10_000, async () => {
    const r = await getJson(`${base}/api/topology/processes`, token);
    return (r.json?.nodes as Array<{ id: string; metadata: Meta[] }> | undefined)?.find((n) => n.metadata.some((m) => m.id === 'pid' && String(m.value) === String(process.pid)));
  });
  t.ok(me, `processes view has this test (pid ${process.pid})`);
  t.comment(`this machine and this process visible ${Date.now() - t0} ms after the banner`);

  const probes = await until('the probe with its control channel', 10_000, async () => {
    const r = await getJson(`${base}/api/probes`, token);
    return Array.isArray(r.json) && r.json.length === 1 && r.json[0].controlChannel === true ? r.json : undefined;
  });
  t.equal(probes.length, 1, 'one probe');
  t.equal(probes[0].state, 'live');

  const noEngine = /^\s*containers\s+none:/m.test(banner);
  if (noEngine) {
    const said = up.stderr().split('\n').filter((l) => l.includes('"service":"probe"') && /no Docker or Podman socket found/.test(l) && /containers off/.test(l));
    t.equal(said.length, 1, 'without an engine, the probe says so once');
  } else {
    t.comment('an engine socket was found here: the no-engine message is not checked');
  }

  // A second `up` on the same port is refused with a clear message (uWS binds with SO_REUSEPORT; `up` checks first).
  const second = startUp(['--listen', `127.0.0.1:${port}`]);
  t.teardown(() => {
    if (second.proc.exitCode === null && second.proc.signalCode === null) second.proc.kill('SIGKILL');
  });
  const refused = await Promise.race([second.exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
  t.ok(refused, 'the second up exits');
  t.equal(refused?.code, 1, 'exit 1');
  t.match(second.stderr(), new RegExp(`127\\.0\\.0\\.1:${port} is already in use`), 'names the taken address');
  t.match(second.stderr(), /--listen/, 'and says how to choose another');

  const stopAt = Date.now();
  up.proc.kill('SIGTERM');
  const exit = await Promise.race([up.exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
  t.same(exit, { code: 0, signal: null }, 'exit 0 on SIGTERM');
  t.comment(`stopped in ${Date.now() - stopAt} ms`);
  t.match(up.stdout(), /stopped \(SIGTERM\)/);
  t.match(up.stderr(), /"service":"app".*"msg":"stopped"/);
  await agent.close();
  t.ok(await portFree(port), 'the port is free again');
});

t.test('up: a port held by another program is a clear error', async (t) => {
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  t.teardown(() => new Promise<void>((r) => holder.close(() => r())));
  const port = (holder.address() as net.AddressInfo).port;
  const up = startUp(['--listen', `127.0.0.1:${port}`]);
  t.teardown(() => {
    if (up.proc.exitCode === null && up.proc.signalCode === null) up.proc.kill('SIGKILL');
  });
  const exit = await Promise.race([up.exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
  t.equal(exit?.code, 1);
  t.match(up.stderr(), new RegExp(`^orchestrator: 127\\.0\\.0\\.1:${port} is already in use`, 'm'));
  t.equal(up.stdout(), '', 'no token printed for an app that did not start');
});

t.test('up --help lists its options and the default address', async (t) => {
  const up = startUp(['--help']);
  const exit = await up.exited;
  t.equal(exit.code, 0);
  t.match(up.stdout(), /--listen <host:port>.*\(default: 127\.0\.0\.1:4040\)/s);
  t.match(up.stdout(), /--engine-socket/);
});
