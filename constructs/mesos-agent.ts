import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { EnvironmentValues, ImageRef, MesosAgentValues, MesosAuthValues } from './environments';
import { ComponentIdentity } from './lib/component';
import { LIBPROCESS_TLS_DIR, caOnlyVolume, libprocessSslEnv, libprocessTlsVolume } from './lib/libprocess-tls';
import { mesosExporterContainer } from './lib/mesos-exporter';
import { httpProbe, imageOf, resourcesOf } from './lib/pod';
import { GHOSTUNNEL_UID, ZooKeeperTunnel } from './lib/zookeeper-tunnel';
import { SECURITY_EXCEPTION_ANNOTATION } from './lib/security';
import { ServiceCertificate } from './security/tls';
import type { ZooKeeper } from './zookeeper';

export const MESOS_AGENT_PORT = 5051;
/** On the host, so that containers the Docker containerizer starts can mount task sandboxes at the same path. */
export const MESOS_AGENT_WORK_DIR = '/var/lib/mesos/agent';

export interface MesosAgentProps {
  readonly env: EnvironmentValues;
  readonly values: MesosAgentValues;
  readonly auth: MesosAuthValues;
  readonly image: ImageRef;
  readonly exporterImage: ImageRef;
  /** `zk://…/mesos` of the masters: the loopback tunnels this pod runs. */
  readonly masterZkUrl: string;
  /** The platform's ensemble, which the agent reaches through its tunnel sidecars. */
  readonly zookeeper: ZooKeeper;
  /** ghostunnel, the TLS sidecar to ZooKeeper (lib/zookeeper-tunnel.ts). */
  readonly tunnelImage: ImageRef;
  /**
   * Name of the DaemonSet and prefix of every object.
   * @default 'mesos-agent'
   */
  readonly name?: string;
}

const ISOLATORS: Record<MesosAgentValues['isolation'], string> = {
  cgroups: 'cgroups/cpu,cgroups/mem,filesystem/linux,docker/runtime',
  posix: 'posix/cpu,posix/mem',
};

/**
 * Mesos agents: one per selected node (a DaemonSet), offering the node's resources to
 * frameworks and running their tasks with the Docker and Mesos containerizers.
 */
export class MesosAgent extends Construct {
  public readonly name: string;
  /** The `--resources` string the agents advertise. */
  public readonly advertisedResources: string;

