/**
 * The commands dist/ gives the project's own image are ones the runtime accepts:
 * - every orchestrator container's arguments parse with the CLI's own commander definitions;
 * - a command that is the entrypoint with node flags before the CLI (the probe's) names flags
 *   that this Node accepts on a command line;
 * - the sync engines' `sh -c` wrapper really runs (with a stand-in `node` that records its
 *   arguments) and hands the CLI the credentials read from the files;
 * - the app's exec readiness check, taken from dist/, passes against the real app over TLS with
 *   a token from the tokens file, and fails with a wrong token;
 * - the image's entrypoint is the one the wrapper execs.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ENVIRONMENTS, ENVIRONMENT_NAMES, prod } from '../../constructs/environments';
import { ORCHESTRATOR_CLI } from '../../constructs/lib/pod';
import { APP_DEFAULT_PORT } from '../../runtime/common/telemetry';
import { APP_PROCESS_ENV } from '../../runtime/app/process-env';
import { freePort, startCli, stopCli, until } from '../helpers/stack';
import { checkCliArgs } from '../lib/cli-args';
import { REPO_ROOT, WORKLOAD_KINDS, distObjects, findObject, podSpecOf } from '../lib/platform';
import { tempDir } from '../helpers/temp-dir';
import { selfSignedCertificate } from '../helpers/tls';

const tmp = (): string => tempDir('orchestrator-commands-');

function orchestratorContainers(env: typeof ENVIRONMENT_NAMES[number]): Array<{ where: string; c: any }> {
  const repo = ENVIRONMENTS[env].images.orchestrator.repository;
  return distObjects(env).filter((o) => WORKLOAD_KINDS.includes(o.kind)).flatMap((o) =>
    [...(podSpecOf(o).initContainers ?? []), ...podSpecOf(o).containers]
      .filter((c: any) => String(c.image).startsWith(`${repo}:`))
      .map((c: any) => ({ where: `${o.kind} ${o.metadata.name} container ${c.name}`, c })));
}

/** Runs a `sh -c` command with `node` replaced by a recorder; returns the arguments node got. */
function runWithRecordingNode(command: string[], files: Record<string, string>): string[] {
  const dir = tmp();
  const out = join(dir, 'argv');
  writeFileSync(join(dir, 'node'), `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done > '${out}'\n`);
  chmodSync(join(dir, 'node'), 0o755);
  // The credential files at their in-container paths are stood in for by temporary ones.
  let script = command[2]!;
  for (const [path, content] of Object.entries(files)) {
    const local = join(dir, path.replace(/\//g, '_'));
    writeFileSync(local, content);
    script = script.split(`'${path}'`).join(`'${local}'`);
  }
  const r = spawnSync(command[0]!, [command[1]!, script], { encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin` } });
  if (r.status !== 0) throw new Error(`sh exited ${r.status}: ${r.stderr}`);
  return readFileSync(out, 'utf8').split('\0').slice(0, -1);
}

for (const env of ENVIRONMENT_NAMES) {
  t.test(`dist/${env}: every command given to the orchestrator image parses with the runtime CLI`, async (t) => {
    const containers = orchestratorContainers(env);
    t.ok(containers.length >= 2, 'the probe and the app at least');
    for (const { where, c } of containers) {
      if (c.command && c.command[0] === ORCHESTRATOR_CLI[0]) {
        t.equal(c.command[c.command.length - 1], ORCHESTRATOR_CLI[1], `${where}: node flags, then the image's CLI`);
        const flags: string[] = c.command.slice(1, -1);
        const r = spawnSync(process.execPath, [...flags, '-e', '0'], { encoding: 'utf8' });
        t.equal(r.status, 0, `${where}: node accepts ${flags.join(' ')} ${r.stderr}`);
        const parsed = await checkCliArgs(c.args);
        t.ok(parsed.ok, `${where}: ${parsed.ok ? parsed.command : parsed.error}`);
      } else if (c.command) {
        t.equal(c.command[0], 'sh', `${where}: a command other than the entrypoint is the sync engine's wrapper`);
        const sourceFile = /read -r source_auth < '([^']+)'/.exec(c.command[2])![1]!;
        const targetFile = /read -r target_auth < '([^']+)'/.exec(c.command[2])![1]!;
        const argv = runWithRecordingNode(c.command, { [sourceFile]: 'olduser:old secret\n', [targetFile]: 'newuser:n3w$ecret' });
        t.equal(argv[0], ORCHESTRATOR_CLI[1], `${where}: execs the image's CLI`);
        const parsed = await checkCliArgs(argv.slice(1));
        t.ok(parsed.ok, `${where}: ${parsed.ok ? parsed.command : parsed.error}`);
        if (parsed.ok) {
          t.equal(parsed.command, 'zk-sync run');
          t.same(parsed.options.sourceAuth, ['digest:olduser:old secret'], `${where}: source credential read from its file, verbatim`);
          t.same(parsed.options.targetAuth, ['digest:newuser:n3w$ecret'], `${where}: target credential read from its file, verbatim`);
        }
      } else {
        const parsed = await checkCliArgs(c.args);
        t.ok(parsed.ok, `${where}: ${parsed.ok ? parsed.command : parsed.error}`);
      }
    }
  });
}

