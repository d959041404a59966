/**
 * Constants of the monitoring app that code outside the app reads too: the
 * manifests (port, probe paths, metric names for alerts and the canary
 * analysis) and the probe (port). One module, so the two sides cannot drift.
 */

/** The app's default port (Weave Scope's, which operators of such tools already know). */
export const APP_DEFAULT_PORT = 4040;
export const APP_HEALTH_PATH = '/healthz';
export const APP_READY_PATH = '/readyz';
export const APP_METRICS_PATH = '/metrics';

/** Prometheus metric names exported by the app. */
export const APP_METRICS = Object.freeze({
  probesConnected: 'monitoring_app_probes_connected',
  probesStale: 'monitoring_app_probes_stale',
  containersTotal: 'monitoring_app_containers_total',
  viewNodes: 'monitoring_app_view_nodes',
  reportsTotal: 'monitoring_app_reports_total',
  ingestSeconds: 'monitoring_app_ingest_duration_seconds',
  mergeSeconds: 'monitoring_app_merge_duration_seconds',
  renderSeconds: 'monitoring_app_render_duration_seconds',
  websocketClients: 'monitoring_app_websocket_clients',
  websocketResets: 'monitoring_app_websocket_resets_total',
  deltaLatencySeconds: 'monitoring_app_delta_latency_seconds',
  searchSeconds: 'monitoring_app_search_duration_seconds',
  controlsTotal: 'monitoring_app_controls_total',
  /** Front thread's event loop delay since the previous scrape, by quantile (runtime/app/loop-delay.ts). */
  eventLoopDelaySeconds: 'monitoring_app_event_loop_delay_seconds',
  /** The model thread's, the same way. */
  modelThreadLoopDelaySeconds: 'monitoring_app_model_thread_loop_delay_seconds',
  /** The model thread's V8 heap, by state (used, total). */
  modelThreadHeapBytes: 'monitoring_app_model_thread_heap_bytes',
  httpRequestsTotal: 'http_requests_total',
  httpRequestSeconds: 'http_request_duration_seconds',
});
