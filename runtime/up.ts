/**
 * `orchestrator up`: the monitoring app and a probe for this machine, in one
 * process, with nothing to configure.
 *
 *     orchestrator up [--listen 127.0.0.1:4040] [--engine-socket PATH] [--no-engine]
 *                     [--no-controls] [--interval 15s] [--audit-log F]
 *
 * - Two random tokens are made at start (an admin token for the person, a
 *   probe token for the probe). They exist only in this process's memory:
 *   nothing is written to disk, and they change on every start.
 * - The app listens on 127.0.0.1:4040 unless told otherwise; a port that is
 *   taken is a clear error (checked first: uWebSockets.js binds with
 *   SO_REUSEPORT, so a second `up` on the same port would otherwise share it
 *   silently).
 * - The probe publishes to the app over loopback HTTP and holds its control
 *   channel over a WebSocket, exactly as a probe on another machine would:
 *   the same code paths, only the process is shared.
 * - Containers come from Docker's or Podman's socket when one is found
 *   (runtime/probe/engine/socket-path.ts); without one the probe says so once
 *   and hosts, processes and connections still show.
 * - stdout carries the URL to open (with the admin token in its fragment, which
 *   browsers never send) and the token; logs are JSON lines on stderr.
 * - SIGTERM/SIGINT: the probe stops, its queue drains, channels close, the app
 *   stops; exit 0 (forced with exit 1 after 8 s).
 *
 * One process rather than an app plus a child probe: nothing to supervise, no
 * orphan probe if `up` is killed hard, and the tokens never leave memory.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { hostname as osHostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import pino from 'pino';
import { parseListen, type Listen } from './app/command';
import { TokenStore } from './app/auth';
import { MonitoringApp } from './app/server';
import { uiDir } from './app/static';
import { APP_DEFAULT_PORT } from './common/app-constants';
import { createLogger, type Logger } from './common/logging';
import { packageVersion } from './common/version';
import { defaultCollectors } from './probe/collectors';
import { parseDuration } from './common/duration';
import { ControlChannel } from './probe/control-channel';
import { DockerEngine } from './probe/engine/docker-engine';
import { DOCKER_SOCKET, PODMAN_SOCKETS, resolveEngineSocket } from './probe/engine/socket-path';
import { probeIdentity } from './probe/identity';
import { DEFAULT_INTERVAL_MS, Probe } from './probe/probe';
import { Publisher } from './probe/publisher';

/** How long `up` waits for the engine's /version before it says the engine does not answer. */
const ENGINE_CHECK_MS = 2_000;
/** A stuck shutdown ends the process after this long (exit 1). */
const SHUTDOWN_GUARD_MS = 8_000;

export interface UpOptions {
  listen: Listen;
  engineSocket?: string;
  /** false with --no-engine. */
  engine?: boolean;
  /** false with --no-controls. */
  controls?: boolean;
  interval: number;
  auditLog?: string;
}

export class UpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpError';
  }
}

export function upCommand(): Command {
  return new Command('up')
    .description('run the monitoring app and a probe for this machine together, with generated tokens; prints the URL to open')
    .addOption(
      new Option('--listen <host:port>', 'address of the app')
        .argParser(parseListen)
        .default({ host: '127.0.0.1', port: APP_DEFAULT_PORT }, `127.0.0.1:${APP_DEFAULT_PORT}`),
    )
    .option(
      '--engine-socket <path>',
      `Docker Engine API socket (Docker or Podman); default: ${DOCKER_SOCKET}, else the first Podman socket present (${PODMAN_SOCKETS.join(', ')}, $XDG_RUNTIME_DIR/podman/podman.sock)`,
    )
    .option('--no-engine', 'do not look for a container engine')
    .option('--no-controls', 'read-only: the probe offers no container controls')
    .addOption(new Option('--interval <duration>', 'time between full reports of the probe').argParser(parseDuration).default(DEFAULT_INTERVAL_MS, '15s'))
    .option('--audit-log <file>', 'append the audit log of controls here (mode 0600); default: in the structured log on stderr')
    .action(async (opts: UpOptions) => {
      await runUp(opts);
    });
}

