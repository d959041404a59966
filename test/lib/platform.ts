/**
 * The platform's objects for tests: synthesized in memory from any values (to test what the
 * constructs do with them), or read back from the committed dist/ (to test what ArgoCD gets).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import type { EnvironmentName, EnvironmentValues } from '../../constructs/environments';
import { Platform } from '../../constructs/platform';

export const REPO_ROOT = join(__dirname, '..', '..');
export const DIST = join(REPO_ROOT, 'dist');

/** A Kubernetes object as synthesized: only the fields tests look at are typed. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>;
  [field: string]: unknown;
}

/** Synthesizes the platform for `values` in memory; throws what the constructs throw. */
export function synthObjects(values: EnvironmentValues): K8sObject[] {
  const app = new App({ outdir: '/nonexistent' });
  new Platform(app, values);
  return app.charts.flatMap((chart) => chart.toJson() as K8sObject[]);
}

/** Folders of dist/ that Argo CD itself reads (not environments): namespaced in `argocd`. */
export const GITOPS_FOLDERS = ['apps', 'bootstrap'] as const;
export const ARGOCD_NAMESPACE = 'argocd';

/** Every object in the committed dist/<env>/ (or dist/apps, dist/bootstrap), in file then document order. */
export function distObjects(env: EnvironmentName | typeof GITOPS_FOLDERS[number]): K8sObject[] {
  const dir = join(DIST, env);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as K8sObject));
}

export function findObject(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} named ${name}`);
  return found;
}

/** Workloads and their pod specs. */
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout', 'Job', 'CronJob'];

export function podSpecOf(o: K8sObject): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (o.kind === 'CronJob') return o.spec.jobTemplate.spec.template.spec;
  return o.spec?.template?.spec;
}

/** A deep copy of `values` with `patch` applied at `path` (dot-separated), for invariant tests. */
export function withValue<T>(values: T, path: string, value: unknown): T {
  const copy = structuredClone(values) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  const keys = path.split('.');
  let node = copy;
  for (const k of keys.slice(0, -1)) node = node[k];
  node[keys[keys.length - 1]!] = value;
  return copy as T;
}
