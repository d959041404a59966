import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { EnvironmentValues } from './environments';
import { PART_OF } from './lib/labels';

export type PodSecurityLevel = 'restricted' | 'baseline' | 'privileged';

export interface PlatformNamespaceProps {
  readonly env: EnvironmentValues;
  readonly name: string;
  /** Pod Security admission level enforced (and audited and warned) in the namespace. */
  readonly podSecurity: PodSecurityLevel;
  /** Why a level below `restricted` is needed; required for any such exception. */
  readonly exceptionReason?: string;
  /**
   * More labels, e.g. `orchestrator.io/tenant`.
   * @default none
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A namespace of the platform, labelled for Pod Security admission. */
export class PlatformNamespace extends Construct {
  constructor(scope: Construct, id: string, props: PlatformNamespaceProps) {
    super(scope, id);
    if (props.podSecurity !== 'restricted' && !props.exceptionReason) {
      throw new Error(`namespace ${props.name}: Pod Security level "${props.podSecurity}" needs an exceptionReason saying why restricted is not possible`);
    }
    new k8s.KubeNamespace(this, 'namespace', {
      metadata: {
        name: props.name,
        labels: {
          'app.kubernetes.io/part-of': PART_OF,
          'orchestrator.io/environment': props.env.name,
          'pod-security.kubernetes.io/enforce': props.podSecurity,
          'pod-security.kubernetes.io/enforce-version': 'v1.27',
          'pod-security.kubernetes.io/audit': props.podSecurity,
          'pod-security.kubernetes.io/warn': props.podSecurity,
          ...props.labels,
        },
        annotations: props.exceptionReason ? { 'orchestrator.io/pod-security-exception': props.exceptionReason } : undefined,
      },
    });
  }
}
