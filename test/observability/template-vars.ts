/**
 * Grafana's and Argo Rollouts' template variables, filled in as they are at run time, so that
 * the generated queries can be parsed (promtool.test.ts) and run (live-prometheus.test.ts).
 */

/** The pod-template hash the canary analysis' `{{args.canary-hash}}` stands for in tests. */
export const TEST_POD_TEMPLATE_HASH = '5d8f7c9b4';

export function instantiate(expr: string): string {
  return expr.replace(/\$__rate_interval/g, '1m').replace(/\{\{args\.[a-z-]+\}\}/g, TEST_POD_TEMPLATE_HASH);
}
