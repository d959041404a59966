/**
 * The five dashboards of the platform, as code: Mesos cluster overview, Marathon applications,
 * container monitoring, ZooKeeper sync status, canary deployment metrics. Queries are bound
 * to the environment's namespaces at synth time (one Grafana per environment).
 */
import { APP_METRICS, PROBE_METRICS, PROCESS_METRICS, ZK_SYNC_METRICS } from '../../../runtime/common/telemetry';
import type { EnvironmentValues } from '../../environments';
import {
  HASH_LABEL, JOBS, MIGRATION_LABEL, appErrorRatioByHash, appLatencyQuantile, appRequestRateByHash, probeCollectP95, sel, zkSyncLag,
} from '../queries';
import { DashboardBuilder, type GrafanaDashboard } from './builder';

/** Grafana's own rate window: at least four scrape intervals. */
const W = '$__rate_interval';

export function mesosOverview(env: EnvironmentValues): GrafanaDashboard {
  const m = sel({ job: JOBS.mesosMaster, namespace: env.namespace });
  return new DashboardBuilder('mesos-overview', 'Mesos cluster overview', ['mesos', env.name])
    .row('Masters')
    .stat('Elected leader', [{ expr: `sum(mesos_master_elected${m})` }], { description: '1 when a master is the elected leader; 0 means no leader' })
    .stat('Masters up', [{ expr: `count(up${m} == 1)` }])
    .stat('Agents connected', [{ expr: `max(mesos_master_slaves_state${sel({ job: JOBS.mesosMaster, namespace: env.namespace, state: 'connected_active' })})` }])
    .stat('Frameworks active', [{ expr: `max(mesos_master_frameworks_state${sel({ job: JOBS.mesosMaster, namespace: env.namespace, state: 'connected_active' })})` }])
    .row('Resources')
    .timeseries('CPUs used / free', [{ expr: `max by (type) (mesos_master_cpus${m})`, legend: '{{type}}' }], { width: 8 })
    .timeseries('Memory used / free (MB)', [{ expr: `max by (type) (mesos_master_mem${m})`, legend: '{{type}}' }], { width: 8 })
    .timeseries('Disk used / free (MB)', [{ expr: `max by (type) (mesos_master_disk${m})`, legend: '{{type}}' }], { width: 8 })
    .row('Tasks')
    .timeseries('Tasks by state', [{ expr: `max by (state) (mesos_master_task_states_current${m})`, legend: '{{state}}' }])
    .timeseries('Pending offers', [{ expr: `max(mesos_master_offers_pending${m})`, legend: 'offers' }])
    .build();
}

export function marathonApplications(env: EnvironmentValues): GrafanaDashboard {
  const m = sel({ job: JOBS.marathon, namespace: env.namespace });
  return new DashboardBuilder('marathon-apps', 'Marathon applications', ['marathon', env.name])
    .row('Instances')
    .stat('Marathon instances up', [{ expr: `count(up${m} == 1)` }])
    .stat('Active apps', [{ expr: `max(marathon_apps_active_gauge${m})` }])
    .stat('Running tasks', [{ expr: `max(marathon_instances_running_gauge${m})` }])
    .stat('Active deployments', [{ expr: `max(marathon_deployments_active_gauge${m})` }])
    .row('Activity')
    .timeseries('Staged and running instances', [
      { expr: `max(marathon_instances_running_gauge${m})`, legend: 'running' },
      { expr: `max(marathon_instances_staged_gauge${m})`, legend: 'staged' },
    ])
    .timeseries('JVM heap used', [{ expr: `sum by (pod) (marathon_jvm_memory_heap_used_gauge_bytes${m})`, legend: '{{pod}}' }], { unit: 'bytes' })
    .build();
}

