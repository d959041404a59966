/**
 * Network isolation proved over dist/: every declared flow is allowed by the synthesized
 * NetworkPolicies (ingress on the receiver and egress on the sender), and flows nobody
 * declared are denied. Plus RBAC, tenancy and Pod Security invariants per environment.
 */
import t from 'tap';
import { ENVIRONMENTS } from '../../constructs/environments';
import { selectorLabels } from '../../constructs/lib/labels';
import { Platform } from '../../constructs/platform';
import { platformFlows } from '../../constructs/security/flows';
import { tenantNamespace } from '../../constructs/security/tenancy';
import { type K8sObject, distObjects, findObject } from '../lib/platform';
import { App } from 'cdk8s';

/* eslint-disable @typescript-eslint/no-explicit-any */
type End = { namespace: string; labels: Record<string, string> } | { cidr: string };

function peerMatches(peer: any, end: End): boolean {
  if ('cidr' in end) return peer.ipBlock?.cidr === end.cidr;
  if (peer.ipBlock) return false;
  const nsOk = !peer.namespaceSelector || Object.entries(peer.namespaceSelector.matchLabels ?? {}).every(([k, v]) => k === 'kubernetes.io/metadata.name' && v === end.namespace);
  const podOk = Object.entries(peer.podSelector?.matchLabels ?? {}).every(([k, v]) => end.labels[k] === v);
  return nsOk && podOk;
}

function selects(p: K8sObject, end: End): boolean {
  return !('cidr' in end) && p.metadata.namespace === end.namespace && Object.entries(p.spec.podSelector.matchLabels ?? {}).every(([k, v]) => end.labels[k] === v);
}

/** Whether the policies let `from` open a TCP connection to `to` on `port`. */
function allowed(objects: K8sObject[], from: End, to: End, port: number): boolean {
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const portOk = (rule: any) => (rule.ports ?? []).some((p: any) => p.port === port && (p.protocol ?? 'TCP') === 'TCP');
  const ingressOk = 'cidr' in to || !policies.some((p) => p.metadata.namespace === to.namespace) || policies.some((p) => selects(p, to) && (p.spec.ingress ?? []).some((r: any) => portOk(r) && (r.from ?? []).some((peer: any) => peerMatches(peer, from))));
  // A namespace without policies (another controller's) does not restrict its pods' egress.
  const egressOk = 'cidr' in from || !policies.some((p) => selects(p, from)) && !policies.some((p) => p.metadata.namespace === from.namespace) || policies.some((p) => selects(p, from) && (p.spec.egress ?? []).some((r: any) => portOk(r) && (r.to ?? []).some((peer: any) => peerMatches(peer, to))));
  return ingressOk && egressOk;
}

