/**
 * Network isolation as a list of flows. Every namespace of the platform denies all ingress and
 * egress by default; each flow the platform needs (who talks to whom, on which ports, and why)
 * then opens exactly that: an ingress rule on the receiving component's policy and an egress
 * rule on the sending component's policy. DNS is the one flow every pod gets.
 *
 * Host-network pods (Mesos agents, probes) are not subject to NetworkPolicy in the common CNI
 * plugins, and their traffic arrives from the node's address: flows from or to them are
 * written with the `nodes` peer (the node address ranges from the values).
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { EnvironmentValues } from '../environments';
import { PART_OF, componentLabels, selectorLabels } from '../lib/labels';

export type Peer =
  /** The pods of one of our components. */
  | { readonly kind: 'component'; readonly namespace: string; readonly name: string }
  /** Pods of another namespace (optionally only those with these labels), e.g. the Ingress controller. */
  | { readonly kind: 'namespace'; readonly namespace: string; readonly podLabels?: Readonly<Record<string, string>> }
  /** Addresses outside the pod network: nodes, the API server, external ZooKeeper ensembles. */
  | { readonly kind: 'cidrs'; readonly cidrs: readonly string[]; readonly what: string };

export interface Port {
  readonly port: number;
  readonly protocol?: 'TCP' | 'UDP';
}

export interface Flow {
  readonly from: Peer;
  readonly to: Peer;
  readonly ports: readonly Port[];
  /** Why the flow exists; it becomes part of the review, not of the object. */
  readonly why: string;
}

export const component = (namespace: string, name: string): Peer => ({ kind: 'component', namespace, name });

export interface NetworkPoliciesProps {
  readonly env: EnvironmentValues;
  /** Namespaces that get a default-deny policy and DNS egress. */
  readonly namespaces: readonly string[];
  readonly flows: readonly Flow[];
  /**
   * Namespace and pod labels of the cluster DNS.
   * @default kube-system, k8s-app=kube-dns
   */
  readonly dns?: { readonly namespace: string; readonly podLabels: Readonly<Record<string, string>> };
}

const NS_LABEL = 'kubernetes.io/metadata.name';

function peerOf(p: Peer): k8s.NetworkPolicyPeer[] {
  switch (p.kind) {
    case 'component':
      return [{ namespaceSelector: { matchLabels: { [NS_LABEL]: p.namespace } }, podSelector: { matchLabels: selectorLabels(p.name) } }];
    case 'namespace':
      return [{ namespaceSelector: { matchLabels: { [NS_LABEL]: p.namespace } }, podSelector: p.podLabels ? { matchLabels: { ...p.podLabels } } : {} }];
    case 'cidrs':
      return p.cidrs.map((cidr) => ({ ipBlock: { cidr } }));
  }
}

const portsOf = (ports: readonly Port[]): k8s.NetworkPolicyPort[] =>
  ports.map((p) => ({ port: k8s.IntOrString.fromNumber(p.port), protocol: p.protocol ?? 'TCP' }));

const keyOf = (p: Peer & { kind: 'component' }) => `${p.namespace}/${p.name}`;

export class NetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: NetworkPoliciesProps) {
    super(scope, id);
    const dns = props.dns ?? { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } };
    const namespaces = new Set(props.namespaces);
    for (const f of props.flows) {
      if (f.ports.length === 0) throw new Error(`flow "${f.why}": name its ports (a flow on every port is not least privilege)`);
      for (const p of [f.from, f.to]) {
        if (p.kind === 'component' && !namespaces.has(p.namespace)) {
          throw new Error(`flow "${f.why}": component ${p.name} is in ${p.namespace}, which has no policies here; add the namespace`);
        }
      }
      if (f.from.kind !== 'component' && f.to.kind !== 'component') {
        throw new Error(`flow "${f.why}": one end must be a component of ours`);
      }
    }

    for (const ns of [...namespaces].sort()) {
      const meta = (name: string): k8s.ObjectMeta => ({ name, namespace: ns, labels: { 'app.kubernetes.io/part-of': PART_OF, 'orchestrator.io/environment': props.env.name } });
      new k8s.KubeNetworkPolicy(this, `default-deny-${ns}`, {
        metadata: meta('default-deny'),
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      });
      new k8s.KubeNetworkPolicy(this, `dns-${ns}`, {
        metadata: meta('allow-dns'),
        spec: {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [{
            to: [{ namespaceSelector: { matchLabels: { [NS_LABEL]: dns.namespace } }, podSelector: { matchLabels: { ...dns.podLabels } } }],
            ports: portsOf([{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }]),
          }],
        },
      });
    }

    // One policy per component that sends or receives a flow, in a stable order.
    const components = new Map<string, Peer & { kind: 'component' }>();
    for (const f of props.flows) {
      for (const p of [f.from, f.to]) if (p.kind === 'component') components.set(keyOf(p), p);
    }
    for (const key of [...components.keys()].sort()) {
      const c = components.get(key)!;
      const ingress = props.flows.filter((f) => f.to.kind === 'component' && keyOf(f.to) === key)
        .map((f): k8s.NetworkPolicyIngressRule => ({ from: peerOf(f.from), ports: portsOf(f.ports) }));
      const egress = props.flows.filter((f) => f.from.kind === 'component' && keyOf(f.from) === key)
        .map((f): k8s.NetworkPolicyEgressRule => ({ to: peerOf(f.to), ports: portsOf(f.ports) }));
      const policyTypes = [...(ingress.length ? ['Ingress'] : []), ...(egress.length ? ['Egress'] : [])];
      new k8s.KubeNetworkPolicy(this, `allow-${key}`, {
        metadata: { name: `allow-${c.name}`, namespace: c.namespace, labels: componentLabels(c.name, props.env) },
        spec: {
          podSelector: { matchLabels: selectorLabels(c.name) },
          policyTypes,
          ingress: ingress.length ? ingress : undefined,
          egress: egress.length ? egress : undefined,
        },
      });
    }
  }
}
