/**
 * `orchestrator probe`: the probe's command line.
 *
 *     orchestrator probe --once                 one full report as JSON on stdout, then exit 0
 *     orchestrator probe [--interval 15s]       reports as JSON lines on stdout, until SIGTERM/SIGINT
 *     orchestrator probe --record FILE …        also append every report to a recording
 *
 * Until publishing to the app lands (`--app`, `--token-file`), stdout is where
 * reports go. Logs go to stderr as JSON lines (pino).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import { ReportRecorder, type Report } from '../report';
import { defaultCollectors } from './collectors';
import { probeIdentity } from './identity';
import { DEFAULT_INTERVAL_MS, Probe } from './probe';

/**
 * `--once` runs a priming pass and reports the second: CPU % is a difference
 * between two passes, so a single pass could not report it.
 */
export const ONCE_PRIMING_MS = 500;

/** Parses "15s", "500ms", "2m", "1h" or a bare number of seconds into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`not a duration: ${JSON.stringify(text)} (e.g. 15s, 500ms, 2m)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const ms = Math.round(Number(m[1]) * unit);
  if (ms < 100) throw new InvalidArgumentError(`interval ${text} is under 100ms`);
  return ms;
}

export interface ProbeCommandOptions {
  once?: boolean;
  interval: number;
  record?: string;
}

export function probeCommand(): Command {
  return new Command('probe')
    .description('watch this host (processes, connections) and print what the probe sees as reports')
    .option('--once', 'print one full report as JSON to stdout and exit')
    .addOption(
      new Option('--interval <duration>', 'time between full reports, e.g. 15s, 500ms, 1m')
        .argParser(parseDuration)
        .default(DEFAULT_INTERVAL_MS, '15s'),
    )
    .option('--record <file>', 'also append every report to this recording (replayable fixture)')
    .action(async (opts: ProbeCommandOptions) => {
      await runProbe(opts);
    });
}

export async function runProbe(opts: ProbeCommandOptions): Promise<void> {
  const logger = pino({ name: 'probe', base: undefined }, pino.destination({ dest: 2, sync: true }));
  const identity = probeIdentity();
  const recorder = opts.record ? await ReportRecorder.open(opts.record) : null;
  // Recording is best effort and off the collection path: writes are chained, not awaited by the pass.
  let recording: Promise<void> = Promise.resolve();
  const record = (r: Report): void => {
    if (!recorder) return;
    recording = recording.then(() => recorder.write(r)).catch((err: Error) => logger.warn({ err: err.message }, 'recording failed'));
  };

  if (opts.once) {
    const probe = new Probe({ identity, collectors: defaultCollectors({ identity }), sink: () => undefined, intervalMs: opts.interval, logger });
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

  const probe = new Probe({
    identity,
    collectors: defaultCollectors({ identity }),
    intervalMs: opts.interval,
    logger,
    sink: (r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      record(r);
    },
  });
  logger.info({ probeId: identity.probeId, hostId: identity.hostId, intervalMs: opts.interval }, 'probe started');
  probe.start();
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
  await probe.stop();
  await recording;
  await recorder?.close();
}

function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}
