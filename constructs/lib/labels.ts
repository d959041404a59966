/**
 * Labels and selectors are derived here, in one place, so that a Service, a PDB and an
 * anti-affinity rule can never disagree with the pods they select.
 */
import type { EnvironmentValues } from '../environments';

export const PART_OF = 'orchestrator';

/** Labels that identify one component's pods; stable for the life of a workload (selectors are immutable). */
export function selectorLabels(component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': component,
    'app.kubernetes.io/part-of': PART_OF,
  };
}

/** Every object of a component carries these. */
export function componentLabels(component: string, env: EnvironmentValues, version?: string): Record<string, string> {
  return {
    ...selectorLabels(component),
    'app.kubernetes.io/instance': `${component}-${env.name}`,
    'app.kubernetes.io/managed-by': 'cdk8s',
    'orchestrator.io/environment': env.name,
    ...(version ? { 'app.kubernetes.io/version': version } : {}),
  };
}
