/**
 * The canary of the monitoring app: traffic steps with pauses, and the AnalysisTemplates the
 * Rollout runs in the background from the first step on. A failed analysis aborts the rollout,
 * which sends all traffic back to the stable pods and scales the canary down: the automatic
 * rollback. The queries read the app's own `http_requests_total` and
 * `http_request_duration_seconds` for the canary's pods only (their pod-template hash).
 */
import { Construct } from 'constructs';
import {
  AnalysisTemplate, AnalysisTemplateSpecMetricsFailureLimit, type RolloutSpecStrategyCanarySteps,
  RolloutSpecStrategyCanaryStepsPauseDuration,
} from '../../imports/argoproj.io';
import type { CanaryValues, EnvironmentValues } from '../environments';
import { componentLabels } from '../lib/labels';
import { appLatencyQuantile, appSuccessRate } from '../observability/queries';

/** The analysis argument holding the canary's pod-template hash. */
export const CANARY_HASH_ARG = 'canary-hash';

export interface CanaryThresholds {
  /** Minimum share of requests without a server error. */
  readonly successRate: number;
  readonly p95Seconds: number;
  readonly p99Seconds: number;
}

/** The thresholds: success ≥ 95%, P95 ≤ 1000 ms, P99 ≤ 2000 ms. */
export const DEFAULT_THRESHOLDS: CanaryThresholds = { successRate: 0.95, p95Seconds: 1, p99Seconds: 2 };

/** Traffic weights, each followed by a pause (none after 100%: the rollout is then complete). */
export function canarySteps(v: CanaryValues): RolloutSpecStrategyCanarySteps[] {
  const w = v.weights;
  const ascending = w.every((x, i) => Number.isInteger(x) && x > 0 && x <= 100 && (i === 0 || x > w[i - 1]!));
  if (w.length < 2 || !ascending || w[w.length - 1] !== 100) {
    throw new Error(`app.canary.weights must be at least two ascending integer percentages ending at 100, got [${w.join(', ')}]`);
  }
  if (!Number.isInteger(v.pauseSeconds) || v.pauseSeconds < v.analysisIntervalSeconds) {
    throw new Error(`app.canary.pauseSeconds (${v.pauseSeconds}) must be an integer of at least one analysis interval (${v.analysisIntervalSeconds} s), or a step could pass unmeasured`);
  }
  return w.flatMap((weight) => weight === 100
    ? [{ setWeight: weight }]
    : [{ setWeight: weight }, { pause: { duration: RolloutSpecStrategyCanaryStepsPauseDuration.fromString(`${v.pauseSeconds}s`) } }]);
}

export interface CanaryMetric {
  readonly template: string;
  readonly name: string;
  readonly query: string;
  readonly successCondition: string;
}

export interface CanaryAnalysisProps {
  readonly env: EnvironmentValues;
  readonly values: CanaryValues;
  /** The app's component name; the templates are `<app>-success-rate` and `<app>-latency`. */
  readonly app: string;
  readonly namespace: string;
  /** Base URL of the Prometheus the analysis queries. */
  readonly prometheusUrl: string;
  /**
   * @default DEFAULT_THRESHOLDS
   */
  readonly thresholds?: CanaryThresholds;
  /**
   * Range of the rate() windows.
   * @default '2m'
   */
  readonly window?: string;
}

export class CanaryAnalysis extends Construct {
  public readonly templateNames: readonly string[];
  /** Every metric of every template, for tests (each query must parse and return data). */
  public readonly metrics: readonly CanaryMetric[];

  constructor(scope: Construct, id: string, props: CanaryAnalysisProps) {
    super(scope, id);
    const t = props.thresholds ?? DEFAULT_THRESHOLDS;
    const window = props.window ?? '2m';
    if (!(t.successRate > 0 && t.successRate <= 1)) throw new Error(`canary successRate threshold must be in (0, 1], got ${t.successRate}`);
    if (!(t.p95Seconds > 0 && t.p99Seconds >= t.p95Seconds)) throw new Error(`canary latency thresholds need 0 < p95 (${t.p95Seconds}) <= p99 (${t.p99Seconds})`);
    const canaryPods = { namespace: props.namespace, hash: `{{args.${CANARY_HASH_ARG}}}` };
    const successRate = `${props.app}-success-rate`;
    const latency = `${props.app}-latency`;
    // No traffic yet gives NaN (0/0): not a failure, the next measurement decides.
    const metrics: CanaryMetric[] = [
      { template: successRate, name: 'success-rate', query: appSuccessRate(canaryPods, window), successCondition: `isNaN(result[0]) || result[0] >= ${t.successRate}` },
      { template: latency, name: 'p95-latency', query: appLatencyQuantile(0.95, canaryPods, window), successCondition: `isNaN(result[0]) || result[0] <= ${t.p95Seconds}` },
      { template: latency, name: 'p99-latency', query: appLatencyQuantile(0.99, canaryPods, window), successCondition: `isNaN(result[0]) || result[0] <= ${t.p99Seconds}` },
    ];
    this.metrics = metrics;
    this.templateNames = [successRate, latency];

    for (const name of this.templateNames) {
      new AnalysisTemplate(this, name, {
        metadata: { name, namespace: props.namespace, labels: componentLabels(props.app, props.env) },
        spec: {
          args: [{ name: CANARY_HASH_ARG }],
          metrics: metrics.filter((m) => m.template === name).map((m) => ({
            name: m.name,
            interval: `${props.values.analysisIntervalSeconds}s`,
            // Let the canary's first requests land in a rate() window before judging.
            initialDelay: window,
            successCondition: m.successCondition,
            // Two bad measurements in a row may be noise; the third aborts the rollout.
            failureLimit: AnalysisTemplateSpecMetricsFailureLimit.fromNumber(2),
            provider: { prometheus: { address: props.prometheusUrl, query: m.query, timeout: 10 } },
          })),
        },
      });
    }
  }
}