t.test('the check can fail: arguments the CLI does not have are refused with its message', async (t) => {
  const bad = await checkCliArgs(['zk-sync', 'run', '--source', 'a:2181', '--target', 'b:2181', '--listen', '0.0.0.0:4042']);
  t.notOk(bad.ok);
  t.match(!bad.ok && bad.error, /unknown option '--listen'/);
  const badChoice = await checkCliArgs(['zk-sync', 'run', '--source', 'a:2181', '--target', 'b:2181', '--mode', 'sideways']);
  t.match(!badChoice.ok && badChoice.error, /sideways/);
  const missing = await checkCliArgs(['probe', '--interval', 'often']);
  t.notOk(missing.ok, 'an option parser\'s own error counts');
});

t.test('the wrapper execs the image\'s entrypoint', async (t) => {
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
  t.ok(entrypoint, 'Dockerfile has an exec-form ENTRYPOINT');
  t.same(JSON.parse(entrypoint![1]!), [...ORCHESTRATOR_CLI]);
});

t.test('the app\'s exec readiness check from dist/ passes against the real app over TLS, and fails with a wrong token', async (t) => {
  const rollout = findObject(distObjects('prod'), 'Rollout', 'monitoring-app');
  const container = rollout.spec.template.spec.containers[0];
  const command: string[] = container.readinessProbe.exec.command;
  t.equal(command[0], 'node');
  t.equal(container.readinessProbe.httpGet, undefined, 'no HTTP probe (its headers would be in the manifest)');
  const [, , , port, path, tokensPath, caPath, serverName] = command;
  t.equal(Number(port), APP_DEFAULT_PORT);
  t.equal(serverName, `monitoring-app.${prod.namespace}.svc`);

  const dir = tmp();
  // A self-signed certificate for the Service name only: the check must verify the name, not the address.
  const { certFile: cert, keyFile: key, ...ssl } = selfSignedCertificate(dir, serverName!);
  t.equal(ssl.status, 0, ssl.stderr);
  const tokens = join(dir, 'tokens');
  writeFileSync(tokens, '# first entry is used\nprobe:probe:0123456789abcdef0123\nviewer:viewer:fedcba9876543210fedc\n');
  const appPort = await freePort();
  const app = startCli('app', ['app', '--listen', `127.0.0.1:${appPort}`, '--tokens-file', tokens, '--tls-cert', cert, '--tls-key', key]);
  t.teardown(() => stopCli(app));
  const check = (tokensFile: string) => spawnSync(command[0]!, [command[1]!, command[2]!, String(appPort), path!, tokensFile, cert, serverName!], { encoding: 'utf8', timeout: 10_000 });
  t.ok(tokensPath && caPath, 'the check names the tokens file and the CA file');
  const ready = await until('the readiness check passes', 20_000, () => (check(tokens).status === 0 ? true : undefined), [app]);
  t.ok(ready, 'exit 0 once the app is ready');
  const wrong = join(dir, 'wrong-tokens');
  writeFileSync(wrong, 'probe:probe:not-the-right-token-000\n');
  const refused = check(wrong);
  t.equal(refused.status, 1, 'exit 1 with a token the app does not know');
  const otherName = spawnSync(command[0]!, [command[1]!, command[2]!, String(appPort), path!, tokens, cert, 'elsewhere.example'], { encoding: 'utf8', timeout: 10_000 });
  t.equal(otherName.status, 1, 'exit 1 when the certificate does not name the Service');
  t.match(otherName.stderr, /altnames|does not match|Hostname/i);
});

t.test("every NODE_OPTIONS dist gives an orchestrator container is accepted by this Node; the app's is APP_PROCESS_ENV's", async (t) => {
  let seen = 0;
  for (const env of ENVIRONMENT_NAMES) {
    for (const { where, c } of orchestratorContainers(env)) {
      const opt = (c.env ?? []).find((e: any) => e.name === 'NODE_OPTIONS');
      if (!opt) continue;
      seen++;
      const r = spawnSync(process.execPath, ['-e', '0'], { env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: opt.value }, encoding: 'utf8' });
      t.equal(r.status, 0, `${env} ${where}: NODE_OPTIONS=${opt.value} ${r.stderr.trim()}`);
    }
  }
  t.ok(seen >= 2 * ENVIRONMENT_NAMES.length, `${seen} containers with node options (the probe's and the app's in every environment)`);
  const app = podSpecOf(findObject(distObjects('prod'), 'Rollout', 'monitoring-app')).containers.find((c: any) => c.name === 'app');
  t.same(app.env, Object.entries(APP_PROCESS_ENV).map(([name, value]) => ({ name, value })));
});
