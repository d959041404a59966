/**
 * `orchestrator app`: the monitoring app's command line.
 *
 *     orchestrator app --listen HOST:PORT --tokens-file F [--tls-cert F --tls-key F]
 *                      [--ingest-listen HOST:PORT] [--audit-log F] [--probe-interval 15s]
 *
 * Listens on 127.0.0.1:4040 unless told otherwise. Tokens come from the file
 * and/or ORCHESTRATOR_APP_TOKENS; with neither, the app refuses to start (there
 * are no default credentials). SIGTERM and SIGINT stop it cleanly: readiness
 * goes false, the listener closes, reports in progress finish, sockets close.
 */
import { setFlagsFromString } from 'node:v8';
import { Command, InvalidArgumentError, Option } from 'commander';
import { APP_DEFAULT_PORT } from '../common/app-constants';
import { parseDuration } from '../common/duration';
import { createLogger } from '../common/logging';
import { TokenStore } from './auth';
import { MonitoringApp } from './server';

export interface Listen {
  host: string;
  port: number;
}

/** `127.0.0.1:4040`, `0.0.0.0:4040`, `[::1]:4040`. */
export function parseListen(text: string): Listen {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new InvalidArgumentError(`expected HOST:PORT (e.g. 127.0.0.1:${APP_DEFAULT_PORT} or [::1]:${APP_DEFAULT_PORT}), got ${JSON.stringify(text)}`);
  return { host: m[1] ?? m[2]!, port };
}


export interface AppCommandOptions {
  listen: Listen;
  ingestListen?: Listen;
  tokensFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  auditLog?: string;
  probeInterval: number;
  heapGrowthPercent: number;
  semiSpaceGrowth: number;
}

/**
 * The app's old generation is mostly the live model, replaced report by report: garbage of a
 * model's size arrives every interval. With its own heuristics V8 lets the heap grow to two to
 * four times what the last full GC kept before collecting again (measured at 1,000 probes: a
 * 1 GB heap for ~420 MB live, 1.1 GB resident). A fixed growth bounds it, for more GC CPU:
 * measured with `bench/app.ts --app-args heap-growth-percent=N` on a quiet machine, N=0: 22.4 %
 * of a core, 1,127 MB resident; 150: 23.8 %, 880 MB; 100: 25.3-26.2 %, 790-828 MB; 50: 31 %,
 * 695 MB. After the per-report work was cut (the same bench, 30 s windows one after the other):
 * 150: 19.5 % of a core, 856 MiB resident at most; 100: 20.0 %, 749 MiB. 100 keeps both goals
 * (≤ 25 % of a core, ≤ 1 GB) with room. 0 keeps V8's heuristics.
 */
export const DEFAULT_HEAP_GROWTH_PERCENT = 100;

/**
 * The young generation: what the app keeps from each report (new metric samples, node objects,
 * serialised nodes) lives one report interval, so a good part of every scavenge survives and is
 * copied, and the pause grows with the young generation (V8 doubles it up to 16 MiB semi-spaces
 * while survival stays high: scavenges of 5-20 ms at 1,000 probes). A growth factor of 1 keeps it
 * at its first size (1 MiB semi-spaces): in process (3,000 reports replayed, 3 watched views,
 * search) 1,014 scavenges of 0.86 ms on average against 113 of 6.8 ms. In bench/app.ts at 1,000
 * probes (30 s windows one after the other) it cost more than it gave: 1 → 21.7 % of a core, search
 * p99 14.7 ms; V8's own growth → 18.3 %, 10.8 ms (scavenges every megabyte interrupt the searches
 * themselves). So the default leaves V8 to decide (0); the option stays for measuring again.
 */
export const DEFAULT_SEMI_SPACE_GROWTH = 0;

export function parseSemiSpaceGrowth(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > 8) throw new InvalidArgumentError(`expected a whole factor from 0 to 8, got ${JSON.stringify(text)}`);
  return n;
}

