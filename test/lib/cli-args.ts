/**
 * Whether an argument list is one the runtime CLI accepts, decided by the CLI's own commander
 * definitions (runtime/cli.ts `buildCli`): unknown options, missing required options, bad
 * choices and the options' own parsers all fail here exactly as they would in the container.
 * Parsing stops right before the action (a preAction hook), so nothing is started.
 */
import { Command, CommanderError } from 'commander';
import { buildCli } from '../../runtime/cli';

class Parsed extends Error {
  constructor(public readonly command: string, public readonly options: Record<string, unknown>) {
    super('parsed');
  }
}

export type CliCheck = { ok: true; command: string; options: Record<string, unknown> } | { ok: false; error: string };

function quiet(cmd: Command, errors: string[]): void {
  cmd.exitOverride().configureOutput({ writeOut: () => {}, writeErr: (s) => errors.push(s.trim()) });
  for (const sub of cmd.commands) quiet(sub, errors);
}

/** Parses `argv` (what follows the image's entrypoint) with the real CLI. */
export async function checkCliArgs(argv: readonly string[]): Promise<CliCheck> {
  const program = buildCli(argv);
  const errors: string[] = [];
  quiet(program, errors);
  program.hook('preAction', (_root, action) => {
    const path: string[] = [];
    for (let c: Command | null = action; c && c !== program; c = c.parent) path.unshift(c.name());
    throw new Parsed(path.join(' '), action.opts());
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return { ok: false, error: 'no subcommand action was reached (help or version only?)' };
  } catch (err) {
    if (err instanceof Parsed) return { ok: true, command: err.command, options: err.options };
    if (err instanceof CommanderError) return { ok: false, error: errors.join(' ') || err.message };
    return { ok: false, error: (err as Error).message };
  }
}
