#!/usr/bin/env node
/**
 * `orchestrator`: the one entry point of the runtime image. Each service is a
 * subcommand (`probe`, `app`, `zk-sync`, `up`), registered in `buildCli` as it
 * is built; a subcommand that is not listed by `--help` does not exist yet.
 */
import { Command, CommanderError } from 'commander';
import { packageVersion } from './common/version';
import { probeCommand } from './probe/command';
import { appCommand } from './app/command';
import { zkSyncCommand } from './sync/cli';
import { upCommand } from './up';

export function buildCli(): Command {
  const program = new Command('orchestrator')
    .description('Run, watch and migrate a Mesos / Marathon / ZooKeeper stack on Kubernetes')
    .version(packageVersion(), '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show this help')
    .showHelpAfterError('(run orchestrator --help for the commands)')
    .exitOverride();
  program.addCommand(probeCommand().copyInheritedSettings(program));
  program.addCommand(appCommand().copyInheritedSettings(program));
  program.addCommand(zkSyncCommand().copyInheritedSettings(program));
  program.addCommand(upCommand().copyInheritedSettings(program));
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildCli();
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
