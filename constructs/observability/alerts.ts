/**
 * Alert rules as typed values, rendered to a Prometheus rule file. Each rule says what it
 * means for the platform in its annotations; thresholds that the values decide (the ZooKeeper
 * quorum) are derived from them at synth time.
 */
import { ZK_SYNC_METRICS } from '../../runtime/common/telemetry';
import type { EnvironmentValues } from '../environments';
import { quorumOf } from '../lib/pod';
import { JOBS, appErrorRatioByHash, sel, zkSyncLag } from './queries';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  /** Prometheus duration the condition must hold. */
  readonly for: string;
  readonly labels: { readonly severity: 'critical' | 'warning' };
  readonly annotations: { readonly summary: string; readonly description: string };
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

/** Sync lag above which the migration is behind its promise (the seed's 50 ms). */
export const SYNC_LAG_THRESHOLD_MS = 50;

export function platformAlerts(env: EnvironmentValues): RuleGroup[] {
  const ns = env.namespace;
  const quorum = quorumOf(env.zookeeper.replicas);
  const zkUp = `up${sel({ job: JOBS.zookeeper, namespace: ns })} == 1`;
  const elected = `mesos_master_elected${sel({ job: JOBS.mesosMaster, namespace: ns })}`;
  return [
    {
      name: 'orchestration',
      rules: [
        {
          alert: 'ZooKeeperQuorumLost',
          expr: `count(${zkUp}) < ${quorum} or absent(${zkUp})`,
          for: '1m',
          labels: { severity: 'critical' },
          annotations: {
            summary: `ZooKeeper in ${ns} has fewer than ${quorum} of ${env.zookeeper.replicas} members up`,
            description: 'Without a quorum ZooKeeper refuses writes: Mesos masters lose their leader and Marathon stops. Check the zookeeper pods and their volumes.',
          },
        },
        {
          alert: 'MesosNoElectedMaster',
          expr: `sum(${elected}) < 1 or absent(${elected})`,
          for: '2m',
          labels: { severity: 'critical' },
          annotations: {
            summary: `No Mesos master in ${ns} is the elected leader`,
            description: 'Agents cannot register and frameworks cannot launch tasks until a master is elected. Check ZooKeeper first (masters elect through it), then the mesos-master pods.',
          },
        },
      ],
    },
    {
      name: 'monitoring',
      rules: [
        {
          alert: 'MonitoringProbeMissing',
          expr: `up${sel({ job: JOBS.probe })} == 0`,
          for: '5m',
          labels: { severity: 'warning' },
          annotations: {
            summary: 'The monitoring probe on node {{ $labels.node }} is not answering',
            description: 'Every node runs a probe (a DaemonSet tolerating every taint); this node is missing from the topology until it answers. Check the monitoring-probe pod on the node.',
          },
        },
      ],
    },
    {
      name: 'zk-sync',
      rules: [
        {
          alert: 'ZkSyncLagHigh',
          expr: `${zkSyncLag(ns)} > ${SYNC_LAG_THRESHOLD_MS}`,
          for: '2m',
          labels: { severity: 'warning' },
          annotations: {
            summary: `ZooKeeper migration {{ $labels.migration }} lags {{ $value }} ms (over ${SYNC_LAG_THRESHOLD_MS} ms)`,
            description: `${ZK_SYNC_METRICS.lagMs} stayed above ${SYNC_LAG_THRESHOLD_MS} ms: do not fence the source for cutover until it drains. Check the engine's /status and the target ensemble's latency.`,
          },
        },
      ],
    },
    {
      name: 'delivery',
      rules: [
        {
          alert: 'CanaryFailing',
          expr: `max by (name) (analysis_run_metric_phase${sel({ job: JOBS.rollouts, namespace: ns, phase: { re: 'Failed|Error' } })}) == 1`
            + ` or max by (name) (rollout_info${sel({ job: JOBS.rollouts, namespace: ns, phase: 'Degraded' })}) == 1`,
          for: '1m',
          labels: { severity: 'critical' },
          annotations: {
            summary: `Rollout {{ $labels.name }} in ${ns}: the canary is failing its analysis`,
            description: 'An analysis run of the canary failed (success rate under 95% or P95/P99 latency over 1 s/2 s) or the rollout is degraded: Argo Rollouts aborts and sends traffic back to stable. Read the AnalysisRun and the canary pods\' logs before retrying.',
          },
        },
        {
          alert: 'MonitoringAppErrorRateHigh',
          expr: `(${appErrorRatioByHash(ns, '5m')}) > 0.05`,
          for: '5m',
          labels: { severity: 'warning' },
          annotations: {
            summary: 'Monitoring app pods with template hash {{ $labels.rollouts_pod_template_hash }} answer over 5% server errors',
            description: 'During a canary this is what the analysis measures; outside one it is the stable version failing.',
          },
        },
      ],
    },
  ];
}
