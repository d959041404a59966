/**
 * TLS to the platform's ZooKeeper for clients that cannot speak it (Mesos 1.7's bundled C
 * client, Marathon's unconfigured client, node-zookeeper-client in zk-sync): one ghostunnel
 * sidecar per ensemble member, in client mode. Each listens on the pod's loopback only
 * (127.0.0.1:2181, :2182, … for members 0, 1, …; plain TCP that never leaves the pod's network
 * namespace) and connects to its member's stable DNS name on the secure client port with mutual
 * TLS: it presents the pod's certificate (tls.crt, tls.key of a cert-manager Secret) and verifies
 * the member against the platform CA (ca.crt) and the member's DNS name (the target host).
 *
 * Flags checked against ghostunnel v1.11.1 (github.com/ghostunnel/ghostunnel, main.go and
 * docs/deployment/docker.md): `client --listen ADDR --target HOST:PORT --cert --key --cacert
 * --timed-reload DURATION --skip-resolve`; a client listener is refused off loopback unless
 * --unsafe-listen is given (not given here). Image `ghostunnel/ghostunnel:v1.x.x-distroless`
 * (gcr.io/distroless/base-nossl:nonroot, ENTRYPOINT /usr/bin/ghostunnel).
 *
 * One process forwards one listener to one target, hence one container per member. The
 * clients get all members in their connect string and fail over as before.
 */
import type { k8s } from 'cdk8s-plus-27';
import type { ImageRef } from '../environments';
import { ZOOKEEPER_PORTS, type ZooKeeper } from '../zookeeper';
import { httpProbe, imageOf, resourcesOf, restrictedContainerSecurity } from './pod';

/** Loopback port of member 0's tunnel; member i listens on this + i. */
export const ZOOKEEPER_TUNNEL_FIRST_PORT = 2181;
/**
 * Status port of member 0's tunnel (member i: this + i), on the pod's IP for the kubelet's
 * probes: ghostunnel's `--status` listener, plain HTTP, serving /_status and /_metrics only.
 * The probes ask /_metrics/prometheus (the process serves) rather than /_status, whose answer
 * includes a TCP dial of the member: one member down must not mark every client pod unready.
 */
export const ZOOKEEPER_TUNNEL_STATUS_FIRST_PORT = 9281;
/** Where the tunnel containers mount the pod's certificate Secret. */
export const ZOOKEEPER_TUNNEL_TLS_DIR = '/etc/zookeeper-tunnel/tls';
/** Name prefix of the tunnel containers (`zookeeper-tunnel-<ordinal>`). */
export const ZOOKEEPER_TUNNEL_CONTAINER = 'zookeeper-tunnel';
/** The distroless image's `nonroot` user, for pods that have no pod-level user of their own. */
export const GHOSTUNNEL_UID = 65532;
/** cert-manager renews a certificate 30 days before it expires; re-reading every 5 minutes is ample. */
const RELOAD_INTERVAL = '300s';
/** A forwarder of a few ZooKeeper sessions: Go runtime plus buffers. */
const TUNNEL_RESOURCES = { cpuRequest: '10m', cpuLimit: '100m', memoryRequest: '16Mi', memoryLimit: '64Mi' } as const;

export interface ZooKeeperTunnelProps {
  readonly zookeeper: ZooKeeper;
  readonly image: ImageRef;
  /** Pod volume holding the Secret's tls.crt, tls.key and ca.crt (readable by the pod's fsGroup). */
  readonly tlsVolume: string;
  /** Set for pods without a pod-level non-root user (the host-network Mesos agent). */
  readonly runAsUser?: number;
}

export class ZooKeeperTunnel {
  constructor(private readonly props: ZooKeeperTunnelProps) {}

  /** Loopback `host:port,…` of the tunnels followed by an optional chroot, as ZooKeeper clients take it. */
  public connectString(chroot = ''): string {
    if (chroot && !chroot.startsWith('/')) throw new Error(`ZooKeeper chroot must start with "/", got "${chroot}"`);
    return this.ports().map((p) => `127.0.0.1:${p}`).join(',') + chroot;
  }

  public ports(): number[] {
    return Array.from({ length: this.props.zookeeper.replicas }, (_, i) => ZOOKEEPER_TUNNEL_FIRST_PORT + i);
  }

  /** One ghostunnel client container per member. */
  public containers(): k8s.Container[] {
    const dir = ZOOKEEPER_TUNNEL_TLS_DIR;
    const uid = this.props.runAsUser;
    return this.ports().map((port, i) => ({
      name: `${ZOOKEEPER_TUNNEL_CONTAINER}-${i}`,
      image: imageOf(this.props.image),
      args: [
        'client',
        `--listen=127.0.0.1:${port}`,
        `--target=${this.props.zookeeper.memberHost(i)}:${ZOOKEEPER_PORTS.secureClient}`,
        `--cert=${dir}/tls.crt`,
        `--key=${dir}/tls.key`,
        `--cacert=${dir}/ca.crt`,
        `--timed-reload=${RELOAD_INTERVAL}`,
        // A member that is not running yet has no DNS record: resolve per connection, not at start.
        '--skip-resolve',
        `--status=$(POD_IP):${ZOOKEEPER_TUNNEL_STATUS_FIRST_PORT + i}`,
      ],
      env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
      resources: resourcesOf(TUNNEL_RESOURCES, `${ZOOKEEPER_TUNNEL_CONTAINER}-${i}`),
      securityContext: { ...restrictedContainerSecurity(), ...(uid === undefined ? {} : { runAsUser: uid, runAsGroup: uid }) },
      readinessProbe: httpProbe('/_metrics/prometheus', ZOOKEEPER_TUNNEL_STATUS_FIRST_PORT + i, { initialDelaySeconds: 2, periodSeconds: 10, failureThreshold: 3 }),
      livenessProbe: httpProbe('/_metrics/prometheus', ZOOKEEPER_TUNNEL_STATUS_FIRST_PORT + i, { initialDelaySeconds: 10, periodSeconds: 15, failureThreshold: 4 }),
      volumeMounts: [{ name: this.props.tlsVolume, mountPath: dir, readOnly: true }],
    }));
  }
}
