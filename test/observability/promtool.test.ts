/**
 * The PromQL in dist/ is proven to parse with the real promtool (Debian's prometheus package,
 * installed by `npm run setup`): the alert rules as deployed, and every query of every
 * dashboard and canary AnalysisTemplate, turned into recording rules with their template
 * variables filled in. A deliberately broken query is shown to be caught.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
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
