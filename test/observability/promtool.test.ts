/**
 * The PromQL in dist/ is proven to parse with the real promtool (Debian's prometheus package,
 * installed by `npm run setup`): the alert rules as deployed, and every query of every
 * dashboard and canary AnalysisTemplate, turned into recording rules with their template
 * variables filled in. A deliberately broken query is shown to be caught. And the deployed
 * prometheus.yml passes `promtool check config`, with its TLS targets scraped over verified HTTPS.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { ENVIRONMENT_NAMES } from '../../constructs/environments';
import { type K8sObject, distObjects, findObject } from '../lib/platform';
import { instantiate } from './template-vars';

const PROMTOOL = '/usr/bin/promtool';

/* eslint-disable @typescript-eslint/no-explicit-any */
export { instantiate };

export function distQueries(objects: K8sObject[]): Array<{ source: string; expr: string }> {
  const dashboards = findObject(objects, 'ConfigMap', 'grafana-dashboards').data!;
  const fromDashboards = Object.entries(dashboards).flatMap(([file, json]) => (JSON.parse(json).panels as any[])
    .flatMap((p) => (p.targets ?? []).map((tg: any) => ({ source: `${file}: ${p.title}`, expr: tg.expr as string }))));
  const fromAnalysis = objects.filter((o) => o.kind === 'AnalysisTemplate')
    .flatMap((a) => a.spec.metrics.map((m: any) => ({ source: `AnalysisTemplate ${a.metadata.name}: ${m.name}`, expr: m.provider.prometheus.query as string })));
  return [...fromDashboards, ...fromAnalysis];
}

function promtoolCheckRules(file: string): { ok: boolean; output: string } {
  try {
    return { ok: true, output: execFileSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (err: any) {
    return { ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

t.test('promtool', { skip: existsSync(PROMTOOL) ? false : `${PROMTOOL} is missing: run npm run setup` }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'promtool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  for (const env of ENVIRONMENT_NAMES) {
    const objects = distObjects(env);
    const rules = findObject(objects, 'ConfigMap', 'prometheus-rules').data!['platform.yaml']!;
    const rulesFile = join(dir, `${env}-alerts.yaml`);
    writeFileSync(rulesFile, rules);
    const checked = promtoolCheckRules(rulesFile);
    t.ok(checked.ok, `${env}: promtool check rules on the deployed alert rules\n${checked.output}`);
    const alerts = (rules.match(/alert: (\w+)/g) ?? []).map((a) => a.slice(7));
    for (const required of ['ZooKeeperQuorumLost', 'ZkSyncLagHigh', 'MonitoringProbeMissing', 'MesosNoElectedMaster', 'CanaryFailing']) {
      t.ok(alerts.includes(required), `${env}: alert ${required}`);
    }

    const queries = distQueries(objects);
    t.ok(queries.length >= 40, `${env}: ${queries.length} dashboard and analysis queries`);
    const recording = { groups: [{ name: 'queries', rules: queries.map((q, i) => ({ record: `query:${i}`, expr: instantiate(q.expr) })) }] };
    const queriesFile = join(dir, `${env}-queries.yaml`);
    writeFileSync(queriesFile, stringify(recording));
    const parsed = promtoolCheckRules(queriesFile);
    t.ok(parsed.ok, `${env}: every dashboard and analysis query parses\n${parsed.output}`);
  }

  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, stringify({ groups: [{ name: 'x', rules: [{ record: 'query:0', expr: 'sum(rate(http_requests_total[5m]) by (code)' }] }] }));
  const result = promtoolCheckRules(broken);
  t.notOk(result.ok, 'a query with an unbalanced parenthesis is refused');
  t.match(result.output, /parse error|unclosed|unexpected/i);
});

t.test('promtool check config on the deployed prometheus.yml; TLS targets are scraped over verified HTTPS', { skip: existsSync(PROMTOOL) ? false : `${PROMTOOL} is missing: run npm run setup` }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'promtool-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const env of ENVIRONMENT_NAMES) {
    const yml = findObject(distObjects(env), 'ConfigMap', 'prometheus-config').data!['prometheus.yml']!;
    const file = join(dir, `${env}-prometheus.yml`);
    // Debian's Prometheus is built without Kubernetes service discovery, so its promtool refuses
    // kubernetes_sd_configs: each is swapped for an empty static_configs; every other field of
    // every job (scheme, tls_config, authorization, relabelling) is checked by the real parser.
    const config = parse(yml);
    for (const job of config.scrape_configs as any[]) {
      if (job.kubernetes_sd_configs) {
        delete job.kubernetes_sd_configs;
        job.static_configs = [{ targets: [] }];
      }
    }
    writeFileSync(file, stringify(config));
    // --syntax-only: the CA, token and rule files exist only in the pod.
    let out = '';
    try {
      out = execFileSync(PROMTOOL, ['check', 'config', '--syntax-only', file], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err: any) {
      out = `${err.stdout ?? ''}${err.stderr ?? ''}`;
    }
    t.match(out, /SUCCESS/, `${env}: promtool check config\n${out}`);
    const jobs = Object.fromEntries((parse(yml).scrape_configs as any[]).map((j) => [j.job_name, j]));
    for (const job of ['monitoring-app', 'marathon']) {
      t.equal(jobs[job].scheme, 'https', `${env}: ${job} over HTTPS`);
      t.match(jobs[job].tls_config, { ca_file: '/etc/prometheus/ca/ca.crt', server_name: new RegExp(`^${job === 'marathon' ? 'marathon' : 'monitoring-app'}\\.`) }, `${env}: ${job} verified against the platform CA by its Service name`);
      t.notOk(jobs[job].tls_config.insecure_skip_verify, `${env}: ${job} never skips verification`);
    }
    t.match(jobs['monitoring-app'].authorization, { type: 'Bearer', credentials_file: /^\/(etc\/prometheus\/app-token\/token|vault\/secrets\/app-token-token)$/ }, `${env}: the app's /metrics with a token from a file (Secret or Vault), not in the config`);
    t.equal(jobs['monitoring-app'].authorization.credentials, undefined, `${env}: no inline credentials`);
  }
});