export function parseHeapGrowth(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > 400) throw new InvalidArgumentError(`expected a whole percent from 0 to 400, got ${JSON.stringify(text)}`);
  return n;
}

export function appCommand(): Command {
  return new Command('app')
    .description('serve live topologies merged from every probe (REST, WebSocket, search, controls)')
    .addOption(new Option('--listen <host:port>', 'address to listen on').argParser(parseListen).default({ host: '127.0.0.1', port: APP_DEFAULT_PORT }, `127.0.0.1:${APP_DEFAULT_PORT}`))
    .addOption(
      new Option('--ingest-listen <host:port>', 'also take reports (POST /api/report, nothing else) on this address, served by the model thread: probes sent there cost the thread that answers people nothing').argParser(parseListen),
    )
    .option('--tokens-file <file>', 'bearer tokens, one "<name>:<role>:<token>" per line (roles: probe, viewer, admin); also ORCHESTRATOR_APP_TOKENS')
    .option('--tls-cert <file>', 'serve HTTPS/WSS with this certificate (PEM); needs --tls-key')
    .option('--tls-key <file>', 'private key (PEM) of --tls-cert')
    .option('--audit-log <file>', 'append the audit log of controls here as JSON lines (default: in the structured log)')
    .addOption(new Option('--probe-interval <duration>', 'how often probes report; stale after 3, removed after 10').argParser(parseDuration).default(15_000, '15s'))
    .addOption(
      new Option('--heap-growth-percent <n>', 'how far the JS heap may grow past what the last full GC kept (V8 --heap-growing-percent); lower holds less memory for more GC CPU, 0 leaves V8 to decide')
        .argParser(parseHeapGrowth)
        .default(DEFAULT_HEAP_GROWTH_PERCENT),
    )
    .addOption(
      new Option('--semi-space-growth <n>', 'how fast the young generation may grow (V8 --semi-space-growth-factor); 1 keeps it at its first size (shorter, more frequent GC pauses), 0 leaves V8 to decide')
        .argParser(parseSemiSpaceGrowth)
        .default(DEFAULT_SEMI_SPACE_GROWTH),
    )
    .action(async (opts: AppCommandOptions) => {
      await runApp(opts);
    });
}

export async function runApp(opts: AppCommandOptions): Promise<void> {
  if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new InvalidArgumentError('--tls-cert and --tls-key go together');
  const log = createLogger('app');
  // Read by V8 at every GC, so setting it now (before the model exists) applies to the whole run.
  if (opts.heapGrowthPercent > 0) setFlagsFromString(`--heap-growing-percent=${opts.heapGrowthPercent}`);
  if (opts.semiSpaceGrowth > 0) setFlagsFromString(`--semi-space-growth-factor=${opts.semiSpaceGrowth}`);
  const tokens = TokenStore.load({ ...(opts.tokensFile ? { file: opts.tokensFile } : {}), ...(process.env.ORCHESTRATOR_APP_TOKENS ? { env: process.env.ORCHESTRATOR_APP_TOKENS } : {}) });
  const app = new MonitoringApp({
    host: opts.listen.host,
    port: opts.listen.port,
    ...(opts.ingestListen ? { ingestListen: opts.ingestListen } : {}),
    tokens,
    logger: log,
    model: { intervalMs: opts.probeInterval },
    ...(opts.tlsCert && opts.tlsKey ? { tls: { certFile: opts.tlsCert, keyFile: opts.tlsKey } } : {}),
    ...(opts.auditLog ? { auditLogPath: opts.auditLog } : {}),
  });
  await app.start();
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      log.info({ signal }, 'stopping');
      resolve();
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  await app.stop();
}

// Runnable on its own (`tsx runtime/app/command.ts --listen …`), e.g. by bench/app.ts.
if (require.main === module) {
  appCommand()
    .exitOverride()
    .parseAsync(process.argv.slice(2), { from: 'user' })
    .catch((err: Error) => {
      process.stderr.write(`orchestrator app: ${err.message}\n`);
      process.exitCode = 1;
    });
}
