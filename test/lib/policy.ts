/**
 * Workload policy over synthesized objects: the rules every workload of the platform obeys.
 * Returns violations (never throws), so a test can assert both "dist/ has none" and "this
 * deliberately broken object has exactly these".
 */
import { ALLOWED_ADDED_CAPABILITIES, SECURITY_EXCEPTION_ANNOTATION, appArmorAnnotation } from '../../constructs/lib/security';
import { TLS_APP_PROTOCOLS, plaintextException } from '../../constructs/security/transport';
import type { K8sObject } from './platform';
import { WORKLOAD_KINDS, podSpecOf } from './platform';

/** The only ServiceAccounts that may hold cluster-wide rights (read-only): the probe and Prometheus. */
export const CLUSTER_READERS = ['monitoring-probe', 'prometheus'];
const READ_VERBS = ['get', 'list', 'watch'];

export interface PolicyOptions {
  /** Namespaces that exist without being declared in the objects (e.g. `argocd` for Applications). */
  readonly externalNamespaces?: readonly string[];
}

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

export function checkWorkloadPolicy(objects: readonly K8sObject[], options: PolicyOptions = {}): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  const namespaces = new Set([...objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name), ...(options.externalNamespaces ?? [])]);
  const boundServiceAccounts = new Set(objects
    .filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')
    .flatMap((b) => ((b as any).subjects ?? []).filter((s: any) => s.kind === 'ServiceAccount').map((s: any) => `${s.namespace ?? b.metadata.namespace}/${s.name}`)));
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
    if (pod.automountServiceAccountToken === true && !boundServiceAccounts.has(`${o.metadata.namespace}/${sa}`)) {
      add('service-account-token', `mounts the token of ${sa}, which no RoleBinding or ClusterRoleBinding grants anything: set automountServiceAccountToken: false`);
    }
    const templateAnnotations: Record<string, string> = o.spec?.template?.metadata?.annotations ?? {};
    const exception = templateAnnotations[SECURITY_EXCEPTION_ANNOTATION];
    const privilegedNs = privilegedNamespaces.has(o.metadata.namespace ?? '');
    const hostPaths = new Set((pod.volumes ?? []).filter((v: any) => v.hostPath).map((v: any) => v.name as string));
    const hostAccess = [
      ...(pod.hostPID ? ['hostPID'] : []), ...(pod.hostNetwork ? ['hostNetwork'] : []), ...(pod.hostIPC ? ['hostIPC'] : []),
      ...[...hostPaths].map((v) => `hostPath volume ${v}`),
    ];
    if (hostAccess.length && !(privilegedNs && exception)) {
      add('host-access', `${hostAccess.join(', ')} only in a namespace labelled privileged and with a ${SECURITY_EXCEPTION_ANNOTATION} annotation saying why`);
    }

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
        if (!exception) add('security-context', `${where}: privileged without a ${SECURITY_EXCEPTION_ANNOTATION} annotation saying why`);
        continue;
      }
      for (const m of c.volumeMounts ?? []) {
        if (hostPaths.has(m.name) && m.readOnly !== true) add('host-access', `${where}: host mount ${m.name} must be readOnly (only a privileged container may write to the host)`);
      }
      // On SELinux-enforcing nodes the default container type may not read host mounts; a
      // non-privileged container that mounts the host names the type it needs (a privileged one
      // already runs as spc_t).
      const hostMounts = (c.volumeMounts ?? []).filter((m: any) => hostPaths.has(m.name));
      const seLinuxType = sc.seLinuxOptions?.type ?? pod.securityContext?.seLinuxOptions?.type;
      if (hostMounts.length && !seLinuxType) add('selinux', `${where}: mounts the host (${hostMounts.map((m: any) => m.name).join(', ')}) without seLinuxOptions.type`);
      if (templateAnnotations[appArmorAnnotation(c.name)] !== 'runtime/default' && !String(templateAnnotations[appArmorAnnotation(c.name)] ?? '').startsWith('localhost/')) {
        add('apparmor', `${where}: no AppArmor profile annotation (runtime/default)`);
      }
      const added: string[] = sc.capabilities?.add ?? [];
      const runsAsRoot = sc.runAsUser === 0 || (sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) === false;
      if (added.length && !(privilegedNs && exception && added.every((cap) => (ALLOWED_ADDED_CAPABILITIES as readonly string[]).includes(cap)))) {
        add('security-context', `${where}: adds capabilities ${added.join(', ')}: only ${ALLOWED_ADDED_CAPABILITIES.join(', ')}, in a privileged-labelled namespace, with a security exception`);
      }
      if (sc.allowPrivilegeEscalation !== false) add('security-context', `${where}: allowPrivilegeEscalation must be false`);
      if (sc.readOnlyRootFilesystem !== true) add('security-context', `${where}: readOnlyRootFilesystem must be true`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) add('security-context', `${where}: capabilities must drop ALL`);
      // Root without privilege is the one exception (the probe): justified, in a privileged-labelled namespace.
      if ((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true && !(runsAsRoot && privilegedNs && exception)) add('security-context', `${where}: must run as non-root`);
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
  out.push(...checkSecurityObjects(objects));
  return out;
}