  constructor(scope: Construct, id: string, props: MesosAgentProps) {
    super(scope, id);
    const v = props.values;
    this.name = props.name ?? 'mesos-agent';
    const ns = props.env.hostNamespace;
    const [firstPort, lastPort] = v.advertised.portRange;
    if (!(firstPort >= 1024 && lastPort <= 65535 && firstPort <= lastPort)) {
      throw new Error(`mesosAgent.advertised.portRange must be an ascending range within 1024-65535, got [${firstPort}, ${lastPort}]`);
    }
    if (v.advertised.cpus <= 0 || v.advertised.memoryMegabytes <= 0 || v.advertised.diskMegabytes <= 0) {
      throw new Error('mesosAgent.advertised cpus, memoryMegabytes and diskMegabytes must all be positive');
    }
    this.advertisedResources = [
      `cpus:${v.advertised.cpus}`,
      `mem:${v.advertised.memoryMegabytes}`,
      `disk:${v.advertised.diskMegabytes}`,
      `ports:[${firstPort}-${lastPort}]`,
    ].join(';');

    const identity = new ComponentIdentity(this.name, ns, props.env, props.image.tag);
    identity.serviceAccount(this);

    const authEnv: k8s.EnvVar[] = props.auth.enabled
      ? [{ name: 'MESOS_CREDENTIAL', value: 'file:///etc/mesos/auth/agent-credential' }]
      : [];

    // One certificate for every agent: it encrypts libprocess and HTTPS, but cannot name each
    // node (see lib/libprocess-tls.ts for why peers are not verified by certificate).
    const tlsSecret = `${this.name}-tls`;
    new ServiceCertificate(this, 'certificate', {
      env: props.env, component: this.name, namespace: ns, secretName: tlsSecret,
      dnsNames: [`${this.name}.${ns}.svc`, 'localhost'], ipAddresses: ['127.0.0.1'], role: 'peer',
    });

    new k8s.KubeDaemonSet(this, 'daemonset', {
      metadata: identity.meta(),
      spec: {
        selector: { matchLabels: identity.selector },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(1) } },
        template: {
          metadata: {
            labels: identity.labels,
            annotations: {
              [SECURITY_EXCEPTION_ANNOTATION]: 'The Mesos agent runs tasks: it creates cgroups and mount namespaces, drives the node\'s Docker daemon and mounts task sandboxes, so it is privileged in the host PID and network namespaces, with the Docker socket, /sys/fs/cgroup and its work dir mounted from the host.',
            },
          },
          spec: {
            serviceAccountName: this.name,
            automountServiceAccountToken: false,
            nodeSelector: { ...v.nodeSelector },
            // The agent is reached by masters and frameworks at the node's address, and task
            // port ranges are host ports: it lives in the host's network namespace.
            hostNetwork: true,
            dnsPolicy: 'ClusterFirstWithHostNet',
            // The agent must see and signal the processes of the tasks it launched.
            hostPid: true,
            // The sidecars get the runtime's default seccomp filter; a privileged container (the
            // agent) runs unconfined regardless. fsGroup lets the non-root ZooKeeper tunnels read
            // the certificate Secret (0440), as in the restricted pods.
            securityContext: { seccompProfile: { type: 'RuntimeDefault' }, fsGroup: GHOSTUNNEL_UID },
            terminationGracePeriodSeconds: 60,
            containers: [
              {
                name: 'mesos-agent',
                image: imageOf(props.image),
                env: [
                  { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                  { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
                  { name: 'MESOS_MASTER', value: props.masterZkUrl },
                  { name: 'MESOS_HOSTNAME', value: '$(NODE_NAME)' },
                  { name: 'MESOS_IP', value: '$(HOST_IP)' },
                  { name: 'MESOS_PORT', value: String(MESOS_AGENT_PORT) },
                  { name: 'MESOS_WORK_DIR', value: MESOS_AGENT_WORK_DIR },
                  { name: 'MESOS_CONTAINERIZERS', value: 'docker,mesos' },
                  { name: 'MESOS_ISOLATION', value: ISOLATORS[v.isolation] },
                  { name: 'MESOS_RESOURCES', value: this.advertisedResources },
                  { name: 'MESOS_DOCKER_SOCKET', value: '/var/run/docker.sock' },
                  // systemd is the host's, not ours: executors must not be placed in its slices.
                  { name: 'MESOS_SYSTEMD_ENABLE_SUPPORT', value: 'false' },
                  { name: 'MESOS_LOGGING_LEVEL', value: 'INFO' },
                  ...authEnv,
                  ...libprocessSslEnv(),
                ],
                ports: [{ name: 'https', containerPort: MESOS_AGENT_PORT }],
                resources: resourcesOf(v.resources, 'mesos-agent'),
                // Privileged because the agent creates cgroups and mount namespaces for tasks,
                // drives the host's Docker daemon and mounts task sandboxes: no narrower set of
                // capabilities covers the containerizers. It runs in its own namespace whose
                // Pod Security level admits this, apart from the restricted orchestration layer.
                securityContext: { privileged: true, runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: true, readOnlyRootFilesystem: false },
                readinessProbe: httpProbe('/health', MESOS_AGENT_PORT, { initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 3, scheme: 'HTTPS' }),
                livenessProbe: httpProbe('/health', MESOS_AGENT_PORT, { initialDelaySeconds: 60, periodSeconds: 15, failureThreshold: 4, scheme: 'HTTPS' }),
                volumeMounts: [
                  { name: 'tls', mountPath: LIBPROCESS_TLS_DIR, readOnly: true },
                  { name: 'docker-socket', mountPath: '/var/run/docker.sock' },
                  { name: 'cgroup', mountPath: '/sys/fs/cgroup' },
                  { name: 'work', mountPath: MESOS_AGENT_WORK_DIR, mountPropagation: 'Bidirectional' },
                  ...(props.auth.enabled ? [{ name: 'credentials', mountPath: '/etc/mesos/auth', readOnly: true }] : []),
                ],
              },
              mesosExporterContainer('slave', MESOS_AGENT_PORT, props.exporterImage, v.exporterResources, 'exporter-ca'),
              // On the host network: the tunnels listen on the node's loopback (127.0.0.1:2181…).
              ...new ZooKeeperTunnel({ zookeeper: props.zookeeper, image: props.tunnelImage, tlsVolume: 'tls', runAsUser: GHOSTUNNEL_UID }).containers(),
            ],
            volumes: [
              libprocessTlsVolume(tlsSecret),
              caOnlyVolume(tlsSecret, 'exporter-ca'),
              { name: 'docker-socket', hostPath: { path: '/var/run/docker.sock', type: 'Socket' } },
              { name: 'cgroup', hostPath: { path: '/sys/fs/cgroup', type: 'Directory' } },
              { name: 'work', hostPath: { path: MESOS_AGENT_WORK_DIR, type: 'DirectoryOrCreate' } },
              ...(props.auth.enabled
                ? [{ name: 'credentials', secret: { secretName: props.auth.secretName, items: [{ key: 'agent-credential', path: 'agent-credential' }] } }]
                : []),
            ],
          },
        },
      },
    });
  }
}
