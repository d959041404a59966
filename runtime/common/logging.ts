/**
 * Structured logs: one JSON object per line on stdout (pino), so that the
 * cluster's log pipeline can index fields instead of parsing prose. Each service
 * names itself once; the rest of its code logs through child loggers that add
 * their own context (`{ module: 'ingest' }`).
 */
import pino, { type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Default `info`; `silent` for tests. Overridden by `LOG_LEVEL` when set. */
  level?: LevelWithSilent;
  /** Where lines go; default stdout. Tests pass a stream to read them back. */
  destination?: NodeJS.WritableStream;
  /** pino's `timestamp` (the `,"time":…` fragment of a line); default ISO time from `Date#toISOString`. */
  timestamp?: () => string;
}

const LEVELS: ReadonlySet<string> = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function createLogger(service: string, opts: LoggerOptions = {}): Logger {
  const env = process.env.LOG_LEVEL;
  const level = env !== undefined && LEVELS.has(env) ? env : (opts.level ?? 'info');
  return pino(
    {
      level,
      base: { service },
      // ISO time reads better in `kubectl logs` than epoch ms, and costs little at this rate.
      timestamp: opts.timestamp ?? pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? process.stdout,
  );
}
