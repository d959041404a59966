import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { EnvironmentValues, ImageRef, MarathonValues, MesosAuthValues } from './environments';
import { ComponentIdentity } from './lib/component';
import { httpProbe, imageOf, resourcesOf, restrictedContainerSecurity } from './lib/pod';
import { parseQuantity } from './lib/quantity';
import type { ZooKeeper } from './zookeeper';

export const MARATHON_HTTP_PORT = 8080;
/** Marathon keeps its state and elects its leader under this ZooKeeper chroot. */
export const MARATHON_ZK_CHROOT = '/marathon';
export const MARATHON_METRICS_PATH = '/metrics/prometheus';
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
        ports: [{ name: 'http', port: MARATHON_HTTP_PORT, targetPort: k8s.IntOrString.fromString('http') }],
      },
    });

    const args = [
      '--master', props.masterZkUrl,
      '--zk', `zk://${props.zookeeper.connectString(MARATHON_ZK_CHROOT)}`,
      '--http_port', String(MARATHON_HTTP_PORT),
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
                { name: 'JAVA_OPTS', value: `-Xms${v.heapMegabytes}m -Xmx${v.heapMegabytes}m -XX:+ExitOnOutOfMemoryError` },
              ],
              ports: [{ name: 'http', containerPort: MARATHON_HTTP_PORT }, { name: 'libprocess', containerPort: MARATHON_LIBPROCESS_PORT }],
              resources: resourcesOf(v.resources, 'marathon'),
              securityContext: restrictedContainerSecurity(),
              readinessProbe: httpProbe('/ping', MARATHON_HTTP_PORT, { initialDelaySeconds: 20, periodSeconds: 10, failureThreshold: 3 }),
              livenessProbe: httpProbe('/ping', MARATHON_HTTP_PORT, { initialDelaySeconds: 120, periodSeconds: 15, failureThreshold: 4 }),
              volumeMounts: [
                { name: 'tmp', mountPath: '/tmp' },
                ...(props.auth.enabled ? [{ name: 'credentials', mountPath: '/etc/marathon/auth', readOnly: true }] : []),
              ],
            }],
            volumes: [
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('512Mi') } },
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