export function containerMonitoring(env: EnvironmentValues): GrafanaDashboard {
  const app = sel({ job: JOBS.app, namespace: env.namespace });
  const probe = sel({ job: JOBS.probe });
  return new DashboardBuilder('containers', 'Container monitoring', ['monitoring', env.name])
    .row('Fleet seen by the app')
    .stat('Probes connected', [{ expr: `sum(${APP_METRICS.probesConnected}${app})` }])
    .stat('Probes stale', [{ expr: `sum(${APP_METRICS.probesStale}${app})` }], { redFrom: 1 })
    .stat('Containers', [{ expr: `sum(${APP_METRICS.containersTotal}${app})` }])
    .stat('Nodes without a probe', [{ expr: `count(up${probe} == 0) or vector(0)` }], { redFrom: 1 })
    .row('Probes')
    .timeseries('Collection time P95 by collector', [{ expr: probeCollectP95(env.hostNamespace, W), legend: '{{collector}}' }], { unit: 's' })
    .timeseries('Collector errors', [{ expr: `sum by (collector) (rate(${PROBE_METRICS.collectorErrors}${probe}[${W}]))`, legend: '{{collector}}' }], { unit: 'ops' })
    .timeseries('Report size P95', [{ expr: `histogram_quantile(0.95, sum by (le) (rate(${PROBE_METRICS.reportBytes}_bucket${probe}[${W}])))`, legend: 'p95' }], { unit: 'bytes' })
    .timeseries('Publish errors', [{ expr: `sum by (reason) (rate(${PROBE_METRICS.publishErrors}${probe}[${W}]))`, legend: '{{reason}}' }], { unit: 'ops' })
    .timeseries('Probe CPU by node', [{ expr: `rate(${PROCESS_METRICS.cpuSeconds}${probe}[${W}])`, legend: '{{node}}' }], { unit: 'short', description: 'Budget: 0.1 CPU per node' })
    .timeseries('Probe memory by node', [{ expr: `${PROCESS_METRICS.residentBytes}${probe}`, legend: '{{node}}' }], { unit: 'bytes', description: 'Budget: 100 MiB per node' })
    .row('App')
    .timeseries('Reports ingested', [{ expr: `sum(rate(${APP_METRICS.reportsTotal}${app}[${W}]))`, legend: 'reports/s' }], { unit: 'ops' })
    .timeseries('WebSocket clients', [{ expr: `sum(${APP_METRICS.websocketClients}${app})`, legend: 'clients' }])
    .timeseries('Delta latency P99', [{ expr: `histogram_quantile(0.99, sum by (le) (rate(${APP_METRICS.deltaLatencySeconds}_bucket${app}[${W}])))`, legend: 'p99' }], {
      unit: 's',
      description: 'From a report\'s arrival to the WebSocket delta it caused. Goal: 100 ms at 1,000 probes',
    })
    .timeseries('Search P99', [{ expr: `histogram_quantile(0.99, sum by (le) (rate(${APP_METRICS.searchSeconds}_bucket${app}[${W}])))`, legend: 'p99' }], { unit: 's', description: 'Goal: 10 ms' })
    .timeseries('Event loop delay P99 by thread', [
      { expr: `max by (pod) (${APP_METRICS.eventLoopDelaySeconds}${sel({ job: JOBS.app, namespace: env.namespace, quantile: '0.99' })})`, legend: 'front {{pod}}' },
      { expr: `max by (pod) (${APP_METRICS.modelThreadLoopDelaySeconds}${sel({ job: JOBS.app, namespace: env.namespace, quantile: '0.99' })})`, legend: 'model {{pod}}' },
    ], { unit: 's', description: 'Front: what HTTP, search and the feed wait behind. Model: what reports and renders wait behind' })
    .timeseries('App memory', [
      { expr: `sum by (pod) (${PROCESS_METRICS.residentBytes}${app})`, legend: 'resident {{pod}}' },
      { expr: `sum by (pod) (${APP_METRICS.modelThreadHeapBytes}${sel({ job: JOBS.app, namespace: env.namespace, state: 'used' })})`, legend: 'model heap {{pod}}' },
    ], { unit: 'bytes', description: 'Goal: 1 GB resident at 1,000 probes' })
    .build();
}

