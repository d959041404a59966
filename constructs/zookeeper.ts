import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { EnvironmentValues, ImageRef, ZooKeeperValues } from './environments';
import { ComponentIdentity } from './lib/component';
import { imageOf, requireOddMembers, resourcesOf, restrictedContainerSecurity } from './lib/pod';
import { parseQuantity } from './lib/quantity';
import { ServiceCertificate } from './security/tls';

/** Ports of a ZooKeeper member. */
export const ZOOKEEPER_PORTS = { client: 2181, secureClient: 2281, quorum: 2888, election: 3888, metrics: 7000 } as const;
/** Where the member's certificate (cert-manager Secret `<name>-tls`) is mounted. */
export const ZOOKEEPER_TLS_DIR = '/tls';

/** The four-letter words the ensemble answers; probes use `ruok`, operators `mntr` and `srvr`. */
export const ZOOKEEPER_FOUR_LETTER_WORDS = ['ruok', 'mntr', 'srvr'] as const;

export interface ZooKeeperProps {
  readonly env: EnvironmentValues;
  readonly values: ZooKeeperValues;
  readonly image: ImageRef;
  /**
   * Name of the StatefulSet and prefix of every object.
   * @default 'zookeeper'
   */
  readonly name?: string;
  /**
   * uid/gid the server runs as; the official image's `zookeeper` user.
   * @default 1000
   */
  readonly uid?: number;
}

/**
 * A ZooKeeper ensemble: a StatefulSet whose members find each other through a headless
 * Service, with `myid` derived from the pod ordinal, separate volumes for snapshots and the
 * transaction log, a Prometheus metrics endpoint, and a disruption budget that never lets
 * voluntary evictions break the quorum.
 */
