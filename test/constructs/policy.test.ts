/** The workload policy holds over all of dist/, and catches each kind of deliberately broken object. */
/* eslint-disable @typescript-eslint/no-explicit-any */
import t from 'tap';
import { ENVIRONMENTS, ENVIRONMENT_NAMES, type EnvironmentValues, prod } from '../../constructs/environments';
import { PLAINTEXT_PORTS, plaintextException } from '../../constructs/security/transport';
import { checkWorkloadPolicy } from '../lib/policy';
import { ARGOCD_NAMESPACE, GITOPS_FOLDERS, type K8sObject, distObjects, findObject, synthObjects } from '../lib/platform';

/** The one namespace an environment's objects use without declaring it: cert-manager's (the CA certificate). */
const externalOf = (env: EnvironmentValues) => [env.gitops.controllers.certManager.namespace];

for (const env of ENVIRONMENT_NAMES) {
  t.test(`dist/${env} obeys the workload policy`, async (t) => {
    const objects = distObjects(env);
    t.ok(objects.length > 0);
    t.same(checkWorkloadPolicy(objects, { externalNamespaces: externalOf(ENVIRONMENTS[env]) }), [], 'no violations');
  });
}

for (const folder of GITOPS_FOLDERS) {
  t.test(`dist/${folder} obeys the policy (Applications live in Argo CD's namespace)`, async (t) => {
    const objects = distObjects(folder);
    t.ok(objects.every((o) => o.metadata.namespace === ARGOCD_NAMESPACE), `every object in ${ARGOCD_NAMESPACE}`);
    t.same(checkWorkloadPolicy(objects, { externalNamespaces: [ARGOCD_NAMESPACE] }), []);
  });
}

/** Breaks a copy of prod's objects with `mutate` and returns the violated rules. */
function violationsAfter(mutate: (objects: K8sObject[]) => void): string[] {
  const objects = synthObjects(prod);
  mutate(objects);
  return checkWorkloadPolicy(objects, { externalNamespaces: externalOf(prod) }).map((v) => `${v.rule}: ${v.object}: ${v.detail}`);
}

const marathon = (objects: K8sObject[]) => findObject(objects, 'Deployment', 'marathon').spec.template.spec;

t.test('deliberately broken objects are caught', async (t) => {
  t.match(violationsAfter((o) => { delete marathon(o).containers[0].resources.limits; }),
    ['resources: Deployment/orchestrator-prod/marathon: container marathon: no limits.cpu', /no limits\.memory/]);
  t.match(violationsAfter((o) => { delete marathon(o).containers[0].readinessProbe; }), [/probes: .*marathon: no readinessProbe/]);
  t.match(violationsAfter((o) => { marathon(o).containers[0].image = 'mesosphere/marathon:latest'; }), [/pinned-image: .*not pinned/]);
  t.match(violationsAfter((o) => { marathon(o).containers[0].image = 'mesosphere/marathon'; }), [/pinned-image/]);
  t.match(violationsAfter((o) => { marathon(o).containers[0].securityContext.readOnlyRootFilesystem = false; }), [/readOnlyRootFilesystem must be true/]);
  t.match(violationsAfter((o) => { marathon(o).containers[0].securityContext = { privileged: true }; }), [/privileged outside a namespace/]);
  t.match(violationsAfter((o) => { delete marathon(o).serviceAccountName; }), [/service-account: .*own ServiceAccount/]);
  t.match(violationsAfter((o) => { delete marathon(o).affinity; }), [/anti-affinity: .*3 replicas/]);
  t.match(violationsAfter((o) => {
    const i = o.findIndex((x) => x.kind === 'PodDisruptionBudget' && x.metadata.name === 'zookeeper');
    o.splice(i, 1);
  }), [/disruption-budget: StatefulSet\/orchestrator-prod\/zookeeper/]);
  t.match(violationsAfter((o) => { findObject(o, 'Service', 'marathon').spec.selector = { app: 'nothing' }; }), [/service-selector: Service\/orchestrator-prod\/marathon/]);
  t.match(violationsAfter((o) => { findObject(o, 'Service', 'marathon').metadata.namespace = 'elsewhere'; }), [/namespace elsewhere is not declared/]);
});

