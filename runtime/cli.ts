#!/usr/bin/env node
/**
 * `orchestrator`: the one entry point of the runtime image. Each service is a
 * subcommand (`probe`, `app`, `zk-sync`, `up`), registered in `buildCli` as it
 * is built; a subcommand that is not listed by `--help` does not exist yet.
 */
import { Command, CommanderError } from 'commander';
import { packageVersion } from './common/version';

/* eslint-disable @typescript-eslint/no-require-imports */
/**
 * Each subcommand's module is loaded only when needed: a probe on every host should not carry
 * the app's uWebSockets.js addon or the sync engine in its memory (about 8 MB of RSS).
 */
const SUBCOMMANDS: Readonly<Record<string, () => Command>> = {
  probe: () => (require('./probe/command') as typeof import('./probe/command')).probeCommand(),
  app: () => (require('./app/command') as typeof import('./app/command')).appCommand(),
  'zk-sync': () => (require('./sync/cli') as typeof import('./sync/cli')).zkSyncCommand(),
  up: () => (require('./up') as typeof import('./up')).upCommand(),
};

/**
 * The CLI for `argv`: when it names a subcommand, only that one is loaded; otherwise (help,
 * version, a mistyped name) all are, so that help lists them and commander can suggest one.
 */
export function buildCli(argv: readonly string[] = []): Command {
  const program = new Command('orchestrator')
    .description('Run, watch and migrate a Mesos / Marathon / ZooKeeper stack on Kubernetes')
    .version(packageVersion(), '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show this help')
    .showHelpAfterError('(run orchestrator --help for the commands)')
    .exitOverride();
  const first = argv[0];
  const names = first !== undefined && first in SUBCOMMANDS ? [first] : Object.keys(SUBCOMMANDS);
  for (const name of names) program.addCommand(SUBCOMMANDS[name]!().copyInheritedSettings(program));
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildCli(argv);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return 0;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`orchestrator: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`orchestrator: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
