/**
 * The names both sides of the project agree on: ports, health paths and Prometheus metric
 * names of the platform's own services (app, probe, zk-sync). The runtime exposes them; the
 * constructs (Prometheus scrape jobs, alert rules, dashboards, the canary analysis, probes of
 * the pods) and docker-compose.yaml read them. This is the only runtime module the constructs
 * import, so a rename here is a compile error on both sides instead of a silent empty graph.
 *
 * The app's own names already live in `app-constants.ts` (its engineer's module); they are
 * re-exported here unchanged so that constructs need one import.
 */
export {
  APP_DEFAULT_PORT, APP_HEALTH_PATH, APP_METRICS, APP_METRICS_PATH, APP_READY_PATH,
} from './app-constants';

/** Label values of `http_requests_total{code}` the canary counts as failures (server errors). */
export const HTTP_SERVER_ERROR_CODE_REGEX = '5..';

// ---------------------------------------------------------------------------------------------
// Probe (`orchestrator probe ... --metrics-listen HOST:PORT`)

/** Port of the probe's `/metrics` and `/healthz` (`--metrics-listen 0.0.0.0:PROBE_METRICS_PORT`). */
export const PROBE_METRICS_PORT = 4041;
export const PROBE_HEALTH_PATH = '/healthz';
export const PROBE_METRICS_PATH = '/metrics';

/** Prometheus metric names exported by the probe (prom-client). */
export const PROBE_METRICS = Object.freeze({
  /** Histogram, label `collector` (host, processes, connections, containers, kubernetes). */
  collectSeconds: 'monitoring_probe_collect_duration_seconds',
  /** Counter, label `collector`: passes in which the collector failed. */
  collectorErrors: 'monitoring_probe_collector_errors_total',
  /** Histogram: encoded size of each report sent. */
  reportBytes: 'monitoring_probe_report_bytes',
  /** Counter: reports published (accepted by an app). */
  reportsPublished: 'monitoring_probe_reports_published_total',
  /** Counter, label `reason`: publish attempts that failed. */
  publishErrors: 'monitoring_probe_publish_errors_total',
  /** Histogram: time from send to the app's answer. */
  publishSeconds: 'monitoring_probe_publish_duration_seconds',
});

// ---------------------------------------------------------------------------------------------
// zk-sync (`orchestrator zk-sync run ... --listen HOST:PORT`)

/** Port of the sync engine's status endpoint, `/metrics`, `/healthz` and `/readyz`. */
export const ZK_SYNC_PORT = 4042;
export const ZK_SYNC_HEALTH_PATH = '/healthz';
export const ZK_SYNC_READY_PATH = '/readyz';
export const ZK_SYNC_METRICS_PATH = '/metrics';
export const ZK_SYNC_STATUS_PATH = '/status';

/** Prometheus metric names exported by the sync engine (prom-client). */
export const ZK_SYNC_METRICS = Object.freeze({
  /**
   * Gauge, label `direction` (source-to-target, target-to-source): current replication lag in
   * milliseconds. The lag of the most recent applied change, held 30 s and then 0 when idle, or
   * the age of the oldest change not applied yet if larger (a stuck backlog raises it).
   */
  lagMs: 'zk_sync_lag_ms',
  /** Histogram (`_bucket`, `_sum`, `_count`), label `direction`: every applied change's lag, in seconds. */
  lagSeconds: 'zk_sync_lag_seconds',
  /** Counter, label `direction`: znodes written (creates, updates, deletes). */
  syncedNodes: 'zk_synced_nodes_total',
  /** Counter, label `strategy`: conflicts detected (bidirectional mode; 0 from startup). */
  conflicts: 'zk_conflict_count_total',
  /** Counter, label `kind` (every error code, 0 from startup): errors by kind. */
  errors: 'zk_sync_errors_total',
  /** Counter, label `side` (source|target, 0 from startup): reconnects. */
  reconnects: 'zk_sync_reconnects_total',
  /** Counter, label `side` (source|target, 0 from startup): session expiries. */
  sessionExpiries: 'zk_sync_session_expiries_total',
  /** Gauge, label `phase` (snapshot, continuous, verify, ...): 1 for the current phase, 0 otherwise. */
  phase: 'zk_sync_phase',
});

// ---------------------------------------------------------------------------------------------
// Default process metrics of prom-client, exported by every service (`collectDefaultMetrics`).

export const PROCESS_METRICS = Object.freeze({
  cpuSeconds: 'process_cpu_seconds_total',
  residentBytes: 'process_resident_memory_bytes',
});

/** Further probe metrics (prom-client), beyond the ones the dashboards already read. */
export const PROBE_EXTRA_METRICS = Object.freeze({
  /** Counter, label `reason` (superseded, queue_full, rejected_4xx): reports dropped from a publish queue. */
  reportsDropped: 'monitoring_probe_reports_dropped_total',
  /** Counter, labels `control`, `outcome` (ok or an error code): container controls run. */
  controls: 'monitoring_probe_controls_total',
  /** Histogram, label `kind` (full, delta): time of one whole pass. */
  passSeconds: 'monitoring_probe_pass_duration_seconds',
});
