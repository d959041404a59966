/**
 * Every network flow of the platform, with its reason. NetworkPolicies are generated from this
 * list (network-policies.ts) and the policy test proves each flow is allowed and that flows
 * not listed are denied.
 */
import { APP_DEFAULT_PORT, PROBE_METRICS_PORT, ZK_SYNC_PORT } from '../../runtime/common/telemetry';
import type { EnvironmentValues } from '../environments';
import { MESOS_EXPORTER_PORT } from '../lib/mesos-exporter';
import { MARATHON_HTTPS_PORT, MARATHON_LIBPROCESS_PORT } from '../marathon';
import { MESOS_AGENT_PORT } from '../mesos-agent';
import { MESOS_MASTER_PORT } from '../mesos-master';
import { ZOOKEEPER_PORTS } from '../zookeeper';
import { type Flow, type Peer, component } from './network-policies';

/** Metrics port of the NGINX Ingress controller and of the Argo Rollouts controller (their charts' defaults). */
export const INGRESS_NGINX_METRICS_PORT = 10254;
export const ARGO_ROLLOUTS_METRICS_PORT = 8090;

export interface FlowNames {
  readonly zookeeper: string;
  readonly mesosMaster: string;
  readonly marathon: string;
  readonly app: string;
  readonly prometheus: string;
  readonly prometheusPort: number;
  readonly grafana: string;
  readonly grafanaPort: number;
  /** One component per migration, with the CIDRs of its external ensembles. */
  readonly zkSync: ReadonlyArray<{ readonly name: string; readonly externalCidrs: readonly string[] }>;
}

export function platformFlows(env: EnvironmentValues, n: FlowNames): Flow[] {
  const ns = env.namespace;
  const c = (name: string) => component(ns, name);
  const nodes: Peer = { kind: 'cidrs', cidrs: env.network.nodeCidrs, what: 'nodes (host-network Mesos agents and probes)' };
  const apiServer: Peer = { kind: 'cidrs', cidrs: env.network.apiServerCidrs, what: 'Kubernetes API server' };
  const ingress: Peer = { kind: 'namespace', namespace: env.network.ingressNamespace, podLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } };
  const rollouts: Peer = { kind: 'namespace', namespace: env.network.rolloutsNamespace, podLabels: { 'app.kubernetes.io/name': 'argo-rollouts' } };
  const zk = ZOOKEEPER_PORTS;
  const flows: Flow[] = [
    { from: c(n.zookeeper), to: c(n.zookeeper), ports: [{ port: zk.quorum }, { port: zk.election }], why: 'ZooKeeper quorum: followers to the leader and leader election' },
    // ZooKeeper's clients reach it through their loopback ghostunnel sidecars (lib/zookeeper-tunnel.ts),
    // on the secure client port only: the plain port listens on each member's loopback.
    { from: c(n.mesosMaster), to: c(n.zookeeper), ports: [{ port: zk.secureClient }], why: 'Mesos masters elect their leader in ZooKeeper (TLS tunnel sidecars)' },
    { from: c(n.marathon), to: c(n.zookeeper), ports: [{ port: zk.secureClient }], why: 'Marathon keeps its state and elects its leader in ZooKeeper (TLS tunnel sidecars)' },
    { from: nodes, to: c(n.zookeeper), ports: [{ port: zk.secureClient }], why: 'Mesos agents (host network) find the leading master in ZooKeeper (TLS tunnel sidecars)' },
    { from: c(n.mesosMaster), to: c(n.mesosMaster), ports: [{ port: MESOS_MASTER_PORT }], why: 'masters replicate the registry log among themselves' },
    { from: c(n.marathon), to: c(n.mesosMaster), ports: [{ port: MESOS_MASTER_PORT }], why: 'Marathon registers with the masters as a framework' },
    { from: nodes, to: c(n.mesosMaster), ports: [{ port: MESOS_MASTER_PORT }], why: 'agents register with the masters and send status updates' },
    { from: c(n.mesosMaster), to: nodes, ports: [{ port: MESOS_AGENT_PORT }], why: 'masters send tasks and offers\' outcomes to the agents' },
    { from: c(n.mesosMaster), to: c(n.marathon), ports: [{ port: MARATHON_LIBPROCESS_PORT }], why: 'masters call the Marathon scheduler back (offers, status updates)' },
    { from: c(n.marathon), to: c(n.marathon), ports: [{ port: MARATHON_HTTPS_PORT }], why: 'standby Marathons proxy API calls to the leader' },
    { from: ingress, to: c(n.app), ports: [{ port: APP_DEFAULT_PORT }], why: 'the NGINX Ingress (stable and canary) reaches the app' },
    { from: nodes, to: c(n.app), ports: [{ port: APP_DEFAULT_PORT }], why: 'probes (host network) publish reports and keep their control channel to the app' },
    { from: ingress, to: c(n.grafana), ports: [{ port: n.grafanaPort }], why: 'the NGINX Ingress reaches Grafana' },
    { from: c(n.grafana), to: c(n.prometheus), ports: [{ port: n.prometheusPort }], why: 'Grafana queries Prometheus' },
    { from: rollouts, to: c(n.prometheus), ports: [{ port: n.prometheusPort }], why: 'the Argo Rollouts controller runs the canary analysis queries' },
    { from: c(n.prometheus), to: apiServer, ports: [{ port: 443 }, { port: 6443 }], why: 'Prometheus discovers targets through the API' },
    { from: c(n.prometheus), to: c(n.zookeeper), ports: [{ port: zk.metrics }], why: 'scrape ZooKeeper' },
    { from: c(n.prometheus), to: c(n.mesosMaster), ports: [{ port: MESOS_EXPORTER_PORT }], why: 'scrape the masters\' exporters' },
    { from: c(n.prometheus), to: c(n.marathon), ports: [{ port: MARATHON_HTTPS_PORT }], why: 'scrape Marathon' },
    { from: c(n.prometheus), to: c(n.app), ports: [{ port: APP_DEFAULT_PORT }], why: 'scrape the app (stable and canary pods)' },
    { from: c(n.prometheus), to: nodes, ports: [{ port: PROBE_METRICS_PORT }, { port: MESOS_EXPORTER_PORT }], why: 'scrape the probes and the agents\' exporters (host network)' },
    { from: c(n.prometheus), to: ingress, ports: [{ port: INGRESS_NGINX_METRICS_PORT }], why: 'scrape the NGINX Ingress controller' },
    { from: c(n.prometheus), to: rollouts, ports: [{ port: ARGO_ROLLOUTS_METRICS_PORT }], why: 'scrape the Argo Rollouts controller' },
  ];
  for (const s of n.zkSync) {
    flows.push(
      { from: c(s.name), to: c(n.zookeeper), ports: [{ port: zk.secureClient }], why: `migration ${s.name} writes to (or reads from) the platform's ensemble (TLS tunnel sidecars)` },
      { from: c(n.prometheus), to: c(s.name), ports: [{ port: ZK_SYNC_PORT }], why: `scrape the sync engine ${s.name}` },
    );
    if (s.externalCidrs.length) {
      flows.push({ from: c(s.name), to: { kind: 'cidrs', cidrs: s.externalCidrs, what: `external ensembles of ${s.name}` }, ports: [{ port: zk.client }], why: `migration ${s.name} reaches its external ensemble` });
    }
  }
  return flows;
}
