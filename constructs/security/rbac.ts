/**
 * Least-privilege RBAC. Every component has its own ServiceAccount (lib/component.ts) and no
 * API rights; the two that must read the cluster get a read-only ClusterRole here: the probe
 * (pods, services and nodes of its node) and Prometheus (service discovery). Nothing else gets
 * cluster rights, which the policy test checks over all of dist/.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { EnvironmentValues } from '../environments';
import { componentLabels } from '../lib/labels';

/** The only verbs a cluster-wide role of ours may grant. */
export const READ_VERBS = ['get', 'list', 'watch'] as const;

export interface ReadRule {
  /** '' for the core group. */
  readonly apiGroup: string;
  readonly resources: readonly string[];
}

export interface ClusterReaderProps {
  readonly env: EnvironmentValues;
  /** The component (and its ServiceAccount's name). */
  readonly component: string;
  readonly namespace: string;
  readonly rules: readonly ReadRule[];
}

/**
 * A read-only ClusterRole and its binding to one component's ServiceAccount. Cluster-scoped
 * names carry the environment's namespace, so environments sharing a cluster never collide.
 */
export class ClusterReader extends Construct {
  public readonly roleName: string;

  constructor(scope: Construct, id: string, props: ClusterReaderProps) {
    super(scope, id);
    for (const rule of props.rules) {
      for (const resource of rule.resources) {
        if (resource === '*' || resource.includes('secrets')) {
          throw new Error(`${props.component}: a cluster reader may not read "${resource}"; name the resources it needs (never secrets)`);
        }
      }
    }
    this.roleName = `${props.namespace}-${props.component}`;
    const labels = componentLabels(props.component, props.env);
    new k8s.KubeClusterRole(this, 'role', {
      metadata: { name: this.roleName, labels },
      rules: props.rules.map((r) => ({ apiGroups: [r.apiGroup], resources: [...r.resources], verbs: [...READ_VERBS] })),
    });
    new k8s.KubeClusterRoleBinding(this, 'binding', {
      metadata: { name: this.roleName, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: this.roleName },
      subjects: [{ kind: 'ServiceAccount', name: props.component, namespace: props.namespace }],
    });
  }
}
