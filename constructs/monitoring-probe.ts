import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PROBE_HEALTH_PATH, PROBE_METRICS_PORT } from '../runtime/common/telemetry';
import { PROBE_NODE_FLAGS, PROBE_PROCESS_ENV } from '../runtime/probe/memory';
import type { EnvironmentValues, ImageRef, ProbeValues } from './environments';
import { ComponentIdentity } from './lib/component';
import { ORCHESTRATOR_CLI, httpProbe, imageOf, resourcesOf, scratchVolume, tolerateEverything } from './lib/pod';
import { parseQuantity } from './lib/quantity';
import { SecretFiles, secretSourcesOf } from './lib/secrets';
import { SECURITY_EXCEPTION_ANNOTATION } from './lib/security';
import { ClusterReader } from './security/rbac';

/** The probe's budget on every node (issue: 100m CPU, 100 Mi memory at most). */
export const PROBE_BUDGET = { cpu: '100m', memory: '100Mi' } as const;
/** Where the host's /proc and engine socket appear inside the probe's container. */
export const PROBE_HOST_PROC = '/host/proc';
export const PROBE_ENGINE_SOCKET = '/host/run/docker.sock';
/** Where the platform CA (`ca.crt` of the host namespace's `platform-ca` Secret) is mounted. */
const PROBE_CA_DIR = '/etc/orchestrator/ca';
/**
 * SELinux type of the probe's container on SELinux-enforcing nodes. The default container type
 * (container_t) may not read other processes' /proc entries or connect to the engine's socket
 * (labelled container_var_run_t); spc_t ("super privileged container", from container-selinux)
 * is the type node agents that read the host use. Ignored on nodes without SELinux.
 */
export const PROBE_SELINUX_TYPE = 'spc_t';

export interface MonitoringProbeProps {
  readonly env: EnvironmentValues;
  readonly values: ProbeValues;
  readonly image: ImageRef;
  /** https URL of the app the probes publish to. */
  readonly appUrl: string;
  /**
   * Name of the DaemonSet and its ServiceAccount.
   * @default 'monitoring-probe'
   */
  readonly name?: string;
  /**
   * Host path of the container engine's socket.
   * @default '/var/run/docker.sock'
   */
  readonly engineSocket?: string;
}

/**
 * The monitoring probe on every node: a DaemonSet that tolerates every taint, sees the host's
 * processes (hostPID), connections and conntrack table (host network), reads `/proc` and the
 * engine socket through read-only host mounts, reads pods, services and nodes from the API
 * (its only rights), and publishes reports to the app over TLS with its token.
 */
export class MonitoringProbe extends Construct {
  public readonly name: string;
  public readonly namespace: string;

