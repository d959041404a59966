/**
 * Workload policy over synthesized objects: the rules every workload of the platform obeys.
 * Returns violations (never throws), so a test can assert both "dist/ has none" and "this
 * deliberately broken object has exactly these".
 */
import type { K8sObject } from './platform';
import { WORKLOAD_KINDS, podSpecOf } from './platform';

export interface PolicyViolation {
  readonly object: string; // Kind/namespace/name
  readonly rule: string;
  readonly detail: string;
}

const ref = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/* eslint-disable @typescript-eslint/no-explicit-any */
function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function replicasOf(o: K8sObject): number {
  if (o.kind === 'DaemonSet') return 1; // one per node: spread by construction, no PDB needed for quorum
  return o.spec?.replicas ?? 1;
}

export function checkWorkloadPolicy(objects: readonly K8sObject[]): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  const namespaces = new Set(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name));
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
  const serviceAccounts = new Set(objects.filter((o) => o.kind === 'ServiceAccount').map((o) => `${o.metadata.namespace}/${o.metadata.name}`));
  const privilegedNamespaces = new Set(objects
    .filter((o) => o.kind === 'Namespace' && o.metadata.labels?.['pod-security.kubernetes.io/enforce'] === 'privileged')
    .map((o) => o.metadata.name));

  for (const o of objects) {
    const add = (rule: string, detail: string) => out.push({ object: ref(o), rule, detail });
    if (o.kind !== 'Namespace' && o.apiVersion !== 'rbac.authorization.k8s.io/v1' && !o.kind.startsWith('Cluster')) {
      if (!o.metadata.namespace) add('namespaced', 'no metadata.namespace');
      else if (!namespaces.has(o.metadata.namespace)) add('namespaced', `namespace ${o.metadata.namespace} is not declared in the output`);
    }
    if (!WORKLOAD_KINDS.includes(o.kind)) continue;
    const pod = podSpecOf(o);
    const podLabels = o.spec?.template?.metadata?.labels;

    const sa = pod.serviceAccountName;
    if (!sa || sa === 'default') add('service-account', 'pod must name its own ServiceAccount (not default)');
    else if (!serviceAccounts.has(`${o.metadata.namespace}/${sa}`)) add('service-account', `ServiceAccount ${sa} is not declared in ${o.metadata.namespace}`);
    if (pod.automountServiceAccountToken === undefined) add('service-account', 'automountServiceAccountToken must be explicit');

    const containers: Array<{ c: any; init: boolean }> = [
      ...(pod.initContainers ?? []).map((c: any) => ({ c, init: true })),
      ...(pod.containers ?? []).map((c: any) => ({ c, init: false })),
    ];
    for (const { c, init } of containers) {
      const where = `container ${c.name}`;
      const image: string = c.image ?? '';
      const tag = image.includes('@') ? 'digest' : image.slice(image.lastIndexOf(':') + 1);
      if (!image.includes(':') || image.lastIndexOf(':') < image.lastIndexOf('/') || tag === 'latest' || tag === '') {
        add('pinned-image', `${where}: image "${image}" is not pinned by tag or digest`);
      }
      for (const kind of ['requests', 'limits']) {
        for (const res of ['cpu', 'memory']) {
          if (c.resources?.[kind]?.[res] === undefined) add('resources', `${where}: no ${kind}.${res}`);
        }
      }
      if (!init) {
        if (!c.readinessProbe) add('probes', `${where}: no readinessProbe`);
        if (!c.livenessProbe) add('probes', `${where}: no livenessProbe`);
      }
      const sc = c.securityContext;
      if (!sc) {
        add('security-context', `${where}: no securityContext`);
        continue;
      }
      if (sc.privileged === true) {
        if (!privilegedNamespaces.has(o.metadata.namespace ?? '')) {
          add('security-context', `${where}: privileged outside a namespace labelled for privileged Pod Security`);
        }
        continue;
      }
      if (sc.allowPrivilegeEscalation !== false) add('security-context', `${where}: allowPrivilegeEscalation must be false`);
      if (sc.readOnlyRootFilesystem !== true) add('security-context', `${where}: readOnlyRootFilesystem must be true`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) add('security-context', `${where}: capabilities must drop ALL`);
      if ((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true) add('security-context', `${where}: must run as non-root`);
      const seccomp = sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') add('security-context', `${where}: seccompProfile must be RuntimeDefault`);
    }

    if (replicasOf(o) > 1) {
      if (!pdbs.some((p) => p.metadata.namespace === o.metadata.namespace && selects(p.spec?.selector?.matchLabels, podLabels))) {
        add('disruption-budget', `${replicasOf(o)} replicas but no PodDisruptionBudget selects them`);
      }
      const anti = pod.affinity?.podAntiAffinity;
      const terms = [
        ...(anti?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
        ...(anti?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p: any) => p.podAffinityTerm),
      ];
      if (!terms.some((term: any) => selects(term?.labelSelector?.matchLabels, podLabels))) {
        add('anti-affinity', `${replicasOf(o)} replicas but no pod anti-affinity spreads them`);
      }
    }
  }

  for (const svc of objects.filter((o) => o.kind === 'Service')) {
    const selector = svc.spec?.selector;
    if (selector && !objects.some((o) => WORKLOAD_KINDS.includes(o.kind) && o.metadata.namespace === svc.metadata.namespace && selects(selector, o.spec?.template?.metadata?.labels))) {
      out.push({ object: ref(svc), rule: 'service-selector', detail: 'selects no workload\'s pods' });
    }
  }
  return out;
}