/** A token of 32 URL-safe characters (192 random bits). */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The person's name for the audit log: the login name when it is a valid token name. */
function personName(): string {
  try {
    const name = userInfo().username;
    if (/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/.test(name) && name !== 'probe') return name;
  } catch {
    // no passwd entry: fall through
  }
  return 'admin';
}

/** Fails with a clear message when `host:port` cannot be bound (port 0 always can). */
export function assertListenable(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      if (err.code === 'EADDRINUSE') reject(new UpError(`${where} is already in use (another orchestrator up?); choose another port with --listen ${host.includes(':') ? `[${host}]` : host}:<port>`));
      else if (err.code === 'EACCES') reject(new UpError(`not allowed to listen on ${where} (ports under 1024 need privileges); choose another with --listen`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new UpError(`${host} is not an address of this machine; choose another with --listen`));
      else reject(new UpError(`cannot listen on ${where}: ${err.message}`));
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** Where the probe and the printed URL reach an app listening on `host`. */
function loopbackFor(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function stderrLogger(service: string): Logger {
  // Synchronous stderr: stdout is for the person, and no line is lost on exit.
  return createLogger(service, { destination: pino.destination({ dest: 2, sync: true }) as unknown as NodeJS.WritableStream });
}

/** What `up` found about containers, in one line for the person. */
interface EngineStatus {
  socket: string | null;
  line: string;
}

async function checkEngine(opts: UpOptions): Promise<EngineStatus> {
  if (opts.engine === false) return { socket: null, line: 'off (--no-engine)' };
  const choice = resolveEngineSocket(opts.engineSocket);
  if (choice.source === 'none-found') {
    const looked = [DOCKER_SOCKET, ...PODMAN_SOCKETS, ...(process.env.XDG_RUNTIME_DIR ? [`${process.env.XDG_RUNTIME_DIR}/podman/podman.sock`] : [])];
    return { socket: null, line: `none: no Docker or Podman socket found (looked at ${looked.join(', ')}); hosts, processes and connections still show` };
  }
  const probe = new DockerEngine({ socketPath: choice.path, timeoutMs: ENGINE_CHECK_MS });
  try {
    const v = await probe.version();
    return { socket: choice.path, line: `${choice.path} (${choice.source}, engine ${v.version}, API ${v.apiVersion})` };
  } catch (err) {
    // Kept: an engine that is starting or restarting is picked up when it answers.
    return { socket: choice.path, line: `${choice.path} (${choice.source}) does not answer yet (${(err as Error).message}); the probe keeps retrying` };
  } finally {
    await probe.close().catch(() => undefined);
  }
}

/** Resolves with the first SIGTERM/SIGINT's name; handlers are removed once it came. */
function waitForSignal(): { signal: Promise<string>; dispose(): void } {
  let dispose = (): void => undefined;
  const signal = new Promise<string>((resolve) => {
    const onTerm = (): void => done('SIGTERM');
    const onInt = (): void => done('SIGINT');
    const done = (name: string): void => {
      dispose();
      resolve(name);
    };
    dispose = () => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
    };
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  return { signal, dispose: () => dispose() };
}

export async function runUp(opts: UpOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  // Signals are caught from the start: a SIGTERM during start-up still ends in a clean stop.
  const signals = waitForSignal();
  let stopSignal: string | null = null;
  void signals.signal.then((s) => (stopSignal = s));

  const { host, port } = opts.listen;
  try {
    await assertListenable(host, port);
  } catch (err) {
    signals.dispose();
    throw err;
  }

  const person = personName();
  const adminToken = newToken();
  const probeToken = newToken();
  const tokens = TokenStore.parse(`${person}:admin:${adminToken}\nprobe:probe:${probeToken}`, 'generated tokens');

  const appLog = stderrLogger('app');
  const probeLog = stderrLogger('probe');
  const app = new MonitoringApp({
    host,
    port,
    tokens,
    logger: appLog,
    model: { intervalMs: opts.interval },
    ...(opts.auditLog ? { auditLogPath: opts.auditLog } : {}),
  });
  const [engine] = await Promise.all([
    checkEngine(opts),
    app.start().catch((err: Error) => {
      signals.dispose();
      throw new UpError(`${err.message} (is the port taken? choose another with --listen)`);
    }),
  ]);
  const base = `${app.url.startsWith('https') ? 'https' : 'http'}://${loopbackFor(host)}:${app.port}`;

  const identity = probeIdentity();
  const controlsOn = opts.controls !== false;
  if (engine.socket === null) probeLog.info({ collector: 'containers' }, `containers off: ${engine.line}`);
  let probe: Probe | null = null;
  const collectors = defaultCollectors({
    identity,
    engineSocket: engine.socket,
    controls: controlsOn,
    trigger: (name) => probe?.trigger(name),
    logger: probeLog,
  });
  const publisher = new Publisher({ apps: [base], token: probeToken, logger: probeLog });
  const controlEngine = controlsOn && engine.socket ? new DockerEngine({ socketPath: engine.socket }) : null;
  const channel = new ControlChannel({
    app: base,
    identity,
    engine: controlEngine,
    disabledReason: !controlsOn
      ? 'orchestrator up runs with --no-controls (read-only)'
      : opts.engine === false
        ? 'orchestrator up runs with --no-engine'
        : 'no container engine was found when orchestrator up started',
    bearer: () => probeToken,
    version: packageVersion(),
    logger: probeLog,
  });
  probe = new Probe({ identity, collectors, intervalMs: opts.interval, logger: probeLog, sink: publisher.publish });
  probe.start();
  channel.start();
  probeLog.info({ probeId: identity.probeId, app: base, engine: engine.line, controls: controlsOn, intervalMs: opts.interval }, 'probe started');

  const ui = existsSync(join(uiDir(), 'index.html'));
  const lines = [
    `orchestrator up: the monitoring app and a probe for this machine (${osHostname()})`,
    '',
    `  open        ${base}/#token=${adminToken}`,
    `  token       ${adminToken}   (admin, as "${person}"; generated for this run, kept only in memory)`,
    `  containers  ${engine.line}`,
  ];
  if (host === '0.0.0.0' || host === '::') lines.push(`  listening   on every interface (${host}), over plain HTTP: anyone who can reach port ${app.port} sees the token's traffic`);
  if (!ui) lines.push('  ui          not built yet (npm run build bundles it); the API answers meanwhile (docs/api.md)');
  lines.push('', 'Ctrl-C (SIGINT) or SIGTERM stops both.', '');
  out.write(lines.join('\n'));

  const signal = stopSignal ?? (await signals.signal);
  appLog.info({ signal }, 'stopping');
  const guard = setTimeout(() => {
    process.stderr.write(`orchestrator up: shutdown took over ${SHUTDOWN_GUARD_MS / 1000} s; exiting\n`);
    process.exit(1);
  }, SHUTDOWN_GUARD_MS);
  guard.unref();
  await probe.stop();
  await channel.close();
  await publisher.close();
  await controlEngine?.close();
  await app.stop();
  clearTimeout(guard);
  out.write(`orchestrator up: stopped (${signal})\n`);
}

// Runnable on its own (`tsx runtime/up.ts`), like the other commands.
if (require.main === module) {
  upCommand()
    .exitOverride()
    .parseAsync(process.argv.slice(2), { from: 'user' })
    .catch((err: Error) => {
      process.stderr.write(`orchestrator up: ${err.message}\n`);
      process.exitCode = 1;
    });
}