export function zkSyncStatus(env: EnvironmentValues): GrafanaDashboard {
  const s = sel({ job: JOBS.zkSync, namespace: env.namespace });
  const zk = sel({ job: JOBS.zookeeper, namespace: env.namespace });
  return new DashboardBuilder('zk-sync', 'ZooKeeper sync status', ['zookeeper', 'migration', env.name])
    .row('Migrations')
    .stat('Max lag (ms)', [{ expr: `max(${ZK_SYNC_METRICS.lagMs}${s})` }], { unit: 'ms', redFrom: 50 })
    .stat('Engines up', [{ expr: `count(up${s} == 1)` }])
    .stat('Conflicts (1h)', [{ expr: `sum(increase(${ZK_SYNC_METRICS.conflicts}${s}[1h]))` }], { redFrom: 1 })
    .stat('Errors (1h)', [{ expr: `sum(increase(${ZK_SYNC_METRICS.errors}${s}[1h]))` }], { redFrom: 1 })
    .timeseries('Lag by migration', [{ expr: zkSyncLag(env.namespace), legend: `{{${MIGRATION_LABEL}}}` }], { unit: 'ms' })
    .timeseries('Znodes synced', [{ expr: `sum by (${MIGRATION_LABEL}) (rate(${ZK_SYNC_METRICS.syncedNodes}${s}[${W}]))`, legend: `{{${MIGRATION_LABEL}}}` }], { unit: 'ops' })
    .timeseries('Phase', [{ expr: `max by (${MIGRATION_LABEL}, phase) (${ZK_SYNC_METRICS.phase}${s}) == 1`, legend: `{{${MIGRATION_LABEL}}}: {{phase}}` }])
    .timeseries('Reconnects and session expiries', [
      { expr: `sum by (side) (rate(${ZK_SYNC_METRICS.reconnects}${s}[${W}]))`, legend: 'reconnects {{side}}' },
      { expr: `sum by (side) (rate(${ZK_SYNC_METRICS.sessionExpiries}${s}[${W}]))`, legend: 'expiries {{side}}' },
    ], { unit: 'ops' })
    .row('Target ensemble')
    .stat('ZooKeeper members up', [{ expr: `count(up${zk} == 1)` }])
    .timeseries('Znodes', [{ expr: `max by (pod) (znode_count${zk})`, legend: '{{pod}}' }])
    .timeseries('Outstanding requests', [{ expr: `max by (pod) (outstanding_requests${zk})`, legend: '{{pod}}' }])
    .build();
}

export function canaryDeployment(env: EnvironmentValues): GrafanaDashboard {
  const ns = env.namespace;
  return new DashboardBuilder('canary', 'Canary deployment metrics', ['delivery', env.name])
    .row('Stable vs canary (by pod-template hash)')
    .timeseries('Request rate', [{ expr: appRequestRateByHash(ns, W), legend: `{{${HASH_LABEL}}}` }], { unit: 'reqps' })
    .timeseries('Server error ratio', [{ expr: appErrorRatioByHash(ns, W), legend: `{{${HASH_LABEL}}}` }], { unit: 'percentunit', description: 'The analysis aborts the canary above 5%' })
    .timeseries('P95 latency', [{ expr: appLatencyQuantile(0.95, { namespace: ns }, W, [HASH_LABEL]), legend: `{{${HASH_LABEL}}}` }], { unit: 's', description: 'Threshold 1 s' })
    .timeseries('P99 latency', [{ expr: appLatencyQuantile(0.99, { namespace: ns }, W, [HASH_LABEL]), legend: `{{${HASH_LABEL}}}` }], { unit: 's', description: 'Threshold 2 s' })
    .row('Rollout')
    .timeseries('Rollout phase', [{ expr: `max by (name, phase) (rollout_info${sel({ job: JOBS.rollouts, namespace: ns })})`, legend: '{{name}} {{phase}}' }])
    .timeseries('Analysis measurements by phase', [{ expr: `sum by (metric, phase) (analysis_run_metric_phase${sel({ job: JOBS.rollouts, namespace: ns })})`, legend: '{{metric}} {{phase}}' }])
    .timeseries('Ingress requests by upstream', [{ expr: `sum by (service) (rate(nginx_ingress_controller_requests${sel({ job: JOBS.ingress, exported_namespace: ns })}[${W}]))`, legend: '{{service}}' }], { unit: 'reqps' })
    .build();
}

export function platformDashboards(env: EnvironmentValues): GrafanaDashboard[] {
  return [mesosOverview(env), marathonApplications(env), containerMonitoring(env), zkSyncStatus(env), canaryDeployment(env)];
}
