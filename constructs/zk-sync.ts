import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ZK_SYNC_HEALTH_PATH, ZK_SYNC_PORT, ZK_SYNC_READY_PATH } from '../runtime/common/telemetry';
import type { EnvironmentValues, ImageRef, ZkSyncMigrationValues, ZkSyncValues } from './environments';
import { componentLabels, selectorLabels } from './lib/labels';
import { ORCHESTRATOR_CLI, httpProbe, imageOf, resourcesOf, restrictedContainerSecurity, restrictedPodSecurity, scratchVolume } from './lib/pod';
import { SecretFiles, secretSourcesOf } from './lib/secrets';
import { ZooKeeperTunnel } from './lib/zookeeper-tunnel';
import { ServiceCertificate } from './security/tls';
import type { ZooKeeper } from './zookeeper';

/** Single-quotes `s` for POSIX sh. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * `sh -c` that reads the two ZooKeeper credentials (`user:password`) from their files and runs
 * `zk-sync run` with them as `--source-auth digest:…` / `--target-auth digest:…`: the CLI takes
 * credentials as values only, and a manifest must not carry them. They are visible in the
 * engine's own /proc/<pid>/cmdline, inside its container only (no other container shares its
 * PID namespace). `run` are the other arguments after `zk-sync run`.
 */
export function zkSyncShellCommand(run: readonly string[], sourceAuthFile: string, targetAuthFile: string): string[] {
  const read = (v: string, f: string) => `IFS= read -r ${v} < ${shellQuote(f)} || [ -n "$${v}" ]`;
  const cli = [...ORCHESTRATOR_CLI, 'zk-sync', 'run', ...run].map(shellQuote).join(' ');
  return ['sh', '-c', `set -eu; ${read('source_auth', sourceAuthFile)}; ${read('target_auth', targetAuthFile)}; exec ${cli} --source-auth "digest:$source_auth" --target-auth "digest:$target_auth"`];
}

/** Pod label naming the migration a sync engine runs (Prometheus copies it to `migration`). */
export const MIGRATION_POD_LABEL = 'orchestrator.io/migration';

export interface ZkSyncProps {
  readonly env: EnvironmentValues;
  readonly values: ZkSyncValues;
  readonly image: ImageRef;
  /** The platform's ensemble: a source or target naming it is reached through loopback TLS tunnels. */
  readonly zookeeper: ZooKeeper;
  /** ghostunnel, the TLS sidecar to ZooKeeper (lib/zookeeper-tunnel.ts). */
  readonly tunnelImage: ImageRef;
  /**
   * Component name: the ServiceAccount, and the prefix of each migration's Deployment.
   * @default 'zk-sync'
   */
  readonly name?: string;
  /**
   * uid/gid of the engine: the image's `node` user.
   * @default 1000
   */
  readonly uid?: number;
}

/**
 * The ZooKeeper sync engine: one Deployment per migration in the values (`zk-sync-<name>`),
 * each a single replica (two engines on one migration would write against each other, so
 * updates use Recreate), with the ZooKeeper credentials of both sides read from files of a
 * Secret (or Vault), and a Service for its status endpoint and metrics.
 */