/**
 * TLS on every Service port, or a documented exception (constructs/security/transport.ts). A
 * port that claims TLS (`appProtocol` https or tls) must lead to a container port of a selected
 * workload whose container mounts the Secret of a cert-manager Certificate in the output: the
 * claim is checked against where the key material comes from, not taken on trust.
 */
export function checkServiceTransport(svc: K8sObject, objects: readonly K8sObject[]): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  const add = (detail: string) => out.push({ object: ref(svc), rule: 'transport', detail });
  const ns = svc.metadata.namespace;
  const certificateSecrets = new Set(objects.filter((o) => o.kind === 'Certificate' && o.metadata.namespace === ns).map((o) => o.spec?.secretName as string));
  const workloads = objects.filter((o) => WORKLOAD_KINDS.includes(o.kind) && o.metadata.namespace === ns && selects(svc.spec?.selector, o.spec?.template?.metadata?.labels));
  for (const p of svc.spec?.ports ?? []) {
    const where = `port ${p.name ?? ''} (${p.port})`;
    if (!(TLS_APP_PROTOCOLS as readonly string[]).includes(p.appProtocol)) {
      if (!plaintextException(svc.metadata.name, p.port)) add(`${where} is neither TLS (appProtocol ${TLS_APP_PROTOCOLS.join(' or ')}) nor a documented plaintext exception`);
      continue;
    }
    const target = p.targetPort ?? p.port;
    if (workloads.length === 0) add(`${where} claims ${p.appProtocol} but selects no workload`);
    for (const w of workloads) {
      const pod = podSpecOf(w);
      const container = (pod.containers ?? []).find((c: any) => (c.ports ?? []).some((cp: any) => cp.name === target || cp.containerPort === target));
      if (!container) {
        add(`${where} claims ${p.appProtocol} but no container of ${w.kind} ${w.metadata.name} serves ${target}`);
        continue;
      }
      const certVolumes = new Set((pod.volumes ?? []).filter((v: any) => certificateSecrets.has(v.secret?.secretName)).map((v: any) => v.name as string));
      if (!(container.volumeMounts ?? []).some((m: any) => certVolumes.has(m.name))) {
        add(`${where} claims ${p.appProtocol} but container ${container.name} of ${w.kind} ${w.metadata.name} mounts no cert-manager Certificate's Secret`);
      }
    }
  }
  return out;
}