const probe = (objects: K8sObject[]) => findObject(objects, 'DaemonSet', 'monitoring-probe');
const byName = (kind: string, name: string) => (objects: K8sObject[]) => objects.findIndex((o) => o.kind === kind && o.metadata.name === name);

t.test('deliberately broken security objects are caught', async (t) => {
  // Root and host access only with a written reason, in a privileged-labelled namespace.
  t.match(violationsAfter((o) => { delete probe(o).spec.template.metadata.annotations['orchestrator.io/security-exception']; }),
    [/host-access: DaemonSet\/orchestrator-prod-hosts\/monitoring-probe/, /security-context: .*adds capabilities/, /must run as non-root/]);
  t.ok(violationsAfter((o) => { probe(o).metadata.namespace = 'orchestrator-prod'; findObject(o, 'ServiceAccount', 'monitoring-probe').metadata.namespace = 'orchestrator-prod'; })
    .some((v) => /^host-access: DaemonSet\/orchestrator-prod\/monitoring-probe: hostPID, hostNetwork/.test(v)), 'host access outside the privileged namespace');
  t.match(violationsAfter((o) => { probe(o).spec.template.spec.containers[0].securityContext.capabilities.add.push('SYS_ADMIN'); }), [/adds capabilities SYS_PTRACE, DAC_READ_SEARCH, SYS_ADMIN/]);
  t.match(violationsAfter((o) => { probe(o).spec.template.spec.containers[0].volumeMounts[0].readOnly = false; }), [/host mount host-proc must be readOnly/]);
  t.match(violationsAfter((o) => { delete findObject(o, 'Deployment', 'marathon').spec.template.metadata.annotations['container.apparmor.security.beta.kubernetes.io/marathon']; }), [/apparmor: .*marathon/]);
  // Tokens only where RBAC grants something; cluster rights only for the probe and Prometheus.
  t.match(violationsAfter((o) => { findObject(o, 'Deployment', 'grafana').spec.template.spec.automountServiceAccountToken = true; }), [/service-account-token: Deployment\/orchestrator-prod\/grafana/]);
  t.match(violationsAfter((o) => { (findObject(o, 'ClusterRoleBinding', 'orchestrator-prod-prometheus') as any).subjects[0].name = 'grafana'; }),
    [/service-account-token: StatefulSet\/orchestrator-prod\/prometheus/, /rbac: .*binds ServiceAccount grafana cluster-wide/]);
  t.match(violationsAfter((o) => { (findObject(o, 'ClusterRole', 'orchestrator-prod-prometheus') as any).rules[0].verbs.push('delete'); }), [/rbac: .*cluster-wide verbs get, list, watch, delete/]);
  t.match(violationsAfter((o) => { (findObject(o, 'ClusterRole', 'orchestrator-prod-hosts-monitoring-probe') as any).rules[0].resources.push('secrets'); }), [/rbac: .*reads secrets/]);
  // Network isolation, tenancy, PSA labels, TLS, no Secrets.
  t.match(violationsAfter((o) => { o.splice(o.findIndex((x) => x.kind === 'NetworkPolicy' && x.metadata.name === 'default-deny' && x.metadata.namespace === 'orchestrator-prod'), 1); }),
    [/network-policy: Namespace\/\/orchestrator-prod: no default-deny/]);
  t.match(violationsAfter((o) => { o.splice(byName('NetworkPolicy', 'allow-grafana')(o), 1); }), [/network-policy: Deployment\/orchestrator-prod\/grafana: no NetworkPolicy allows/]);
  t.match(violationsAfter((o) => { o.splice(o.findIndex((x) => x.kind === 'ResourceQuota'), 1); }), [/tenancy: .*ResourceQuota on requests.cpu/]);
  t.match(violationsAfter((o) => { o.splice(o.findIndex((x) => x.kind === 'LimitRange'), 1); }), [/tenancy: .*LimitRange/]);
  t.match(violationsAfter((o) => { delete findObject(o, 'Namespace', 'orchestrator-prod-hosts').metadata.annotations!['orchestrator.io/pod-security-exception']; }), [/pod-security-admission: .*privileged without/]);
  t.match(violationsAfter((o) => { findObject(o, 'Ingress', 'monitoring-app').spec.tls = []; }), [/ingress-tls: Ingress\/orchestrator-prod\/monitoring-app/]);
  t.match(violationsAfter((o) => { o.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'oops', namespace: 'orchestrator-prod' } }); }), [/no-secrets: Secret\/orchestrator-prod\/oops/]);
});