export class ZooKeeper extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  /** Headless Service that gives each member a stable DNS name. */
  public readonly headlessServiceName: string;
  /** ClusterIP Service for clients. */
  public readonly clientServiceName: string;
  public readonly replicas: number;
  /** Secret of the members' certificate (quorum TLS and the secure client port). */
  public readonly tlsSecret: string;
  private readonly clusterDomain: string;

  constructor(scope: Construct, id: string, props: ZooKeeperProps) {
    super(scope, id);
    const v = props.values;
    this.name = props.name ?? 'zookeeper';
    this.namespace = props.env.namespace;
    this.headlessServiceName = `${this.name}-headless`;
    this.clientServiceName = this.name;
    this.replicas = v.replicas;
    this.clusterDomain = props.env.clusterDomain;
    const uid = props.uid ?? 1000;

    requireOddMembers(v.replicas, 'zookeeper.replicas');
    if (v.maxSessionTimeoutMs < 2 * v.tickTimeMs) {
      throw new Error(`zookeeper.maxSessionTimeoutMs (${v.maxSessionTimeoutMs}) must be at least 2 ticks (${2 * v.tickTimeMs})`);
    }
    const heapBytes = v.heapMegabytes * 2 ** 20;
    if (heapBytes > 0.8 * parseQuantity(v.resources.memoryLimit)) {
      throw new Error(`zookeeper.heapMegabytes (${v.heapMegabytes}) must stay under 80% of memoryLimit ${v.resources.memoryLimit}: the JVM needs off-heap room`);
    }

    const identity = new ComponentIdentity(this.name, this.namespace, props.env, props.image.tag);
    identity.serviceAccount(this);

    new k8s.KubeConfigMap(this, 'config', {
      metadata: identity.meta(`${this.name}-config`),
      data: {
        'zoo.cfg': this.zooCfg(v),
        'logback.xml': LOGBACK_XML,
      },
    });

    // Every port of the network is TLS: quorum and election (sslQuorum) and the secure client
    // port, which clients without TLS reach through a loopback ghostunnel sidecar
    // (lib/zookeeper-tunnel.ts). The plain client port listens on the member's loopback only,
    // for its exec probes and operators' four-letter words (docs/operations.md, "TLS").
    identity.headlessService(this, this.headlessServiceName, [
      { name: 'secure-client', port: ZOOKEEPER_PORTS.secureClient, appProtocol: 'tls' },
      { name: 'quorum', port: ZOOKEEPER_PORTS.quorum, appProtocol: 'tls' },
      { name: 'election', port: ZOOKEEPER_PORTS.election, appProtocol: 'tls' },
    ]);

    const members = Array.from({ length: v.replicas }, (_, i) => this.memberHost(i));
    this.tlsSecret = `${this.name}-tls`;
    new ServiceCertificate(this, 'certificate', {
      env: props.env, component: this.name, namespace: this.namespace, secretName: this.tlsSecret,
      dnsNames: [`${this.clientServiceName}.${this.namespace}.svc`, `${this.clientServiceName}.${this.namespace}.svc.${this.clusterDomain}`, ...members],
      // Members are both ends of the quorum connections; the key store is one PEM file.
      role: 'peer', combinedPem: true,
    });

    new k8s.KubeService(this, 'client', {
      metadata: identity.meta(this.clientServiceName),
      spec: {
        type: 'ClusterIP',
        selector: identity.selector,
        ports: [
          { name: 'secure-client', port: ZOOKEEPER_PORTS.secureClient, targetPort: k8s.IntOrString.fromString('secure-client'), appProtocol: 'tls' },
          { name: 'metrics', port: ZOOKEEPER_PORTS.metrics, targetPort: k8s.IntOrString.fromString('metrics') },
        ],
      },
    });

    const ruok = ruokCommand(ZOOKEEPER_PORTS.client);
    new k8s.KubeStatefulSet(this, 'statefulset', {
      metadata: identity.meta(),
      spec: {
        serviceName: this.headlessServiceName,
        replicas: v.replicas,
        // All members start together: an ordered start would wait forever for a quorum.
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate' },
        selector: { matchLabels: identity.selector },
        template: {
          metadata: { labels: identity.labels },
          spec: {
            ...identity.restrictedPod(uid, v.replicas),
            terminationGracePeriodSeconds: 30,
            initContainers: [{
              name: 'myid',
              image: imageOf(props.image),
              // The pod ordinal is the suffix of the hostname (zookeeper-0 → myid 1).
              command: ['bash', '-c', 'set -eu; ordinal="${HOSTNAME##*-}"; echo $((ordinal + 1)) > /data/myid'],
              resources: resourcesOf({ cpuRequest: '10m', cpuLimit: '100m', memoryRequest: '16Mi', memoryLimit: '32Mi' }, 'zookeeper myid'),
              securityContext: restrictedContainerSecurity(),
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            }],
            containers: [{
              name: 'zookeeper',
              image: imageOf(props.image),
              command: ['zkServer.sh', 'start-foreground'],
              env: [
                { name: 'ZOOCFGDIR', value: '/conf' },
                { name: 'ZOO_LOG_DIR', value: '/logs' },
                { name: 'JVMFLAGS', value: `-Xms${v.heapMegabytes}m -Xmx${v.heapMegabytes}m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError` },
              ],
              ports: [
                { name: 'secure-client', containerPort: ZOOKEEPER_PORTS.secureClient },
                { name: 'quorum', containerPort: ZOOKEEPER_PORTS.quorum },
                { name: 'election', containerPort: ZOOKEEPER_PORTS.election },
                { name: 'metrics', containerPort: ZOOKEEPER_PORTS.metrics },
              ],
              resources: resourcesOf(v.resources, 'zookeeper'),
              securityContext: restrictedContainerSecurity(),
              readinessProbe: { exec: { command: ruok }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
              livenessProbe: { exec: { command: ruok }, initialDelaySeconds: 30, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 },
              volumeMounts: [
                { name: 'data', mountPath: '/data' },
                { name: 'datalog', mountPath: '/datalog' },
                { name: 'config', mountPath: '/conf', readOnly: true },
                { name: 'tls', mountPath: ZOOKEEPER_TLS_DIR, readOnly: true },
                { name: 'logs', mountPath: '/logs' },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            }],
            volumes: [
              { name: 'config', configMap: { name: `${this.name}-config` } },
              {
                name: 'tls',
                secret: { secretName: this.tlsSecret, defaultMode: 0o440, items: [{ key: 'tls-combined.pem', path: 'tls-combined.pem' }, { key: 'ca.crt', path: 'ca.crt' }] },
              },
              { name: 'logs', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } },
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
            ],
          },
        },
        volumeClaimTemplates: [
          this.claim('data', props.env.storageClass, v.dataStorage),
          this.claim('datalog', props.env.storageClass, v.transactionLogStorage),
        ],
      },
    });

    identity.quorumBudget(this, v.replicas);
  }

  /** Stable DNS name of member `ordinal` (0-based). */
  public memberHost(ordinal: number): string {
    return `${this.name}-${ordinal}.${this.headlessServiceName}.${this.namespace}.svc.${this.clusterDomain}`;
  }

  /**
   * Whether every host of a connect string names this ensemble (its client Service, headless
   * Service or a member, short or fully qualified): such a client goes through the tunnel.
   */
  public namesThisEnsemble(connect: string): boolean {
    const own = new Set<string>();
    for (const svc of [this.clientServiceName, this.headlessServiceName]) {
      own.add(`${svc}.${this.namespace}.svc`).add(`${svc}.${this.namespace}.svc.${this.clusterDomain}`);
    }
    for (let i = 0; i < this.replicas; i++) {
      own.add(this.memberHost(i)).add(`${this.name}-${i}.${this.headlessServiceName}.${this.namespace}.svc`);
    }
    const hosts = connect.replace(/\/.*$/, '').split(',').map((h) => h.replace(/:[0-9]+$/, ''));
    const mine = hosts.filter((h) => own.has(h)).length;
    if (mine > 0 && mine < hosts.length) throw new Error(`connect string "${connect}" mixes the platform's ensemble with other hosts`);
    return mine > 0;
  }

  private claim(name: string, storageClass: string, size: string): k8s.KubePersistentVolumeClaimProps {
    return {
      metadata: { name },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: storageClass,
        resources: { requests: { storage: k8s.Quantity.fromString(size) } },
      },
    };
  }

  private zooCfg(v: ZooKeeperValues): string {
    const lines = [
      `tickTime=${v.tickTimeMs}`,
      'initLimit=10',
      'syncLimit=5',
      'dataDir=/data',
      // The transaction log on its own volume: fsync latency there is ZooKeeper's write latency.
      'dataLogDir=/datalog',
      // Plain, on the member's loopback only: its exec probes and operators' four-letter words.
      `clientPort=${ZOOKEEPER_PORTS.client}`,
      'clientPortAddress=127.0.0.1',
      'maxClientCnxns=0',
      `minSessionTimeout=${2 * v.tickTimeMs}`,
      // Must be explicit: the default maximum is 20 ticks (40 s at a 2 s tick).
      `maxSessionTimeout=${v.maxSessionTimeoutMs}`,
      `autopurge.snapRetainCount=${v.snapRetainCount}`,
      `autopurge.purgeInterval=${v.purgeIntervalHours}`,
      `4lw.commands.whitelist=${ZOOKEEPER_FOUR_LETTER_WORDS.join(',')}`,
      // The admin server would be one more unauthenticated HTTP port; the 4lw whitelist suffices.
      'admin.enableServer=false',
      'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider',
      `metricsProvider.httpPort=${ZOOKEEPER_PORTS.metrics}`,
      'metricsProvider.exportJvmInfo=true',
      'reconfigEnabled=false',
      `standaloneEnabled=${v.replicas === 1}`,
      // Members bind to all addresses: the pod IP behind their DNS name changes on restart.
      'quorumListenOnAllIPs=true',
      ...tlsSettings(),
    ];
    for (let i = 0; i < v.replicas; i++) {
      // No `;clientPort` suffix: it would bind the plain port on every address.
      lines.push(`server.${i + 1}=${this.memberHost(i)}:${ZOOKEEPER_PORTS.quorum}:${ZOOKEEPER_PORTS.election}`);
    }
    return lines.join('\n') + '\n';
  }
}

