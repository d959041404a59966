/**
 * PromQL over the platform's metrics, written once and used by the canary analysis, the alert
 * rules and the dashboards, so that the three always measure the same thing. Metric names come
 * from runtime/common/telemetry.ts (the services' own) or are the upstream exporters' names.
 */
import { APP_METRICS, HTTP_SERVER_ERROR_CODE_REGEX, PROBE_METRICS, ZK_SYNC_METRICS } from '../../runtime/common/telemetry';

/** Prometheus `job` label of each scrape job (see prometheus.ts). */
export const JOBS = {
  prometheus: 'prometheus',
  app: 'monitoring-app',
  probe: 'monitoring-probe',
  zkSync: 'zk-sync',
  zookeeper: 'zookeeper',
  mesosMaster: 'mesos-master',
  mesosAgent: 'mesos-agent',
  marathon: 'marathon',
  ingress: 'ingress-nginx',
  rollouts: 'argo-rollouts',
} as const;

/** Label Prometheus copies from the pods' `rollouts-pod-template-hash` (canary vs stable). */
export const HASH_LABEL = 'rollouts_pod_template_hash';
/** Label Prometheus copies from the zk-sync pods' `orchestrator.io/migration`. */
export const MIGRATION_LABEL = 'migration';

export type Matcher = string | { readonly re: string } | { readonly notRe: string } | { readonly not: string };

/** `{a="b",c=~"d"}` with the labels in the order given. */
export function sel(matchers: Readonly<Record<string, Matcher>>): string {
  const parts = Object.entries(matchers).map(([k, m]) => {
    if (typeof m === 'string') return `${k}=${JSON.stringify(m)}`;
    if ('re' in m) return `${k}=~${JSON.stringify(m.re)}`;
    if ('notRe' in m) return `${k}!~${JSON.stringify(m.notRe)}`;
    return `${k}!=${JSON.stringify(m.not)}`;
  });
  return `{${parts.join(',')}}`;
}

export interface AppScope {
  readonly namespace: string;
  /** A pod-template hash, an Argo Rollouts template such as `{{args.canary-hash}}`, or none for all pods. */
  readonly hash?: string;
}

function appMatchers(s: AppScope): Record<string, Matcher> {
  return { job: JOBS.app, namespace: s.namespace, ...(s.hash ? { [HASH_LABEL]: s.hash } : {}) };
}

/** Share of the app's requests answered without a server error (0..1; NaN without traffic). */
export function appSuccessRate(s: AppScope, window: string): string {
  const all = sel(appMatchers(s));
  const ok = sel({ ...appMatchers(s), code: { notRe: HTTP_SERVER_ERROR_CODE_REGEX } });
  return `sum(rate(${APP_METRICS.httpRequestsTotal}${ok}[${window}])) / sum(rate(${APP_METRICS.httpRequestsTotal}${all}[${window}]))`;
}

/** The q-quantile of the app's request latency, in seconds. */
export function appLatencyQuantile(q: number, s: AppScope, window: string, by: readonly string[] = []): string {
  const labels = ['le', ...by].join(', ');
  return `histogram_quantile(${q}, sum by (${labels}) (rate(${APP_METRICS.httpRequestSeconds}_bucket${sel(appMatchers(s))}[${window}])))`;
}

/** Request rate of the app by pod-template hash (stable vs canary). */
export function appRequestRateByHash(namespace: string, window: string): string {
  return `sum by (${HASH_LABEL}) (rate(${APP_METRICS.httpRequestsTotal}${sel({ job: JOBS.app, namespace })}[${window}]))`;
}

/** Error ratio (0..1) of the app by pod-template hash. */
export function appErrorRatioByHash(namespace: string, window: string): string {
  const base = { job: JOBS.app, namespace };
  return `sum by (${HASH_LABEL}) (rate(${APP_METRICS.httpRequestsTotal}${sel({ ...base, code: { re: HTTP_SERVER_ERROR_CODE_REGEX } })}[${window}]))`
    + ` / sum by (${HASH_LABEL}) (rate(${APP_METRICS.httpRequestsTotal}${sel(base)}[${window}]))`;
}

export function zkSyncLag(namespace: string): string {
  return `max by (${MIGRATION_LABEL}) (${ZK_SYNC_METRICS.lagMs}${sel({ job: JOBS.zkSync, namespace })})`;
}

export function probeCollectP95(namespace: string, window: string): string {
  return `histogram_quantile(0.95, sum by (le, collector) (rate(${PROBE_METRICS.collectSeconds}_bucket${sel({ job: JOBS.probe, namespace })}[${window}])))`;
}
