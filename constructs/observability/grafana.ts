import { Yaml } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { EnvironmentValues, GrafanaValues, ImageRef } from '../environments';
import { ComponentIdentity } from '../lib/component';
import { httpProbe, imageOf, resourcesOf, restrictedContainerSecurity, scratchVolume } from '../lib/pod';
import { SecretFiles, secretSourcesOf } from '../lib/secrets';
import { ServiceCertificate } from '../security/tls';
import { PROMETHEUS_DATASOURCE_UID, type GrafanaDashboard } from './dashboards/builder';

export const GRAFANA_PORT = 3000;
/** Where Grafana's in-cluster certificate (`grafana-internal-tls`, from the platform CA) is mounted. */
const GRAFANA_TLS_DIR = '/etc/grafana/tls';

export interface GrafanaProps {
  readonly env: EnvironmentValues;
  readonly values: GrafanaValues;
  readonly image: ImageRef;
  readonly prometheusUrl: string;
  readonly dashboards: readonly GrafanaDashboard[];
  /**
   * @default 'grafana'
   */
  readonly name?: string;
  /**
   * uid/gid: the image's `grafana` user.
   * @default 472
   */
  readonly uid?: number;
  /**
   * @default 'nginx'
   */
  readonly ingressClass?: string;
}

/**
 * Grafana with everything provisioned from files: the Prometheus datasource and the
 * dashboards (built as code), read-only in the UI. Its own state is disposable (emptyDir):
 * nothing in it is edited by hand. The admin credentials come from a Secret (or Vault).
 */
export class Grafana extends Construct {
  public readonly name: string;