/** RBAC, namespaces, network isolation, tenancy, TLS on Ingresses and Services, and no committed Secrets. */
export function checkSecurityObjects(objects: readonly K8sObject[]): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  const add = (o: K8sObject, rule: string, detail: string) => out.push({ object: ref(o), rule, detail });
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  for (const o of objects) {
    const any = o as any;
    if (o.kind === 'Secret') add(o, 'no-secrets', 'Secrets are never committed: reference one created out of band (or Vault) by name');
    if (o.kind === 'ClusterRoleBinding') {
      for (const s of any.subjects ?? []) {
        if (s.kind !== 'ServiceAccount' || !CLUSTER_READERS.includes(s.name)) add(o, 'rbac', `binds ${s.kind} ${s.name} cluster-wide; only ${CLUSTER_READERS.join(' and ')} may have cluster rights`);
      }
    }
    if (o.kind === 'ClusterRole' || o.kind === 'Role') {
      for (const r of any.rules ?? []) {
        const all = [...(r.verbs ?? []), ...(r.resources ?? []), ...(r.apiGroups ?? [])];
        if (all.includes('*')) add(o, 'rbac', 'wildcards grant more than the component needs');
        if ((r.resources ?? []).some((x: string) => x.startsWith('secrets'))) add(o, 'rbac', 'reads secrets');
        if (o.kind === 'ClusterRole' && !(r.verbs ?? []).every((v: string) => READ_VERBS.includes(v))) add(o, 'rbac', `cluster-wide verbs ${r.verbs.join(', ')}: only ${READ_VERBS.join(', ')}`);
      }
    }
    if (o.kind === 'Namespace') {
      const level = o.metadata.labels?.['pod-security.kubernetes.io/enforce'];
      if (!level) add(o, 'pod-security-admission', 'no pod-security.kubernetes.io/enforce label');
      else if (level !== 'restricted' && !o.metadata.annotations?.['orchestrator.io/pod-security-exception']) add(o, 'pod-security-admission', `${level} without an orchestrator.io/pod-security-exception annotation saying why`);
      const ns = o.metadata.name;
      const denies = policies.some((p) => p.metadata.namespace === ns && Object.keys(p.spec?.podSelector ?? {}).length === 0
        && ['Ingress', 'Egress'].every((t) => (p.spec?.policyTypes ?? []).includes(t)) && !p.spec?.ingress && !p.spec?.egress);
      if (!denies) add(o, 'network-policy', 'no default-deny NetworkPolicy (all pods, Ingress and Egress, no rules)');
      const tenant = o.metadata.labels?.['orchestrator.io/tenant'];
      if (tenant) {
        const quota = objects.find((q) => q.kind === 'ResourceQuota' && q.metadata.namespace === ns);
        const hard = quota?.spec?.hard ?? {};
        for (const key of ['requests.cpu', 'limits.cpu', 'requests.memory', 'limits.memory', 'pods']) {
          if (hard[key] === undefined) add(o, 'tenancy', `tenant namespace without a ResourceQuota on ${key}`);
        }
        const limits = objects.find((l) => l.kind === 'LimitRange' && l.metadata.namespace === ns)?.spec?.limits?.find((l: any) => l.type === 'Container');
        if (!limits?.default || !limits?.defaultRequest) add(o, 'tenancy', 'tenant namespace without a LimitRange giving containers default requests and limits');
      }
    }
    if (o.kind === 'Service') out.push(...checkServiceTransport(o, objects));
    if (o.kind === 'Ingress') {
      // Re-encryption to a TLS backend, verified: the NGINX controller otherwise speaks plain
      // HTTP to it (failing) or accepts any certificate.
      const annotations = o.metadata.annotations ?? {};
      for (const rule of o.spec?.rules ?? []) {
        for (const path of rule.http?.paths ?? []) {
          const backend = path.backend?.service;
          const svc = objects.find((x) => x.kind === 'Service' && x.metadata.namespace === o.metadata.namespace && x.metadata.name === backend?.name);
          const port = (svc?.spec?.ports ?? []).find((p: any) => p.name === backend?.port?.name || p.port === backend?.port?.number);
          if (!port || !(TLS_APP_PROTOCOLS as readonly string[]).includes(port.appProtocol)) continue;
          if (annotations['nginx.ingress.kubernetes.io/backend-protocol'] !== 'HTTPS' || annotations['nginx.ingress.kubernetes.io/proxy-ssl-verify'] !== 'on'
            || !annotations['nginx.ingress.kubernetes.io/proxy-ssl-secret'] || !annotations['nginx.ingress.kubernetes.io/proxy-ssl-name']) {
            add(o, 'transport', `backend ${backend.name}:${port.name} is TLS: the Ingress needs backend-protocol HTTPS, proxy-ssl-verify on, proxy-ssl-secret and proxy-ssl-name`);
          }
        }
      }
      const tlsHosts = new Set((o.spec?.tls ?? []).filter((t: any) => t.secretName).flatMap((t: any) => t.hosts ?? []));
      for (const rule of o.spec?.rules ?? []) if (!tlsHosts.has(rule.host)) add(o, 'ingress-tls', `host ${rule.host ?? '(any)'} is served without TLS`);
    }
    if (WORKLOAD_KINDS.includes(o.kind) && !podSpecOf(o).hostNetwork) {
      const labels = o.spec?.template?.metadata?.labels ?? {};
      // A policy of its own (selecting it by label), not only the namespace-wide DNS allowance.
      const allowed = policies.some((p) => p.metadata.namespace === o.metadata.namespace && (p.spec?.ingress || p.spec?.egress)
        && Object.keys(p.spec?.podSelector?.matchLabels ?? {}).length > 0
        && Object.entries(p.spec.podSelector.matchLabels).every(([k, v]) => labels[k] === v));
      if (!allowed) add(o, 'network-policy', 'no NetworkPolicy allows any flow for its pods (only the default deny applies)');
    }
  }
  return out;
}
