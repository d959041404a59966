/**
 * The real stack for end-to-end tests: `orchestrator app` and `orchestrator
 * probe` as two separate processes (as in a cluster: the app in one place, a
 * probe on each host), talking over loopback HTTP and WebSocket. The app
 * listens on a free port and accepts freshly generated tokens (probe, viewer,
 * admin); the probe reports the containers of the engine socket it is given
 * (e.g. test/helpers/podman.ts's). `startStack` returns once the probe has
 * reported and holds its control channel; `stop` ends both processes and
 * removes the temporary directory (tokens, audit log).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';

const CLI = join(__dirname, '..', '..', 'runtime', 'cli.ts');
export const PROCESS_START_MS = 20_000;

/** One `orchestrator` subcommand as a child process (tsx loaded in-process, so a kill reaches the command itself). */
export interface Proc {
  name: string;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function startCli(name: string, args: string[], env: Record<string, string> = {}): Proc {
  const proc = spawn(process.execPath, ['--import', require.resolve('tsx'), CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out = (out + String(d)).slice(-200_000)));
  proc.stderr!.on('data', (d: Buffer) => (out = (out + String(d)).slice(-200_000)));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { name, proc, output: () => out, exited };
}

/** SIGTERM, then the exit code (null when it had to be killed after `ms`). */
export async function stopCli(p: Proc, ms = 10_000): Promise<number | null | 'killed'> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return p.proc.exitCode;
  p.proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([p.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)))]);
  clearTimeout(timer); // a pending timer would hold the test process open for `ms`
  if (code !== 'timeout') return code;
  p.proc.kill('SIGKILL');
  await p.exited;
  return 'killed';
}

/** Polls `fn` every 50 ms until it returns a value; fails after `ms`, or at once if one of `procs` exits. */
export async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined> | T | undefined, procs: Proc[] = []): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    for (const p of procs) if (p.proc.exitCode !== null) throw new Error(`${p.name} exited ${p.proc.exitCode} while waiting for ${what}:\n${p.output().slice(-4000)}`);
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface StackTokens {
  /** The probe's token (identity `probe-e2e`). */
  probe: string;
  /** A viewer (identity `viewer-e2e`). */
  viewer: string;
  /** An admin (identity `alice`). */
  admin: string;
}

export interface ProbeInfo {
  probeId: string;
  controlChannel: boolean;
  [k: string]: unknown;
}

export interface Stack {
  port: number;
  /** http://127.0.0.1:PORT */
  base: string;
  /** ws://127.0.0.1:PORT */
  wsBase: string;
  tokens: StackTokens;
  /** The app's audit log (JSON lines). */
  auditLog: string;
  app: Proc;
  probe: Proc;
  procs: Proc[];
  /** GET /api/probes once the probe reported with its control channel open. */
  probes: ProbeInfo[];
  /** Both processes' output tails, for a failure message. */
  output(): string;
  /** Stops the probe, then the app (SIGTERM, SIGKILL after 10 s), and removes the directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StackOptions {
  /** The container engine's API socket the probe reads (and controls). */
  engineSocket: string;
  /** Extra environment for both processes (e.g. ORCHESTRATOR_UI_DIR for the app). */
  env?: Record<string, string>;
  /** Bound on the app coming up and the probe reporting; default 20 s. */
  readyMs?: number;
}

const token = (role: string): string => `e2e-${role}-${randomBytes(16).toString('hex')}`;

/** Starts the app and a probe as two processes; resolves when the probe reports with its control channel open. */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-stack-'));
  const tokens: StackTokens = { probe: token('probe'), viewer: token('viewer'), admin: token('admin') };
  const tokensFile = join(dir, 'tokens');
  writeFileSync(tokensFile, `probe-e2e:probe:${tokens.probe}\nviewer-e2e:viewer:${tokens.viewer}\nalice:admin:${tokens.admin}\n`, { mode: 0o600 });
  const probeTokenFile = join(dir, 'probe-token');
  writeFileSync(probeTokenFile, tokens.probe + '\n', { mode: 0o600 });
  const auditLog = join(dir, 'audit.jsonl');

  let port: number;
  try {
    port = await freePort();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const base = `http://127.0.0.1:${port}`;
  const env = opts.env ?? {};
  const app = startCli('app', ['app', '--listen', `127.0.0.1:${port}`, '--tokens-file', tokensFile, '--audit-log', auditLog], env);
  const probe = startCli('probe', ['probe', '--app', base, '--token-file', probeTokenFile, '--engine-socket', opts.engineSocket], env);
  const procs = [app, probe];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await stopCli(probe);
      await stopCli(app);
      rmSync(dir, { recursive: true, force: true });
    })());
  const output = (): string => procs.map((p) => `--- ${p.name} output (tail) ---\n${p.output().slice(-6000)}\n`).join('');

  const agent = new Agent();
  try {
    const probes = await until(
      'the probe reporting with an open control channel',
      opts.readyMs ?? PROCESS_START_MS,
      async () => {
        const r = await request(base + '/api/probes', { dispatcher: agent, headers: { authorization: `Bearer ${tokens.viewer}` } });
        const json = (await r.body.json()) as unknown;
        return r.statusCode === 200 && Array.isArray(json) && json.length === 1 && (json[0] as ProbeInfo).controlChannel === true ? (json as ProbeInfo[]) : undefined;
      },
      procs,
    );
    return { port, base, wsBase: `ws://127.0.0.1:${port}`, tokens, auditLog, app, probe, procs, probes, output, stop };
  } catch (err) {
    const tail = output();
    await stop();
    throw new Error(`${(err as Error).message}\n${tail}`);
  } finally {
    await agent.close().catch(() => undefined);
  }
}
