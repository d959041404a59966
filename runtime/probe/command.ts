/**
 * `orchestrator probe`: the probe's command line.
 *
 *     orchestrator probe --once                       one full report as JSON on stdout, then exit 0
 *     orchestrator probe --app URL --token-file F     publish to the app(s) until SIGTERM/SIGINT
 *     orchestrator probe [--interval 15s]             without --app: reports as JSON lines on stdout
 *
 * Logs are JSON lines (pino) on stderr, so that stdout stays the report stream
 * when there is no app.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import { createLogger, type Logger } from '../common/logging';
import { packageVersion } from '../common/version';
import { ReportRecorder, type Report } from '../report';
import { defaultCollectors } from './collectors';
import { inClusterAccess } from './collectors/kubernetes';
import { ControlChannel } from './control-channel';
import { DockerEngine } from './engine/docker-engine';
import { DOCKER_SOCKET, PODMAN_SOCKETS, resolveEngineSocket } from './engine/socket-path';
import { probeIdentity } from './identity';
import { applyProbeV8Flags, HeapSettler, probeLogTime } from './memory';
import { parseListen, ProbeMetrics, startMetricsServer, type MetricsServer } from './metrics';
import { DEFAULT_FULL_EVERY, DEFAULT_INTERVAL_MS, Probe } from './probe';
import { Publisher } from './publisher';
import { parseDuration } from '../common/duration';

/**
 * `--once` runs a priming pass and reports the second: CPU % is a difference
 * between two passes, so a single pass could not report it.
 */
export const ONCE_PRIMING_MS = 500;

export interface ProbeCommandOptions {
  once?: boolean;
  interval: number;
  /** Every how many passes a full report (the others send deltas against it). */
  fullEvery?: number;
  record?: string;
  app?: string[];
  /** Reports go to this port of each --app's host (the app's --ingest-listen); the control channel stays on the --app URL. */
  ingestPort?: number;
  tokenFile?: string;
  caFile?: string;
  engineSocket?: string;
  /** commander's negated flag: false with --no-controls. */
  controls?: boolean;
  /** false with --no-engine. */
  engine?: boolean;
  metricsListen?: string;
  procRoot?: string;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < 1 || n > 65535) throw new InvalidArgumentError(`a port from 1 to 65535, not ${JSON.stringify(v)}`);
  return n;
}

function parseFullEvery(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError(`a whole number of passes from 1 to 1000, not ${JSON.stringify(v)}`);
  return n;
}

