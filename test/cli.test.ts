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

t.test('a subcommand loads only its own modules (the probe does not carry the app or zk-sync)', async (t) => {
  const script = [
    "const { main } = require('./runtime/cli');",
    "main(['probe', '--help']).then(() => {",
    "  const loaded = Object.keys(require.cache);",
    "  process.stderr.write(JSON.stringify({",
    "    app: loaded.some((f) => f.includes('/runtime/app/')),",
    "    sync: loaded.some((f) => f.includes('/runtime/sync/')),",
    "    uws: loaded.some((f) => f.includes('uws') || f.includes('uWebSockets')),",
    "    probe: loaded.some((f) => f.includes('/runtime/probe/')),",
    "  }));",
    "});",
  ].join('\n');
  const r = spawnSync(process.execPath, [join(__dirname, '../node_modules/tsx/dist/cli.mjs'), '-e', script], { cwd: join(__dirname, '..'), encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stderr.trim().split('\n').pop()!), { app: false, sync: false, uws: false, probe: true });
});
