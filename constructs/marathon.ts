import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { EnvironmentValues, ImageRef, MarathonValues, MesosAuthValues } from './environments';
import { ComponentIdentity } from './lib/component';
import { httpProbe, imageOf, resourcesOf, restrictedContainerSecurity } from './lib/pod';
import { libprocessSslEnv, libprocessTlsVolume } from './lib/libprocess-tls';
import { parseQuantity } from './lib/quantity';
import { ZooKeeperTunnel } from './lib/zookeeper-tunnel';
import { ServiceCertificate } from './security/tls';
import type { ZooKeeper } from './zookeeper';

/** Marathon's HTTPS port (its default `--https_port`); plain HTTP is off (`--disable_http`). */
export const MARATHON_HTTPS_PORT = 8443;
/** Marathon keeps its state and elects its leader under this ZooKeeper chroot. */
export const MARATHON_ZK_CHROOT = '/marathon';
export const MARATHON_METRICS_PATH = '/metrics/prometheus';
/** Where Marathon's certificate Secret (PEM files for libprocess, JKS stores for HTTPS) is mounted. */
export const MARATHON_TLS_DIR = '/etc/marathon/tls';
/**
 * Port of Marathon's scheduler driver (libprocess): the masters connect back to it. Fixed
 * rather than random so that a NetworkPolicy can allow exactly it.
 */
export const MARATHON_LIBPROCESS_PORT = 8081;

export interface MarathonProps {
  readonly env: EnvironmentValues;
  readonly values: MarathonValues;
  readonly auth: MesosAuthValues;
  readonly image: ImageRef;
  readonly zookeeper: ZooKeeper;
  /** ghostunnel, the TLS sidecar to ZooKeeper (lib/zookeeper-tunnel.ts). */
  readonly tunnelImage: ImageRef;
  /** `zk://…/mesos` of the masters. */
  readonly masterZkUrl: string;
  /**
   * Name of the Deployment and prefix of every object.
   * @default 'marathon'
   */
  readonly name?: string;
  /**
   * uid/gid Marathon runs as.
   * @default 65534
   */
  readonly uid?: number;
}

/**
 * Marathon: several instances of which one is elected leader through ZooKeeper; the others
 * proxy to it, so any instance behind the Service answers.
 */
export class Marathon extends Construct {
  public readonly name: string;
  public readonly serviceName: string;

