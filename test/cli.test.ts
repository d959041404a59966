/** The `orchestrator` entry point, run as a person would run it. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import pkg from '../package.json';

const cli = (...args: string[]) => spawnSync(process.execPath, [join(__dirname, '../node_modules/tsx/dist/cli.mjs'), join(__dirname, '../runtime/cli.ts'), ...args], { encoding: 'utf8' });

t.test('--version prints the package version', async (t) => {
  const r = cli('--version');
  t.equal(r.status, 0);
  t.equal(r.stdout.trim(), pkg.version);
});

t.test('--help lists the usage and exits 0', async (t) => {
  const r = cli('--help');
  t.equal(r.status, 0);
  t.match(r.stdout, /Usage: orchestrator/);
  t.match(r.stdout, /--version/);
});

t.test('an unknown option is an error that points at --help', async (t) => {
  const r = cli('--no-such-option');
  t.not(r.status, 0);
  t.match(r.stderr, /unknown option '--no-such-option'/);
  t.match(r.stderr, /orchestrator --help/);
});