  constructor(scope: Construct, id: string, props: MonitoringProbeProps) {
    super(scope, id);
    const v = props.values;
    this.name = props.name ?? 'monitoring-probe';
    this.namespace = props.env.hostNamespace;
    const engineSocket = props.engineSocket ?? '/var/run/docker.sock';

    if (parseQuantity(v.resources.cpuLimit) > parseQuantity(PROBE_BUDGET.cpu) || parseQuantity(v.resources.memoryLimit) > parseQuantity(PROBE_BUDGET.memory)) {
      throw new Error(`probe.resources limits (${v.resources.cpuLimit} CPU, ${v.resources.memoryLimit} memory) exceed the probe's budget of ${PROBE_BUDGET.cpu} CPU and ${PROBE_BUDGET.memory}; lower them`);
    }
    if (!Number.isInteger(v.intervalSeconds) || v.intervalSeconds < 1 || v.intervalSeconds > 15) {
      throw new Error(`probe.intervalSeconds must be an integer from 1 to 15 (a full report at least every 15 s), got ${v.intervalSeconds}`);
    }

    const identity = new ComponentIdentity(this.name, this.namespace, props.env, props.image.tag);
    // The probe lists and watches pods, services and nodes with its own token: the only
    // component besides Prometheus with API rights.
    new k8s.KubeServiceAccount(this, 'service-account', { metadata: identity.meta(), automountServiceAccountToken: true });
    new ClusterReader(this, 'reader', {
      env: props.env, component: this.name, namespace: this.namespace,
      rules: [{ apiGroup: '', resources: ['pods', 'services', 'nodes'] }],
    });

    const token = new SecretFiles({ env: props.env, volume: 'probe-token', secretName: `${this.name}-token`, keys: ['token'], mountPath: '/etc/orchestrator/probe-token' });
    const secrets = secretSourcesOf(props.env, [token]);

    new k8s.KubeDaemonSet(this, 'daemonset', {
      metadata: identity.meta(),
      spec: {
        selector: { matchLabels: identity.selector },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromString('10%') } },
        template: {
          metadata: {
            labels: identity.labels,
            annotations: {
              [SECURITY_EXCEPTION_ANNOTATION]: 'The probe reports the host: it needs the host PID namespace (every process), the host network namespace (every connection and the conntrack table), read-only host mounts of /proc and the engine socket, and root with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH to map sockets to processes of other users. It is not privileged and writes nothing on the host.',
              ...secrets.annotations,
            },
          },
          spec: {
            serviceAccountName: this.name,
            automountServiceAccountToken: true,
            hostPid: true,
            hostNetwork: true,
            dnsPolicy: 'ClusterFirstWithHostNet',
            tolerations: tolerateEverything(),
            priorityClassName: 'system-node-critical',
            securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
            terminationGracePeriodSeconds: 10,
            containers: [{
              name: 'probe',
              image: imageOf(props.image),
              // The image's entrypoint with the node flags only a command line can set (PROBE_NODE_FLAGS).
              command: [ORCHESTRATOR_CLI[0], ...PROBE_NODE_FLAGS, ORCHESTRATOR_CLI[1]],
              args: [
                'probe',
                '--app', props.appUrl,
                '--token-file', token.path('token'),
                // Only the platform CA is trusted for the app connection (the probe verifies TLS always).
                '--ca-file', `${PROBE_CA_DIR}/ca.crt`,
                '--interval', `${v.intervalSeconds}s`,
                '--engine-socket', PROBE_ENGINE_SOCKET,
                '--proc-root', PROBE_HOST_PROC,
                '--metrics-listen', `0.0.0.0:${PROBE_METRICS_PORT}`,
              ],
              env: [
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                // Node options, malloc and thread-pool settings that only the process's start can
                // set, for the probe's resident memory (runtime/probe/memory.ts; bench/probe.ts
                // measures the probe with exactly these as its `deployed` variant).
                ...Object.entries(PROBE_PROCESS_ENV).map(([name, value]) => ({ name, value })),
              ],
              ports: [{ name: 'metrics', containerPort: PROBE_METRICS_PORT }],
              resources: resourcesOf(v.resources, 'probe'),
              securityContext: {
                // Root without privilege: reading /proc/<pid>/fd of other users' processes needs
                // CAP_SYS_PTRACE (ptrace read access) and CAP_DAC_READ_SEARCH; nothing else is kept.
                runAsUser: 0,
                runAsGroup: 0,
                runAsNonRoot: false,
                privileged: false,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'], add: ['SYS_PTRACE', 'DAC_READ_SEARCH'] },
                seccompProfile: { type: 'RuntimeDefault' },
                seLinuxOptions: { type: PROBE_SELINUX_TYPE },
              },
              readinessProbe: httpProbe(PROBE_HEALTH_PATH, PROBE_METRICS_PORT, { initialDelaySeconds: 5, periodSeconds: 10, failureThreshold: 3 }),
              livenessProbe: httpProbe(PROBE_HEALTH_PATH, PROBE_METRICS_PORT, { initialDelaySeconds: 15, periodSeconds: 20, failureThreshold: 3 }),
              volumeMounts: [
                { name: 'host-proc', mountPath: PROBE_HOST_PROC, readOnly: true },
                { name: 'engine-socket', mountPath: PROBE_ENGINE_SOCKET, readOnly: true },
                { name: 'app-ca', mountPath: PROBE_CA_DIR, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
                ...token.mounts(),
              ],
            }],
            volumes: [
              { name: 'host-proc', hostPath: { path: '/proc', type: 'Directory' } },
              { name: 'engine-socket', hostPath: { path: engineSocket, type: 'Socket' } },
              { name: 'app-ca', secret: { secretName: props.env.tls.caSecret, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              scratchVolume('tmp', '16Mi'),
              ...secrets.volumes,
            ],
          },
        },
      },
    });
  }
}
