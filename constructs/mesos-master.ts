import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { EnvironmentValues, ImageRef, MesosAuthValues, MesosMasterValues } from './environments';
import { ComponentIdentity } from './lib/component';
import { LIBPROCESS_TLS_DIR, caOnlyVolume, libprocessSslEnv, libprocessTlsVolume } from './lib/libprocess-tls';
import { MESOS_EXPORTER_PORT, mesosExporterContainer } from './lib/mesos-exporter';
import { ZooKeeperTunnel } from './lib/zookeeper-tunnel';
import {
  httpProbe, imageOf, quorumOf, requireOddMembers, resourcesOf, restrictedContainerSecurity,
} from './lib/pod';
import { ServiceCertificate } from './security/tls';
import type { ZooKeeper } from './zookeeper';

export const MESOS_MASTER_PORT = 5050;
/** ZooKeeper chroot under which the masters elect a leader and agents and frameworks find it. */
export const MESOS_ZK_CHROOT = '/mesos';

export interface MesosMasterProps {
  readonly env: EnvironmentValues;
  readonly values: MesosMasterValues;
  readonly auth: MesosAuthValues;
  readonly image: ImageRef;
  readonly exporterImage: ImageRef;
  readonly zookeeper: ZooKeeper;
  /** ghostunnel, the TLS sidecar to ZooKeeper (lib/zookeeper-tunnel.ts). */
  readonly tunnelImage: ImageRef;
  /**
   * Name of the StatefulSet and prefix of every object.
   * @default 'mesos-master'
   */
  readonly name?: string;
  /**
   * uid/gid the master runs as (it needs no root: it only serves HTTP and writes its work dir).
   * @default 65534
   */
  readonly uid?: number;
}

/**
 * Mesos masters: a StatefulSet whose members elect a leader through ZooKeeper and keep the
 * registry in a replicated log on their own volumes; the quorum (a majority of masters) is
 * derived from the replica count, and the disruption budget keeps that many up.
 */
export class MesosMaster extends Construct {
  public readonly name: string;
  public readonly serviceName: string;
  public readonly quorum: number;
  /**
   * `zk://…/mesos`, the address agents and frameworks use to find the leading master: the
   * loopback ZooKeeper tunnels, which every pod that uses it runs (lib/zookeeper-tunnel.ts).
   */
  public readonly zkUrl: string;

