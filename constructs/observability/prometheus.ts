import { Yaml } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  APP_METRICS_PATH, PROBE_METRICS_PATH, PROBE_METRICS_PORT, ZK_SYNC_METRICS_PATH,
} from '../../runtime/common/telemetry';
import type { EnvironmentValues, ImageRef, PrometheusValues } from '../environments';
import { ComponentIdentity } from '../lib/component';
import { httpProbe, imageOf, resourcesOf, restrictedContainerSecurity, scratchVolume } from '../lib/pod';
import { SecretFiles, secretSourcesOf } from '../lib/secrets';
import { MARATHON_METRICS_PATH } from '../marathon';
import { ClusterReader } from '../security/rbac';
import { type RuleGroup } from './alerts';
import { HASH_LABEL, JOBS, MIGRATION_LABEL } from './queries';

export const PROMETHEUS_PORT = 9090;
/** The platform CA (`ca.crt` of the namespace's `platform-ca` Secret) that https targets are verified with. */
const CA_DIR = '/etc/prometheus/ca';

export interface PrometheusProps {
  readonly env: EnvironmentValues;
  readonly values: PrometheusValues;
  readonly image: ImageRef;
  readonly ruleGroups: readonly RuleGroup[];
  /** Service name of the app (its certificate's name is `<service>.<ns>.svc`). */
  readonly appService: string;
  /** Service name of Marathon (its certificate's name is `<service>.<ns>.svc`). */
  readonly marathonService: string;
  /**
   * Name of the StatefulSet, Service and ServiceAccount.
   * @default 'prometheus'
   */
  readonly name?: string;
  /**
   * uid/gid: the image's `nobody`.
   * @default 65534
   */
  readonly uid?: number;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type ScrapeConfig = Record<string, any>;

/** Relabelling shared by the pod-discovered jobs: keep our pods, name the job, carry pod identity. */
function podRelabels(keepName: string, portName: string): ScrapeConfig[] {
  return [
    { source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'], regex: keepName, action: 'keep' },
    { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: portName, action: 'keep' },
    { source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Pending|Succeeded|Failed', action: 'drop' },
    { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
    { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
    { source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'node' },
  ];
}

/**
 * Prometheus for one environment: Kubernetes service discovery of every platform component
 * (ZooKeeper, the Mesos exporters, Marathon, the probes on every node, the app with its
 * canary's pod-template hash, the sync engines, the NGINX Ingress and Argo Rollouts
 * controllers), the alert rules, a read-only ClusterRole for discovery (its only rights), and
 * a volume for the TSDB.
 */
export class Prometheus extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly url: string;
  /** The rendered prometheus.yml and rule file (tests run promtool on them). */
  public readonly configYaml: string;
  public readonly rulesYaml: string;

  constructor(scope: Construct, id: string, props: PrometheusProps) {
    super(scope, id);
    const env = props.env;
    const v = props.values;
    this.name = props.name ?? 'prometheus';
    this.namespace = env.namespace;
    this.url = `http://${this.name}.${this.namespace}.svc.${env.clusterDomain}:${PROMETHEUS_PORT}`;
    const uid = props.uid ?? 65534;
    if (!/^[0-9]+[dwy]$/.test(v.retention)) throw new Error(`prometheus.retention must be days, weeks or years such as 15d, got "${v.retention}"`);
    if (!Number.isInteger(v.scrapeIntervalSeconds) || v.scrapeIntervalSeconds < 5 || v.scrapeIntervalSeconds > 60) {
      throw new Error(`prometheus.scrapeIntervalSeconds must be 5..60, got ${v.scrapeIntervalSeconds}`);
    }

    const identity = new ComponentIdentity(this.name, this.namespace, env, props.image.tag);
    new k8s.KubeServiceAccount(this, 'service-account', { metadata: identity.meta(), automountServiceAccountToken: true });
    new ClusterReader(this, 'discovery', {
      env, component: this.name, namespace: this.namespace,
      rules: [
        { apiGroup: '', resources: ['nodes', 'pods', 'services', 'endpoints'] },
        { apiGroup: 'discovery.k8s.io', resources: ['endpointslices'] },
      ],
    });

    const appToken = new SecretFiles({ env, volume: 'app-token', secretName: 'prometheus-app-token', keys: ['token'], mountPath: '/etc/prometheus/app-token' });
    const secrets = secretSourcesOf(env, [appToken]);
    const ownNamespaces = [env.namespace, env.hostNamespace];
    const podsIn = (namespaces: string[]) => [{ role: 'pod', namespaces: { names: namespaces } }];

    const config = {
      global: {
        scrape_interval: `${v.scrapeIntervalSeconds}s`,
        evaluation_interval: `${v.scrapeIntervalSeconds}s`,
        external_labels: { environment: env.name },
      },
      rule_files: ['/etc/prometheus/rules/*.yaml'],
      scrape_configs: [
        { job_name: JOBS.prometheus, static_configs: [{ targets: [`localhost:${PROMETHEUS_PORT}`] }] },
        // Every pod of ours with a port named "metrics": ZooKeeper's metrics provider, the
        // mesos-exporter sidecars of masters and agents (agents' pods are on the host network,
        // so their address is the node's), and the sync engines.
        ...[JOBS.zookeeper, JOBS.mesosMaster, JOBS.mesosAgent].map((job) => ({
          job_name: job,
          kubernetes_sd_configs: podsIn(ownNamespaces),
          relabel_configs: podRelabels(job, 'metrics'),
        })),
        {
          job_name: JOBS.zkSync,
          metrics_path: ZK_SYNC_METRICS_PATH,
          kubernetes_sd_configs: podsIn([env.namespace]),
          relabel_configs: [
            { source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_component'], regex: 'zk-sync', action: 'keep' },
            { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: 'metrics', action: 'keep' },
            { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
            { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
            { source_labels: ['__meta_kubernetes_pod_label_orchestrator_io_migration'], target_label: MIGRATION_LABEL },
          ],
        },
        {
          // Marathon serves only HTTPS (certificate for marathon.<ns>.svc, from the platform CA).
          job_name: JOBS.marathon,
          scheme: 'https',
          metrics_path: MARATHON_METRICS_PATH,
          tls_config: { ca_file: `${CA_DIR}/ca.crt`, server_name: `${props.marathonService}.${this.namespace}.svc` },
          kubernetes_sd_configs: podsIn([env.namespace]),
          relabel_configs: podRelabels(JOBS.marathon, 'https'),
        },
        {
          // The app serves only HTTPS and only to token holders: Prometheus verifies its
          // certificate and presents a viewer token.
          job_name: JOBS.app,
          scheme: 'https',
          metrics_path: APP_METRICS_PATH,
          authorization: { type: 'Bearer', credentials_file: appToken.path('token') },
          tls_config: { ca_file: `${CA_DIR}/ca.crt`, server_name: `${props.appService}.${this.namespace}.svc` },
          kubernetes_sd_configs: podsIn([env.namespace]),
          relabel_configs: [
            ...podRelabels(props.appService, 'https'),
            // Stable and canary pods differ by this label: the canary analysis selects on it.
            { source_labels: ['__meta_kubernetes_pod_label_rollouts_pod_template_hash'], target_label: HASH_LABEL },
          ],
        },
        {
          // One target per node, whether or not a probe runs there: a node whose probe is
          // missing shows up as up == 0 (the MonitoringProbeMissing alert).
          job_name: JOBS.probe,
          metrics_path: PROBE_METRICS_PATH,
          kubernetes_sd_configs: [{ role: 'node' }],
          relabel_configs: [
            { source_labels: ['__meta_kubernetes_node_address_InternalIP'], regex: '(.+)', replacement: `$1:${PROBE_METRICS_PORT}`, target_label: '__address__' },
            { source_labels: ['__meta_kubernetes_node_name'], target_label: 'node' },
            { target_label: 'namespace', replacement: env.hostNamespace },
          ],
        },
        {
          job_name: JOBS.ingress,
          kubernetes_sd_configs: podsIn([env.network.ingressNamespace]),
          relabel_configs: podRelabels('ingress-nginx', 'metrics'),
        },
        {
          job_name: JOBS.rollouts,
          kubernetes_sd_configs: podsIn([env.network.rolloutsNamespace]),
          relabel_configs: podRelabels('argo-rollouts', 'metrics'),
          // The controller's metrics carry the rollout's namespace in `namespace`: theirs wins.
          honor_labels: true,
        },
      ],
    };
    this.configYaml = Yaml.stringify(config);
    this.rulesYaml = Yaml.stringify({ groups: props.ruleGroups });

    new k8s.KubeConfigMap(this, 'config', { metadata: identity.meta(`${this.name}-config`), data: { 'prometheus.yml': this.configYaml } });
    new k8s.KubeConfigMap(this, 'rules', { metadata: identity.meta(`${this.name}-rules`), data: { 'platform.yaml': this.rulesYaml } });

    new k8s.KubeService(this, 'service', {
      metadata: identity.meta(),
      spec: { type: 'ClusterIP', selector: identity.selector, ports: [{ name: 'http', port: PROMETHEUS_PORT, targetPort: k8s.IntOrString.fromString('http') }] },
    });

    new k8s.KubeStatefulSet(this, 'statefulset', {
      metadata: identity.meta(),
      spec: {
        serviceName: this.name,
        replicas: 1,
        selector: { matchLabels: identity.selector },
        template: {
          metadata: { labels: identity.labels, annotations: Object.keys(secrets.annotations).length ? secrets.annotations : undefined },
          spec: {
            ...identity.restrictedPod(uid, 1),
            // Service discovery reads the API with the pod's token (bound to the ClusterRole above).
            automountServiceAccountToken: true,
            terminationGracePeriodSeconds: 60,
            containers: [{
              name: 'prometheus',
              image: imageOf(props.image),
              args: [
                '--config.file=/etc/prometheus/config/prometheus.yml',
                '--storage.tsdb.path=/prometheus',
                `--storage.tsdb.retention.time=${v.retention}`,
                `--web.listen-address=:${PROMETHEUS_PORT}`,
              ],
              ports: [{ name: 'http', containerPort: PROMETHEUS_PORT }],
              resources: resourcesOf(v.resources, 'prometheus'),
              securityContext: restrictedContainerSecurity(),
              readinessProbe: httpProbe('/-/ready', PROMETHEUS_PORT, { initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 6 }),
              livenessProbe: httpProbe('/-/healthy', PROMETHEUS_PORT, { initialDelaySeconds: 30, periodSeconds: 15, failureThreshold: 4 }),
              volumeMounts: [
                { name: 'data', mountPath: '/prometheus' },
                { name: 'config', mountPath: '/etc/prometheus/config', readOnly: true },
                { name: 'rules', mountPath: '/etc/prometheus/rules', readOnly: true },
                { name: 'ca', mountPath: CA_DIR, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
                ...appToken.mounts(),
              ],
            }],
            volumes: [
              { name: 'config', configMap: { name: `${this.name}-config` } },
              { name: 'rules', configMap: { name: `${this.name}-rules` } },
              { name: 'ca', secret: { secretName: env.tls.caSecret, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              scratchVolume('tmp', '64Mi'),
              ...secrets.volumes,
            ],
          },
        },
        volumeClaimTemplates: [{
          metadata: { name: 'data' },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: env.storageClass,
            resources: { requests: { storage: k8s.Quantity.fromString(v.storage) } },
          },
        }],
      },
    });
  }
}

