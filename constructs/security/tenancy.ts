/**
 * Multi-tenancy: one namespace per tenant declared in the environment's values, restricted by
 * Pod Security admission, bounded by a ResourceQuota (CPU, memory, pods), given container
 * defaults and maxima by a LimitRange (so that pods without resources are still admitted under
 * the quota), and isolated by default: only traffic inside the tenant's namespace and DNS.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { EnvironmentValues, TenantValues } from '../environments';
import { PART_OF } from '../lib/labels';
import { parseQuantity } from '../lib/quantity';
import { PlatformNamespace } from '../namespaces';

export const TENANT_LABEL = 'orchestrator.io/tenant';

/** Default and maximum of one container in a tenant namespace. */
const CONTAINER_DEFAULTS = { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '128Mi', memoryLimit: '512Mi' } as const;

export function tenantNamespace(env: EnvironmentValues, tenant: TenantValues): string {
  return `${env.namespace}-tenant-${tenant.name}`;
}

export interface TenancyProps {
  readonly env: EnvironmentValues;
  readonly tenants: readonly TenantValues[];
}

export class Tenancy extends Construct {
  public readonly namespaces: readonly string[];

  constructor(scope: Construct, id: string, props: TenancyProps) {
    super(scope, id);
    const seen = new Set<string>();
    for (const t of props.tenants) {
      if (!/^[a-z][a-z0-9-]{0,29}$/.test(t.name)) throw new Error(`tenant name "${t.name}" must be a short DNS label (a-z, 0-9, -; at most 30)`);
      if (seen.has(t.name)) throw new Error(`tenant "${t.name}" is declared twice in tenants`);
      seen.add(t.name);
      if (!Number.isInteger(t.podQuota) || t.podQuota < 1) throw new Error(`tenant ${t.name}: podQuota must be a positive integer, got ${t.podQuota}`);
      if (parseQuantity(t.cpuQuota) < parseQuantity(CONTAINER_DEFAULTS.cpuLimit)) {
        throw new Error(`tenant ${t.name}: cpuQuota ${t.cpuQuota} is below one container's default limit ${CONTAINER_DEFAULTS.cpuLimit}; raise it`);
      }
      if (parseQuantity(t.memoryQuota) < parseQuantity(CONTAINER_DEFAULTS.memoryLimit)) {
        throw new Error(`tenant ${t.name}: memoryQuota ${t.memoryQuota} is below one container's default limit ${CONTAINER_DEFAULTS.memoryLimit}; raise it`);
      }
    }
    this.namespaces = props.tenants.map((t) => tenantNamespace(props.env, t));

    for (const t of props.tenants) {
      const ns = tenantNamespace(props.env, t);
      const scope = new Construct(this, t.name);
      new PlatformNamespace(scope, 'namespace', { env: props.env, name: ns, podSecurity: 'restricted', labels: { [TENANT_LABEL]: t.name } });
      const meta = (name: string): k8s.ObjectMeta => ({
        name, namespace: ns, labels: { 'app.kubernetes.io/part-of': PART_OF, 'orchestrator.io/environment': props.env.name, [TENANT_LABEL]: t.name },
      });
      new k8s.KubeResourceQuota(scope, 'quota', {
        metadata: meta('tenant-quota'),
        spec: {
          hard: {
            'requests.cpu': k8s.Quantity.fromString(t.cpuQuota),
            'limits.cpu': k8s.Quantity.fromString(t.cpuQuota),
            'requests.memory': k8s.Quantity.fromString(t.memoryQuota),
            'limits.memory': k8s.Quantity.fromString(t.memoryQuota),
            pods: k8s.Quantity.fromNumber(t.podQuota),
          },
        },
      });
      new k8s.KubeLimitRange(scope, 'limits', {
        metadata: meta('tenant-limits'),
        spec: {
          limits: [{
            type: 'Container',
            defaultRequest: { cpu: k8s.Quantity.fromString(CONTAINER_DEFAULTS.cpuRequest), memory: k8s.Quantity.fromString(CONTAINER_DEFAULTS.memoryRequest) },
            default: { cpu: k8s.Quantity.fromString(CONTAINER_DEFAULTS.cpuLimit), memory: k8s.Quantity.fromString(CONTAINER_DEFAULTS.memoryLimit) },
            // No single container may take the whole quota.
            max: { cpu: k8s.Quantity.fromString(t.cpuQuota), memory: k8s.Quantity.fromString(t.memoryQuota) },
          }],
        },
      });
      // Pods of the tenant talk to each other; nothing else comes in (default deny is per namespace).
      new k8s.KubeNetworkPolicy(scope, 'same-namespace', {
        metadata: meta('allow-same-namespace'),
        spec: {
          podSelector: {},
          policyTypes: ['Ingress', 'Egress'],
          ingress: [{ from: [{ podSelector: {} }] }],
          egress: [{ to: [{ podSelector: {} }] }],
        },
      });
    }
  }
}