  constructor(scope: Construct, id: string, props: MesosMasterProps) {
    super(scope, id);
    const v = props.values;
    this.name = props.name ?? 'mesos-master';
    this.serviceName = this.name;
    const headless = `${this.name}-headless`;
    const ns = props.env.namespace;
    const uid = props.uid ?? 65534;

    requireOddMembers(v.replicas, 'mesosMaster.replicas');
    if (!/^[0-9]+(ms|secs|mins)$/.test(v.allocationInterval)) {
      throw new Error(`mesosMaster.allocationInterval must be a Mesos duration such as 1secs or 500ms, got "${v.allocationInterval}"`);
    }
    this.quorum = quorumOf(v.replicas);
    const tunnel = new ZooKeeperTunnel({ zookeeper: props.zookeeper, image: props.tunnelImage, tlsVolume: 'tls' });
    this.zkUrl = `zk://${tunnel.connectString(MESOS_ZK_CHROOT)}`;

    const identity = new ComponentIdentity(this.name, ns, props.env, props.image.tag);
    identity.serviceAccount(this);
    // libprocess SSL: the master's one port speaks HTTPS and TLS-wrapped libprocess messages.
    identity.headlessService(this, headless, [{ name: 'https', port: MESOS_MASTER_PORT, appProtocol: 'https' }]);
    const tlsSecret = `${this.name}-tls`;
    new ServiceCertificate(this, 'certificate', {
      env: props.env, component: this.name, namespace: ns, secretName: tlsSecret,
      dnsNames: [
        `${this.serviceName}.${ns}.svc`,
        `${this.serviceName}.${ns}.svc.${props.env.clusterDomain}`,
        ...Array.from({ length: v.replicas }, (_, i) => `${this.name}-${i}.${headless}.${ns}.svc.${props.env.clusterDomain}`),
        'localhost',
      ],
      // The exporter sidecar scrapes https://127.0.0.1.
      ipAddresses: ['127.0.0.1'],
      role: 'peer',
    });
    new k8s.KubeService(this, 'service', {
      metadata: identity.meta(this.serviceName),
      spec: {
        type: 'ClusterIP',
        selector: identity.selector,
        ports: [
          { name: 'https', port: MESOS_MASTER_PORT, targetPort: k8s.IntOrString.fromString('https'), appProtocol: 'https' },
          { name: 'metrics', port: MESOS_EXPORTER_PORT, targetPort: k8s.IntOrString.fromString('metrics') },
        ],
      },
    });

    const authEnv: k8s.EnvVar[] = props.auth.enabled
      ? [
        { name: 'MESOS_AUTHENTICATE_FRAMEWORKS', value: 'true' },
        { name: 'MESOS_AUTHENTICATE_AGENTS', value: 'true' },
        { name: 'MESOS_AUTHENTICATORS', value: 'crammd5' },
        { name: 'MESOS_CREDENTIALS', value: 'file:///etc/mesos/auth/credentials.json' },
      ]
      : [];

    new k8s.KubeStatefulSet(this, 'statefulset', {
      metadata: identity.meta(),
      spec: {
        serviceName: headless,
        replicas: v.replicas,
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate' },
        selector: { matchLabels: identity.selector },
        template: {
          metadata: { labels: identity.labels },
          spec: {
            ...identity.restrictedPod(uid, v.replicas),
            containers: [
              {
                name: 'mesos-master',
                image: imageOf(props.image),
                env: [
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                  { name: 'MESOS_ZK', value: this.zkUrl },
                  { name: 'MESOS_QUORUM', value: String(this.quorum) },
                  { name: 'MESOS_CLUSTER', value: v.clusterName },
                  { name: 'MESOS_HOSTNAME', value: `$(POD_NAME).${headless}.${ns}.svc.${props.env.clusterDomain}` },
                  { name: 'MESOS_IP', value: '$(POD_IP)' },
                  { name: 'MESOS_PORT', value: String(MESOS_MASTER_PORT) },
                  { name: 'MESOS_REGISTRY', value: 'replicated_log' },
                  { name: 'MESOS_WORK_DIR', value: '/var/lib/mesos/master' },
                  { name: 'MESOS_ALLOCATION_INTERVAL', value: v.allocationInterval },
                  { name: 'MESOS_ZK_SESSION_TIMEOUT', value: '10secs' },
                  { name: 'MESOS_LOGGING_LEVEL', value: 'INFO' },
                  ...authEnv,
                  ...libprocessSslEnv(),
                ],
                ports: [{ name: 'https', containerPort: MESOS_MASTER_PORT }],
                resources: resourcesOf(v.resources, 'mesos-master'),
                securityContext: restrictedContainerSecurity(),
                readinessProbe: httpProbe('/health', MESOS_MASTER_PORT, { initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 3, scheme: 'HTTPS' }),
                livenessProbe: httpProbe('/health', MESOS_MASTER_PORT, { initialDelaySeconds: 60, periodSeconds: 15, failureThreshold: 4, scheme: 'HTTPS' }),
                volumeMounts: [
                  { name: 'work', mountPath: '/var/lib/mesos/master' },
                  { name: 'tls', mountPath: LIBPROCESS_TLS_DIR, readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                  ...(props.auth.enabled ? [{ name: 'credentials', mountPath: '/etc/mesos/auth', readOnly: true }] : []),
                ],
              },
              mesosExporterContainer('master', MESOS_MASTER_PORT, props.exporterImage, v.exporterResources, 'exporter-ca'),
              ...tunnel.containers(),
            ],
            volumes: [
              libprocessTlsVolume(tlsSecret),
              caOnlyVolume(tlsSecret, 'exporter-ca'),
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } },
              ...(props.auth.enabled
                ? [{ name: 'credentials', secret: { secretName: props.auth.secretName, items: [{ key: 'credentials.json', path: 'credentials.json' }] } }]
                : []),
            ],
          },
        },
        volumeClaimTemplates: [{
          metadata: { name: 'work' },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: props.env.storageClass,
            resources: { requests: { storage: k8s.Quantity.fromString(v.workDirStorage) } },
          },
        }],
      },
    });

    // Below a quorum of masters the replicated log cannot write and no leader is elected.
    identity.quorumBudget(this, v.replicas);
  }
}