t.test('TLS or a documented exception on every Service port; SELinux type where the host is mounted', async (t) => {
  const headless = (o: K8sObject[]) => findObject(o, 'Service', 'zookeeper-headless');
  t.match(violationsAfter((o) => { delete headless(o).spec.ports.find((p: any) => p.name === 'quorum').appProtocol; }),
    ['transport: Service/orchestrator-prod/zookeeper-headless: port quorum (2888) is neither TLS (appProtocol https or tls) nor a documented plaintext exception']);
  // Claiming TLS is not enough: the pods behind the port must mount a Certificate's Secret.
  t.match(violationsAfter((o) => {
    const sts = findObject(o, 'StatefulSet', 'zookeeper');
    sts.spec.template.spec.containers[0].volumeMounts = sts.spec.template.spec.containers[0].volumeMounts.filter((m: any) => m.name !== 'tls');
  }), [/transport: Service\/orchestrator-prod\/zookeeper-headless: port secure-client \(2281\) claims tls but container zookeeper of StatefulSet zookeeper mounts no cert-manager Certificate's Secret/,
    /port quorum/, /port election/, /transport: Service\/orchestrator-prod\/zookeeper: port secure-client/]);
  t.match(violationsAfter((o) => { o.splice(o.findIndex((x) => x.kind === 'Certificate' && x.metadata.name === 'marathon-tls'), 1); }),
    [/transport: Service\/orchestrator-prod\/marathon: port https \(8443\) claims https but container marathon of Deployment marathon mounts no cert-manager Certificate's Secret/]);
  t.match(violationsAfter((o) => { delete findObject(o, 'Service', 'grafana').spec.ports[0].appProtocol; }), [/transport: Service\/orchestrator-prod\/grafana: port https \(3000\) is neither TLS/]);
  t.match(violationsAfter((o) => { delete findObject(o, 'Ingress', 'grafana').metadata.annotations!['nginx.ingress.kubernetes.io/proxy-ssl-verify']; }),
    ['transport: Ingress/orchestrator-prod/grafana: backend grafana:https is TLS: the Ingress needs backend-protocol HTTPS, proxy-ssl-verify on, proxy-ssl-secret and proxy-ssl-name']);
  t.match(violationsAfter((o) => { findObject(o, 'Ingress', 'monitoring-app').metadata.annotations!['nginx.ingress.kubernetes.io/backend-protocol'] = 'HTTP'; }),
    [/transport: Ingress\/orchestrator-prod\/monitoring-app: backend monitoring-app:https is TLS/]);
  t.match(violationsAfter((o) => { delete probe(o).spec.template.spec.containers[0].securityContext.seLinuxOptions; }),
    ['selinux: DaemonSet/orchestrator-prod-hosts/monitoring-probe: container probe: mounts the host (host-proc, engine-socket) without seLinuxOptions.type']);
});

t.test('every plaintext exception matches a Service port of some environment (no stale reasons)', async (t) => {
  const services = ENVIRONMENT_NAMES.flatMap((e) => distObjects(e)).filter((o) => o.kind === 'Service');
  for (const e of PLAINTEXT_PORTS) {
    const used = services.some((s) => (s.spec.ports ?? []).some((p: any) => p.port === e.port && plaintextException(s.metadata.name, p.port) === e));
    t.ok(used, `${e.service}:${e.port} is a port of dist/`);
    t.ok(e.why.length > 40, `${e.service}:${e.port} says why`);
  }
});