  constructor(scope: Construct, id: string, props: GrafanaProps) {
    super(scope, id);
    const env = props.env;
    const v = props.values;
    this.name = props.name ?? 'grafana';
    const ns = env.namespace;
    const uid = props.uid ?? 472;
    const uids = props.dashboards.map((d) => d.uid as string);
    if (new Set(uids).size !== uids.length) throw new Error(`grafana: dashboard uids must be unique, got ${uids.join(', ')}`);

    const identity = new ComponentIdentity(this.name, ns, env, props.image.tag);
    identity.serviceAccount(this);

    new k8s.KubeConfigMap(this, 'datasources', {
      metadata: identity.meta(`${this.name}-datasources`),
      data: {
        'datasources.yaml': Yaml.stringify({
          apiVersion: 1,
          datasources: [{
            name: 'Prometheus', type: 'prometheus', uid: PROMETHEUS_DATASOURCE_UID, access: 'proxy', url: props.prometheusUrl,
            isDefault: true, editable: false, jsonData: { timeInterval: `${env.prometheus.scrapeIntervalSeconds}s` },
          }],
        }),
      },
    });
    new k8s.KubeConfigMap(this, 'dashboard-provider', {
      metadata: identity.meta(`${this.name}-dashboard-provider`),
      data: {
        'dashboards.yaml': Yaml.stringify({
          apiVersion: 1,
          providers: [{ name: 'platform', folder: 'Orchestrator', type: 'file', disableDeletion: true, allowUiUpdates: false, options: { path: '/var/lib/grafana/dashboards' } }],
        }),
      },
    });
    new k8s.KubeConfigMap(this, 'dashboards', {
      metadata: identity.meta(`${this.name}-dashboards`),
      data: Object.fromEntries(props.dashboards.map((d) => [`${d.uid}.json`, JSON.stringify(d, null, 2) + '\n'])),
    });

    // Grafana serves HTTPS itself with an in-cluster certificate; the Ingress controller
    // re-encrypts to it and verifies it against the platform CA, as for the app.
    const serviceHost = `${this.name}.${ns}.svc`;
    const internalTls = `${this.name}-internal-tls`;
    new ServiceCertificate(this, 'certificate', {
      env, component: this.name, namespace: ns, secretName: internalTls, dnsNames: [serviceHost, `${serviceHost}.${env.clusterDomain}`], role: 'server',
    });
    new k8s.KubeService(this, 'service', {
      metadata: identity.meta(),
      spec: { type: 'ClusterIP', selector: identity.selector, ports: [{ name: 'https', port: GRAFANA_PORT, targetPort: k8s.IntOrString.fromString('https'), appProtocol: 'https' }] },
    });
    new k8s.KubeIngress(this, 'ingress', {
      metadata: {
        ...identity.meta(),
        annotations: {
          'cert-manager.io/cluster-issuer': env.tls.clusterIssuer,
          'nginx.ingress.kubernetes.io/ssl-redirect': 'true',
          'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS',
          'nginx.ingress.kubernetes.io/proxy-ssl-verify': 'on',
          'nginx.ingress.kubernetes.io/proxy-ssl-secret': `${ns}/${env.tls.caSecret}`,
          'nginx.ingress.kubernetes.io/proxy-ssl-name': serviceHost,
        },
      },
      spec: {
        ingressClassName: props.ingressClass ?? 'nginx',
        tls: [{ hosts: [v.host], secretName: `${this.name}-tls` }],
        rules: [{ host: v.host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: this.name, port: { name: 'https' } } } }] } }],
      },
    });

    const admin = new SecretFiles({ env, volume: 'admin', secretName: v.adminSecretName, keys: ['admin-user', 'admin-password'], mountPath: '/etc/grafana/admin' });
    const secrets = secretSourcesOf(env, [admin]);
    new k8s.KubeDeployment(this, 'deployment', {
      metadata: identity.meta(),
      spec: {
        replicas: 1,
        selector: { matchLabels: identity.selector },
        template: {
          metadata: { labels: identity.labels, annotations: Object.keys(secrets.annotations).length ? secrets.annotations : undefined },
          spec: {
            ...identity.restrictedPod(uid, 1),
            containers: [{
              name: 'grafana',
              image: imageOf(props.image),
              env: [
                { name: 'GF_PATHS_DATA', value: '/var/lib/grafana/data' },
                { name: 'GF_PATHS_PROVISIONING', value: '/etc/grafana/provisioning' },
                { name: 'GF_SECURITY_ADMIN_USER__FILE', value: admin.path('admin-user') },
                { name: 'GF_SECURITY_ADMIN_PASSWORD__FILE', value: admin.path('admin-password') },
                { name: 'GF_SERVER_ROOT_URL', value: `https://${v.host}/` },
                { name: 'GF_USERS_ALLOW_SIGN_UP', value: 'false' },
                { name: 'GF_AUTH_ANONYMOUS_ENABLED', value: 'false' },
                { name: 'GF_ANALYTICS_REPORTING_ENABLED', value: 'false' },
                { name: 'GF_ANALYTICS_CHECK_FOR_UPDATES', value: 'false' },
                { name: 'GF_SERVER_PROTOCOL', value: 'https' },
                { name: 'GF_SERVER_CERT_FILE', value: `${GRAFANA_TLS_DIR}/tls.crt` },
                { name: 'GF_SERVER_CERT_KEY', value: `${GRAFANA_TLS_DIR}/tls.key` },
              ],
              ports: [{ name: 'https', containerPort: GRAFANA_PORT }],
              resources: resourcesOf(v.resources, 'grafana'),
              securityContext: restrictedContainerSecurity(),
              readinessProbe: httpProbe('/api/health', GRAFANA_PORT, { initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 3, scheme: 'HTTPS' }),
              livenessProbe: httpProbe('/api/health', GRAFANA_PORT, { initialDelaySeconds: 30, periodSeconds: 20, failureThreshold: 3, scheme: 'HTTPS' }),
              volumeMounts: [
                { name: 'tls', mountPath: GRAFANA_TLS_DIR, readOnly: true },
                { name: 'data', mountPath: '/var/lib/grafana/data' },
                { name: 'datasources', mountPath: '/etc/grafana/provisioning/datasources', readOnly: true },
                { name: 'dashboard-provider', mountPath: '/etc/grafana/provisioning/dashboards', readOnly: true },
                { name: 'dashboards', mountPath: '/var/lib/grafana/dashboards', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
                ...admin.mounts(),
              ],
            }],
            volumes: [
              { name: 'tls', secret: { secretName: internalTls, defaultMode: 0o440, items: ['tls.crt', 'tls.key'].map((key) => ({ key, path: key })) } },
              scratchVolume('data', '256Mi'),
              { name: 'datasources', configMap: { name: `${this.name}-datasources` } },
              { name: 'dashboard-provider', configMap: { name: `${this.name}-dashboard-provider` } },
              { name: 'dashboards', configMap: { name: `${this.name}-dashboards` } },
              scratchVolume('tmp', '64Mi'),
              ...secrets.volumes,
            ],
          },
        },
      },
    });
  }
}