for (const env of Object.values(ENVIRONMENTS)) {
  t.test(`${env.name}: every declared flow is allowed, undeclared ones are denied`, async (t) => {
    const objects = distObjects(env.name);
    const platform = new Platform(new App({ outdir: '/nonexistent' }), env);
    const flows = platformFlows(env, {
      zookeeper: 'zookeeper', mesosMaster: 'mesos-master', marathon: 'marathon', app: 'monitoring-app',
      prometheus: 'prometheus', prometheusPort: 9090, grafana: 'grafana', grafanaPort: 3000,
      zkSync: env.zkSync.migrations.map((m, i) => ({ name: platform.zkSync.components[i]!, externalCidrs: m.externalCidrs })),
    });
    const ends = (p: (typeof flows)[number]['from']): End[] => p.kind === 'component' ? [{ namespace: p.namespace, labels: selectorLabels(p.name) }]
      : p.kind === 'cidrs' ? p.cidrs.map((cidr) => ({ cidr })) : [{ namespace: p.namespace, labels: { ...p.podLabels } }];
    for (const f of flows) {
      for (const from of ends(f.from)) for (const to of ends(f.to)) for (const { port } of f.ports) {
        t.ok(allowed(objects, from, to, port), `${f.why} (port ${port})`);
      }
    }
    const pod = (name: string): End => ({ namespace: env.namespace, labels: selectorLabels(name) });
    for (const port of [2181, 2281]) {
      t.notOk(allowed(objects, pod('grafana'), pod('zookeeper'), port), `Grafana cannot reach ZooKeeper (${port})`);
      t.notOk(allowed(objects, pod('monitoring-app'), pod('zookeeper'), port), `the app cannot reach ZooKeeper (${port})`);
    }
    t.notOk(allowed(objects, pod('marathon'), pod('prometheus'), 9090), 'Marathon cannot query Prometheus');
    t.notOk(allowed(objects, { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } }, pod('zookeeper'), 2181), 'the Ingress controller cannot reach ZooKeeper');
    t.notOk(allowed(objects, pod('zookeeper'), pod('zookeeper'), 7000), 'ZooKeeper members do not scrape each other');
    t.notOk(allowed(objects, pod('mesos-master'), { cidr: '8.8.8.8/32' }, 443), 'no egress to the internet');
  });

  t.test(`${env.name}: ZooKeeper's plain client port is reachable from no pod; its clients use the secure port`, async (t) => {
    const objects = distObjects(env.name);
    // Every pod of dist/, plus the other controllers' pods and the nodes (host-network agents).
    const sources: Array<{ who: string; end: End }> = [
      ...objects.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'].includes(o.kind) && !o.spec.template.spec.hostNetwork)
        .map((o) => ({ who: o.metadata.name, end: { namespace: o.metadata.namespace!, labels: o.spec.template.metadata.labels } })),
      { who: 'ingress-nginx', end: { namespace: env.network.ingressNamespace, labels: { 'app.kubernetes.io/name': 'ingress-nginx' } } },
      { who: 'argo-rollouts', end: { namespace: env.network.rolloutsNamespace, labels: { 'app.kubernetes.io/name': 'argo-rollouts' } } },
      ...env.network.nodeCidrs.map((cidr) => ({ who: `nodes ${cidr}`, end: { cidr } })),
    ];
    const zk: End = { namespace: env.namespace, labels: selectorLabels('zookeeper') };
    const reach = (port: number) => sources.filter((s) => allowed(objects, s.end, zk, port)).map((s) => s.who).sort();
    const zkSync = env.zkSync.migrations.map((m) => `zk-sync-${m.name}`);
    t.same(reach(2181), [], 'plain 2181: no NetworkPolicy admits it from anywhere (it listens on the members\' loopback only)');
    t.same(objects.filter((o) => o.kind === 'NetworkPolicy').flatMap((p: any) => [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])])
      .filter((rule: any) => (rule.ports ?? []).some((x: any) => x.port === 2181))
      .flatMap((rule: any) => rule.from ?? rule.to ?? [])
      .filter((peer: any) => !peer.ipBlock), [], 'no NetworkPolicy admits 2181 between pods (only egress to external ensembles\' CIDRs)');
    t.same(reach(2888), ['zookeeper'], 'quorum (TLS): members only');
    t.same(reach(3888), ['zookeeper'], 'election (TLS): members only');
    t.same(reach(2281), ['marathon', 'mesos-master', ...env.network.nodeCidrs.map((c) => `nodes ${c}`), ...zkSync].sort(),
      'secure 2281 (mutual TLS): the tunnel sidecars of Mesos masters, Marathon, the sync engines and the nodes (host-network Mesos agents) only');
    t.ok(sources.length > reach(2281).length + 3, 'and not from the other pods of the platform');
  });

  t.test(`${env.name}: RBAC, tenancy and Pod Security`, async (t) => {
    const objects = distObjects(env.name);
    const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding');
    t.same(bindings.flatMap((b: any) => b.subjects.map((s: any) => s.name)).sort(), ['monitoring-probe', 'prometheus'], 'only the probe and Prometheus have cluster rights');
    const probeRole: any = findObject(objects, 'ClusterRole', `${env.hostNamespace}-monitoring-probe`);
    t.same(probeRole.rules, [{ apiGroups: [''], resources: ['pods', 'services', 'nodes'], verbs: ['get', 'list', 'watch'] }], 'the probe reads pods, services and nodes');
    const tokenPods = objects.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'].includes(o.kind) && o.spec.template.spec.automountServiceAccountToken);
    t.same(tokenPods.map((o) => o.metadata.name).sort(), ['monitoring-probe', 'prometheus'], 'only they mount an API token');
    for (const tenant of env.tenants) {
      const ns = tenantNamespace(env, tenant);
      const quota = objects.find((o) => o.kind === 'ResourceQuota' && o.metadata.namespace === ns)!;
      t.same(quota.spec.hard, { 'requests.cpu': tenant.cpuQuota, 'limits.cpu': tenant.cpuQuota, 'requests.memory': tenant.memoryQuota, 'limits.memory': tenant.memoryQuota, pods: tenant.podQuota }, `quota of ${tenant.name}`);
      t.equal(findObject(objects, 'Namespace', ns).metadata.labels!['pod-security.kubernetes.io/enforce'], 'restricted');
    }
    const levels = Object.fromEntries(objects.filter((o) => o.kind === 'Namespace').map((n) => [n.metadata.name, n.metadata.labels!['pod-security.kubernetes.io/enforce']]));
    t.same(Object.entries(levels).filter(([, l]) => l !== 'restricted').map(([n]) => n), [env.hostNamespace], 'only the host namespace is an exception');
  });
}
