/**
 * Which Service ports carry TLS and which stay plain, with why. A TLS port says so with
 * `appProtocol: https` or `tls` on the Service port (and its pods mount a cert-manager
 * Certificate's Secret); every other Service port of dist/ must be listed here. The policy test
 * (test/lib/policy.ts, checkServiceTransport) proves both over all of dist/, and refuses an
 * exception that matches no port.
 */
import { PROBE_METRICS_PORT, ZK_SYNC_PORT } from '../../runtime/common/telemetry';
import { MESOS_EXPORTER_PORT } from '../lib/mesos-exporter';
import { ZOOKEEPER_TUNNEL_STATUS_FIRST_PORT } from '../lib/zookeeper-tunnel';
import { ZOOKEEPER_PORTS } from '../zookeeper';

export interface PlaintextPort {
  /** Service name, or a prefix ending in `-` for one Service per instance (zk-sync-<migration>). */
  readonly service: string;
  readonly port: number;
  readonly why: string;
}

export const TLS_APP_PROTOCOLS = ['https', 'tls'] as const;

/** Every plain Service port of the platform. The ports of pods without a Service are listed in docs/operations.md. */
export const PLAINTEXT_PORTS: readonly PlaintextPort[] = [
  {
    service: 'zookeeper', port: ZOOKEEPER_PORTS.metrics,
    why: 'ZooKeeper 3.8\'s Prometheus metrics provider serves HTTP only (metricsProvider.httpsPort is new in 3.10); metrics only, and only Prometheus may connect',
  },
  {
    service: 'mesos-master', port: MESOS_EXPORTER_PORT,
    why: 'mesos_exporter v1.1.2 has no TLS listener (flags: -addr only); it reads the master over HTTPS; metrics only, and only Prometheus may connect',
  },
  {
    service: 'prometheus', port: 9090,
    why: 'its clients are Grafana and the Argo Rollouts controller, whose Prometheus provider has no CA option in Rollouts 1.9 (only insecure); '
      + 'queries and metrics only, no credentials; only Grafana and the Rollouts controller may connect',
  },
  {
    service: 'zk-sync-', port: ZK_SYNC_PORT,
    why: 'the sync engine\'s status/metrics server has no TLS option (zk-sync run --port); only Prometheus may connect',
  },
];

/**
 * ZooKeeper's plain client port (2181) is no Service port and no container port: it listens on
 * each member's loopback only (clientPortAddress=127.0.0.1), for the member's exec probes and
 * operators' four-letter words. Its clients without TLS (Mesos 1.7's C client, Marathon,
 * node-zookeeper-client) reach the secure port through loopback ghostunnel sidecars
 * (lib/zookeeper-tunnel.ts); the plain hop never leaves their pod (or, for the host-network
 * Mesos agent, the node).
 */
/** Ports of pods without a Service (host network), for the documentation and the test's completeness. */
export const PLAINTEXT_HOST_PORTS: readonly PlaintextPort[] = [
  { service: 'monitoring-probe (host network)', port: PROBE_METRICS_PORT, why: 'the probe\'s /metrics and /healthz: plain HTTP (the probe has no TLS listener); metrics only' },
  { service: 'mesos-agent exporter (host network)', port: MESOS_EXPORTER_PORT, why: 'as for the masters\' exporter' },
  {
    service: 'mesos-agent ZooKeeper tunnels (host network)', port: ZOOKEEPER_TUNNEL_STATUS_FIRST_PORT,
    why: 'ghostunnel\'s --status listener for the kubelet\'s probes (/_status, /_metrics; plain HTTP, no credentials): member i\'s tunnel on this port + i; '
      + 'the pods that have a network namespace of their own serve it on their pod IP, where NetworkPolicy admits no one',
  },
];

export function plaintextException(serviceName: string, port: number): PlaintextPort | undefined {
  return PLAINTEXT_PORTS.find((e) => e.port === port && (e.service.endsWith('-') ? serviceName.startsWith(e.service) : serviceName === e.service));
}