/**
 * Quorum TLS and a secure client port (ZooKeeper 3.5.5+, zookeeperAdmin "Quorum TLS" and
 * "Encryption, Authentication, Authorization Options"; checked against the 3.8 guide). TLS needs
 * the Netty connection factory. Key and trust stores are PEM files (ssl.*.keyStore.type=PEM,
 * new in 3.5.5) straight from the cert-manager Secret, and are re-read when cert-manager renews
 * them (sslQuorumReloadCertFiles, client.certReload). Quorum peers authenticate each other with
 * their certificates (mutual TLS, the default for quorum). Clients of the secure port must present
 * a certificate from the platform CA too (ssl.clientAuth=need): every client is a ghostunnel
 * sidecar presenting its pod's cert-manager certificate, so a pod without one cannot open a
 * session even where a NetworkPolicy would let it connect. The X.509 provider that checks it is
 * ZooKeeper's own (authProvider.x509); sessions still authenticate with digest for ACLs.
 */
function tlsSettings(): string[] {
  const keyStore = `${ZOOKEEPER_TLS_DIR}/tls-combined.pem`;
  const trustStore = `${ZOOKEEPER_TLS_DIR}/ca.crt`;
  return [
    'serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory',
    `secureClientPort=${ZOOKEEPER_PORTS.secureClient}`,
    'sslQuorum=true',
    'sslQuorumReloadCertFiles=true',
    'client.certReload=true',
    `ssl.keyStore.location=${keyStore}`,
    'ssl.keyStore.type=PEM',
    `ssl.trustStore.location=${trustStore}`,
    'ssl.trustStore.type=PEM',
    'ssl.clientAuth=need',
    'authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider',
    `ssl.quorum.keyStore.location=${keyStore}`,
    'ssl.quorum.keyStore.type=PEM',
    `ssl.quorum.trustStore.location=${trustStore}`,
    'ssl.quorum.trustStore.type=PEM',
    'ssl.quorum.protocol=TLSv1.2',
  ];
}

/**
 * `ruok` over bash's /dev/tcp: the image's bash is enough, no netcat needed. ZooKeeper answers
 * `imok` and closes the connection when the server is running.
 */
function ruokCommand(port: number): string[] {
  return ['bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${port} && printf ruok >&3 && [ "$(timeout 3 cat <&3)" = imok ]`];
}

const LOGBACK_XML = `<configuration>
  <appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{ISO8601} [myid:%X{myid}] %-5level [%t:%C{1}@%L] - %m%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="CONSOLE"/></root>
</configuration>
`;
