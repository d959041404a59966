/**
 * The duration flags of the CLI (`--interval 15s`, `--probe-interval 500ms`):
 * one parser, so every subcommand accepts the same spellings and refuses the
 * same mistakes with the same message.
 */
import { InvalidArgumentError } from 'commander';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Shortest duration a flag accepts: anything shorter is a typo for seconds, not a wish. */
export const MIN_DURATION_MS = 100;

/** "15s", "500ms", "2m", "1h" or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`not a duration: ${JSON.stringify(text)} (e.g. 15s, 500ms, 2m)`);
  const ms = Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS]);
  if (ms < MIN_DURATION_MS) throw new InvalidArgumentError(`${text} is under ${MIN_DURATION_MS}ms`);
  return ms;
}