export function probeCommand(): Command {
  return new Command('probe')
    .description('watch this host (processes, connections, containers, pods) and publish what the probe sees as reports')
    .option('--once', 'print one full report as JSON to stdout and exit')
    .addOption(
      new Option('--interval <duration>', 'time between passes (each sends a report), e.g. 15s, 500ms, 1m')
        .argParser(parseDuration)
        .default(DEFAULT_INTERVAL_MS, '15s'),
    )
    .addOption(
      new Option('--full-every <passes>', 'a full report every this many passes; the passes between send what changed since it (1: every pass a full report)')
        .argParser(parseFullEvery)
        .default(DEFAULT_FULL_EVERY),
    )
    .option('--app <url>', 'app to publish reports to and hold a control channel with (repeatable); without it reports go to stdout as JSON lines', collect)
    .addOption(
      new Option('--ingest-port <port>', "send reports to this port of each --app's host (the app's --ingest-listen, served apart from people's requests); the control channel stays on the --app URL").argParser(parsePort),
    )
    .option('--token-file <file>', 'bearer token for the app(s); re-read every minute and after a 401/403')
    .option('--ca-file <file>', "PEM of the CA that signed the app's certificate (replaces the system roots for the app connection)")
    .option(
      '--engine-socket <path>',
      `Docker Engine API socket (Docker or Podman). Default ${DOCKER_SOCKET}; when it does not exist, the first Podman socket present (${PODMAN_SOCKETS.join(', ')}, $XDG_RUNTIME_DIR/podman/podman.sock)`,
    )
    .option('--no-engine', 'do not collect containers (no engine socket is opened)')
    .option('--no-controls', 'read-only: offer no container controls and refuse control requests')
    .option('--metrics-listen <host:port>', 'serve /metrics (Prometheus) and /healthz on this address, e.g. 0.0.0.0:4041', (v: string) => {
      try {
        parseListen(v);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
      return v;
    })
    .option('--proc-root <dir>', "the host's /proc (e.g. /host/proc in a container)", '/proc')
    .option('--record <file>', 'also append every report to this recording (replayable fixture)')
    .action(async (opts: ProbeCommandOptions) => {
      await runProbe(opts);
    });
}

function probeLogger(): Logger {
  // Synchronous stderr: a log line is never lost on exit, and the probe logs rarely.
  return createLogger('probe', { destination: pino.destination({ dest: 2, sync: true }) as unknown as NodeJS.WritableStream, timestamp: probeLogTime });
}

/** The probe's memory settings live in ./memory; re-exported for the tests and tools that know them from here. */
export { PROBE_V8_FLAGS, applyProbeV8Flags, probeV8Flags } from './memory';

export async function runProbe(opts: ProbeCommandOptions): Promise<void> {
  const v8Flags = applyProbeV8Flags();
  const logger = probeLogger();
  const identity = probeIdentity();
  const controlsOn = opts.controls !== false;
  const socket = opts.engine === false ? null : resolveEngineSocket(opts.engineSocket);
  const k8s = opts.once ? { off: 'not used with --once' } : inClusterAccess(process.env, undefined, identity.hostname);
  const recorder = opts.record ? await ReportRecorder.open(opts.record) : null;
  // Recording is best effort and off the collection path: writes are chained, not awaited by the pass.
  let recording: Promise<void> = Promise.resolve();
  /** Settles when the recording is done with `r` (see ReportSink); undefined without --record. */
  const record = (r: Report): Promise<void> | undefined => {
    if (!recorder) return undefined;
    recording = recording.then(() => recorder.write(r)).catch((err: Error) => logger.warn({ err: err.message }, 'recording failed'));
    return recording;
  };
  let probe: Probe | null = null;
  const collectors = defaultCollectors({
    identity,
    ...(opts.procRoot ? { procRoot: opts.procRoot } : {}),
    engineSocket: socket?.path ?? null,
    controls: controlsOn,
    trigger: (name) => probe?.trigger(name),
    kubernetes: 'access' in k8s ? k8s.access : null,
    logger,
  });

  if (opts.once) {
    probe = new Probe({ identity, collectors, sink: () => undefined, intervalMs: opts.interval, logger });
    await probe.fullPass();
    await new Promise((r) => setTimeout(r, ONCE_PRIMING_MS));
    const report = await probe.fullPass();
    await probe.stop();
    record(report);
    await recording;
    await recorder?.close();
    await writeOut(process.stdout.isTTY ? JSON.stringify(report, null, 2) + '\n' : JSON.stringify(report) + '\n');
    return;
  }

  const apps = opts.app ?? [];
  if (apps.length > 0 && !opts.tokenFile) throw new Error('--app needs --token-file');
  const metrics = opts.metricsListen ? new ProbeMetrics() : null;
  const publisher =
    apps.length > 0
      ? new Publisher({ apps, ...(opts.ingestPort !== undefined ? { reportPort: opts.ingestPort } : {}), ...(opts.tokenFile ? { tokenFile: opts.tokenFile } : {}), ...(opts.caFile ? { caFile: opts.caFile } : {}), ...(metrics ? { observer: metrics } : {}), logger })
      : null;
  const controlEngine = controlsOn && socket ? new DockerEngine({ socketPath: socket.path }) : null;
  const channels = publisher
    ? apps.map(
        (app) =>
          new ControlChannel({
            app,
            identity,
            engine: controlEngine,
            disabledReason: controlsOn ? 'this probe has no container engine (--no-engine)' : 'this probe runs with --no-controls (read-only)',
            bearer: () => publisher.bearer(),
            version: packageVersion(),
            ...(publisher.tlsCa ? { ca: publisher.tlsCa } : {}),
            logger,
            ...(metrics ? { onControl: (c: string, o: string) => metrics.control(c, o) } : {}),
          }),
      )
    : [];

  let lastPassAt = 0;
  const settler = new HeapSettler();
  probe = new Probe({
    identity,
    collectors,
    intervalMs: opts.interval,
    fullEvery: opts.fullEvery,
    logger,
    onPass: (stats) => {
      if (stats.trigger === 'interval') {
        lastPassAt = Date.now();
        settler.afterPass();
      }
      metrics?.pass(stats);
    },
    // The sinks say when they are done with a report (the encoding ends a few ms after the
    // pass), so a later pass may update the nodes in place (ProbeOptions.reuseNodes).
    reuseNodes: true,
    sink: (r) => {
      let held: Promise<void> | undefined;
      if (publisher) held = publisher.publish(r);
      else process.stdout.write(JSON.stringify(r) + '\n');
      const recorded = record(r);
      return held && recorded ? Promise.all([held, recorded]) : (held ?? recorded);
    },
  });
  let server: MetricsServer | null = null;
  if (metrics && opts.metricsListen) {
    server = await startMetricsServer(opts.metricsListen, metrics, () => {
      // Healthy while passes keep coming; the app being away is not the probe's illness.
      const age = lastPassAt === 0 ? 0 : Date.now() - lastPassAt;
      const ok = age < Math.max(3 * opts.interval, 30_000);
      return { ok, detail: { lastPassAgeMs: age, apps: publisher?.status() ?? [], controlChannels: channels.map((c) => c.connected) } };
    });
  }
  logger.info(
    {
      probeId: identity.probeId,
      hostId: identity.hostId,
      intervalMs: opts.interval,
      apps,
      engineSocket: socket ? `${socket.path} (${socket.source})` : 'off',
      controls: controlsOn,
      kubernetes: 'off' in k8s ? `off: ${k8s.off}` : `on (${k8s.access.apiUrl}, node ${k8s.access.nodeName})`,
      metricsListen: server ? `${opts.metricsListen} (port ${server.port})` : 'off',
      v8Flags: v8Flags.join(' '),
    },
    'probe started',
  );
  if ('off' in k8s) logger.info({ collector: 'kubernetes' }, `kubernetes collector off: ${k8s.off}`);
  // Loading the code left its garbage in the old generation; without this, V8's memory reducer
  // compacts it some 10 s in, a transient that was the probe's highest RSS (docs/probe.md "Memory", item 13).
  settler.settleNow();
  probe.start();
  for (const c of channels) c.start();

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      logger.info({ signal }, 'probe stopping');
      resolve();
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  // A stuck close must not keep a terminating pod around past its grace period.
  const guard = setTimeout(() => {
    logger.warn({}, 'shutdown took over 8 s; exiting');
    process.exit(0);
  }, 8_000);
  guard.unref();
  await probe.stop();
  settler.stop();
  await Promise.all(channels.map((c) => c.close()));
  await publisher?.close();
  await controlEngine?.close();
  await server?.close();
  await recording;
  await recorder?.close();
  logger.info({}, 'probe stopped');
}

function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}