  constructor(scope: Construct, id: string, props: MarathonProps) {
    super(scope, id);
    const v = props.values;
    this.name = props.name ?? 'marathon';
    this.serviceName = this.name;
    const ns = props.env.namespace;
    const uid = props.uid ?? 65534;

    if (!Number.isInteger(v.replicas) || v.replicas < 1) {
      throw new Error(`marathon.replicas must be a positive integer, got ${v.replicas}`);
    }
    if (v.heapMegabytes * 2 ** 20 > 0.8 * parseQuantity(v.resources.memoryLimit)) {
      throw new Error(`marathon.heapMegabytes (${v.heapMegabytes}) must stay under 80% of memoryLimit ${v.resources.memoryLimit}: the JVM needs off-heap room`);
    }

    const identity = new ComponentIdentity(this.name, ns, props.env, props.image.tag);
    identity.serviceAccount(this);

    new k8s.KubeService(this, 'service', {
      metadata: identity.meta(this.serviceName),
      spec: {
        type: 'ClusterIP',
        selector: identity.selector,
        ports: [{ name: 'https', port: MARATHON_HTTPS_PORT, targetPort: k8s.IntOrString.fromString('https'), appProtocol: 'https' }],
      },
    });

    // HTTPS from a JKS key store that cert-manager writes next to the PEM files (Marathon reads a
    // Java key store only), and libprocess SSL for the scheduler driver's traffic with the masters.
    const tlsSecret = `${this.name}-tls`;
    const keystorePassword = props.env.tls.keystorePasswordSecret;
    new ServiceCertificate(this, 'certificate', {
      env: props.env, component: this.name, namespace: ns, secretName: tlsSecret,
      dnsNames: [`${this.serviceName}.${ns}.svc`, `${this.serviceName}.${ns}.svc.${props.env.clusterDomain}`],
      role: 'peer', jksPassword: { secretName: keystorePassword, key: 'password' },
    });

    // ZooKeeper through the loopback TLS tunnels; the PEM files are in the same Secret as the JKS ones.
    const tunnel = new ZooKeeperTunnel({ zookeeper: props.zookeeper, image: props.tunnelImage, tlsVolume: 'tls' });
    const args = [
      '--master', props.masterZkUrl,
      '--zk', `zk://${tunnel.connectString(MARATHON_ZK_CHROOT)}`,
      '--https_port', String(MARATHON_HTTPS_PORT),
      '--ssl_keystore_path', `${MARATHON_TLS_DIR}/keystore.jks`,
      '--disable_http',
      // Standbys proxy to the leader at its pod IP, which no certificate names; the chain is
      // still verified against the trust store below.
      '--leader_proxy_ssl_ignore_hostname',
      // Other instances and Mesos reach this one at its pod IP.
      '--hostname', '$(POD_IP)',
      '--metrics_prometheus',
    ];
    if (props.auth.enabled) {
      args.push(
        '--mesos_authentication',
        '--mesos_authentication_principal', props.auth.marathonPrincipal,
        '--mesos_authentication_secret_file', '/etc/marathon/auth/marathon-secret',
      );
    }

    new k8s.KubeDeployment(this, 'deployment', {
      metadata: identity.meta(),
      spec: {
        replicas: v.replicas,
        // One at a time, and never a surge: a new instance joins the election before an old one leaves.
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(1), maxSurge: k8s.IntOrString.fromNumber(0) } },
        selector: { matchLabels: identity.selector },
        template: {
          metadata: { labels: identity.labels },
          spec: {
            ...identity.restrictedPod(uid, v.replicas),
            containers: [{
              name: 'marathon',
              image: imageOf(props.image),
              args,
              env: [
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                { name: 'LIBPROCESS_PORT', value: String(MARATHON_LIBPROCESS_PORT) },
                { name: 'LIBPROCESS_ADVERTISE_IP', value: '$(POD_IP)' },
                // Marathon reads every flag from MARATHON_<FLAG> too: the password stays off the command line.
                { name: 'MARATHON_SSL_KEYSTORE_PASSWORD', valueFrom: { secretKeyRef: { name: keystorePassword, key: 'password' } } },
                {
                  name: 'JAVA_OPTS',
                  value: `-Xms${v.heapMegabytes}m -Xmx${v.heapMegabytes}m -XX:+ExitOnOutOfMemoryError`
                    + ` -Djavax.net.ssl.trustStore=${MARATHON_TLS_DIR}/truststore.jks -Djavax.net.ssl.trustStorePassword=$(MARATHON_SSL_KEYSTORE_PASSWORD)`,
                },
                ...libprocessSslEnv(MARATHON_TLS_DIR),
              ],
              ports: [{ name: 'https', containerPort: MARATHON_HTTPS_PORT }, { name: 'libprocess', containerPort: MARATHON_LIBPROCESS_PORT }],
              resources: resourcesOf(v.resources, 'marathon'),
              securityContext: restrictedContainerSecurity(),
              readinessProbe: httpProbe('/ping', MARATHON_HTTPS_PORT, { initialDelaySeconds: 20, periodSeconds: 10, failureThreshold: 3, scheme: 'HTTPS' }),
              livenessProbe: httpProbe('/ping', MARATHON_HTTPS_PORT, { initialDelaySeconds: 120, periodSeconds: 15, failureThreshold: 4, scheme: 'HTTPS' }),
              volumeMounts: [
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'tls', mountPath: MARATHON_TLS_DIR, readOnly: true },
                ...(props.auth.enabled ? [{ name: 'credentials', mountPath: '/etc/marathon/auth', readOnly: true }] : []),
              ],
            }, ...tunnel.containers()],
            volumes: [
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('512Mi') } },
              {
                ...libprocessTlsVolume(tlsSecret),
                secret: { secretName: tlsSecret, defaultMode: 0o440, items: ['tls.crt', 'tls.key', 'ca.crt', 'keystore.jks', 'truststore.jks'].map((key) => ({ key, path: key })) },
              },
              ...(props.auth.enabled
                ? [{ name: 'credentials', secret: { secretName: props.auth.secretName, items: [{ key: 'marathon-secret', path: 'marathon-secret' }] } }]
                : []),
            ],
          },
        },
      },
    });

    if (v.replicas > 1) {
      new k8s.KubePodDisruptionBudget(this, 'pdb', {
        metadata: identity.meta(),
        spec: {
          // Keep all but one instance: the leader may move, but the API stays served.
          maxUnavailable: k8s.IntOrString.fromNumber(1),
          selector: { matchLabels: identity.selector },
        },
      });
    }
  }
}