export class ZkSync extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  /** `zk-sync-<migration>` component names, one per migration. */
  public readonly components: readonly string[];

  constructor(scope: Construct, id: string, props: ZkSyncProps) {
    super(scope, id);
    this.name = props.name ?? 'zk-sync';
    this.namespace = props.env.namespace;
    const uid = props.uid ?? 1000;
    const seen = new Set<string>();
    for (const m of props.values.migrations) checkMigration(m, seen);
    this.components = props.values.migrations.map((m) => `${this.name}-${m.name}`);
    if (props.values.migrations.length === 0) return;

    // One ServiceAccount for every migration's engine: none of them talks to the API.
    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: { name: this.name, namespace: this.namespace, labels: componentLabels(this.name, props.env, props.image.tag) },
      automountServiceAccountToken: false,
    });

    // One client certificate for every engine that uses the platform's ensemble: the tunnels
    // present it to ZooKeeper's secure port (ssl.clientAuth=need). External ensembles are
    // reached as the values say, plain (docs/operations.md, "TLS").
    const tlsSecret = `${this.name}-tls`;
    const usesPlatform = (m: ZkSyncMigrationValues) => props.zookeeper.namesThisEnsemble(m.source) || props.zookeeper.namesThisEnsemble(m.target);
    if (props.values.migrations.some(usesPlatform)) {
      new ServiceCertificate(this, 'certificate', {
        env: props.env, component: this.name, namespace: this.namespace, secretName: tlsSecret,
        dnsNames: [`${this.name}.${this.namespace}.svc`], role: 'client',
      });
    }
    const tunnelVolume = 'zookeeper-tunnel-tls';

    for (const m of props.values.migrations) {
      const component = `${this.name}-${m.name}`;
      const tunnel = usesPlatform(m) ? new ZooKeeperTunnel({ zookeeper: props.zookeeper, image: props.tunnelImage, tlsVolume: tunnelVolume }) : undefined;
      // The platform's side goes through the tunnels (same chroot); the other side is left as given.
      const via = (connect: string) => (tunnel && props.zookeeper.namesThisEnsemble(connect) ? tunnel.connectString(/\/.*$/.exec(connect)?.[0] ?? '') : connect);
      const scope = new Construct(this, m.name);
      const labels: Record<string, string> = { ...componentLabels(component, props.env, props.image.tag), 'app.kubernetes.io/component': this.name, [MIGRATION_POD_LABEL]: m.name };
      const selector = selectorLabels(component);
      const meta = (): k8s.ObjectMeta => ({ name: component, namespace: this.namespace, labels });
      const credentials = new SecretFiles({ env: props.env, volume: 'zk-credentials', secretName: m.credentialsSecret, keys: ['source-auth', 'target-auth'], mountPath: '/etc/orchestrator/zk-credentials' });
      const secrets = secretSourcesOf(props.env, [credentials]);

      new k8s.KubeService(scope, 'service', {
        metadata: meta(),
        spec: { type: 'ClusterIP', selector, ports: [{ name: 'metrics', port: ZK_SYNC_PORT, targetPort: k8s.IntOrString.fromString('metrics') }] },
      });

      new k8s.KubeDeployment(scope, 'deployment', {
        metadata: meta(),
        spec: {
          replicas: 1,
          strategy: { type: 'Recreate' },
          selector: { matchLabels: selector },
          template: {
            metadata: { labels, annotations: Object.keys(secrets.annotations).length ? secrets.annotations : undefined },
            spec: {
              serviceAccountName: this.name,
              automountServiceAccountToken: false,
              securityContext: restrictedPodSecurity(uid),
              terminationGracePeriodSeconds: 30,
              containers: [{
                name: 'zk-sync',
                image: imageOf(props.image),
                command: zkSyncShellCommand([
                  '--source', via(m.source),
                  '--target', via(m.target),
                  ...m.paths.flatMap((p) => ['--path', p]),
                  '--mode', m.mode,
                  '--conflicts', m.conflicts,
                  '--port', String(ZK_SYNC_PORT),
                ], credentials.path('source-auth'), credentials.path('target-auth')),
                ports: [{ name: 'metrics', containerPort: ZK_SYNC_PORT }],
                resources: resourcesOf(props.values.resources, `zk-sync ${m.name}`),
                securityContext: restrictedContainerSecurity(),
                // Ready when the lag is under the engine's threshold; alive while it serves.
                readinessProbe: httpProbe(ZK_SYNC_READY_PATH, ZK_SYNC_PORT, { initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 3 }),
                livenessProbe: httpProbe(ZK_SYNC_HEALTH_PATH, ZK_SYNC_PORT, { initialDelaySeconds: 30, periodSeconds: 15, failureThreshold: 4 }),
                volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, ...credentials.mounts()],
              }, ...(tunnel?.containers() ?? [])],
              volumes: [
                scratchVolume('tmp', '64Mi'),
                ...secrets.volumes,
                ...(tunnel ? [{ name: tunnelVolume, secret: { secretName: tlsSecret, defaultMode: 0o440, items: ['tls.crt', 'tls.key', 'ca.crt'].map((key) => ({ key, path: key })) } }] : []),
              ],
            },
          },
        },
      });
    }
  }
}

function checkMigration(m: ZkSyncMigrationValues, seen: Set<string>): void {
  const where = `zkSync.migrations "${m.name}"`;
  if (!/^[a-z][a-z0-9-]{0,40}$/.test(m.name)) throw new Error(`${where}: name must be a short DNS label (a-z, 0-9, -)`);
  if (seen.has(m.name)) throw new Error(`${where} is declared twice`);
  seen.add(m.name);
  const connect = /^[A-Za-z0-9.-]+:[0-9]+(,[A-Za-z0-9.-]+:[0-9]+)*(\/[^\s]*)?$/;
  for (const [side, value] of [['source', m.source], ['target', m.target]] as const) {
    if (!connect.test(value)) throw new Error(`${where}: ${side} "${value}" is not a ZooKeeper connect string (host:port[,host:port...][/chroot])`);
  }
  if (m.source === m.target) throw new Error(`${where}: source and target are the same ensemble; a migration needs two`);
  for (const p of m.paths) if (!p.startsWith('/')) throw new Error(`${where}: path "${p}" must start with "/"`);
  if (m.mode === 'one-way' && m.conflicts === 'manual') {
    throw new Error(`${where}: a one-way sync has no conflicts to resolve by hand; use conflicts source-wins (or mode bidirectional)`);
  }
  if (!m.credentialsSecret) throw new Error(`${where}: credentialsSecret must name the Secret with source-auth and target-auth`);
}
