import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Rollout, type RolloutSpec, toJson_RolloutSpec } from '../imports/argoproj.io';
import { APP_DEFAULT_PORT, APP_HEALTH_PATH, APP_READY_PATH } from '../runtime/common/telemetry';
import { CANARY_HASH_ARG, CanaryAnalysis, type CanaryThresholds, canarySteps } from './delivery/canary';
import type { EnvironmentValues, ImageRef, MonitoringAppValues } from './environments';
import { APP_PROCESS_ENV } from '../runtime/app/process-env';
import { appReadinessCommand } from './lib/app-readiness';
import { ComponentIdentity } from './lib/component';
import { httpProbe, imageOf, resourcesOf, restrictedContainerSecurity, scratchVolume } from './lib/pod';
import { SecretFiles, secretSourcesOf } from './lib/secrets';
import { ServiceCertificate } from './security/tls';

/** Where the app's in-cluster certificate Secret is mounted. */
const APP_TLS_DIR = '/etc/orchestrator/tls';

/** Service names of the app under its default name (Argo CD's ignoreDifferences refer to them). */
export const MONITORING_APP_SERVICES = { stableService: 'monitoring-app', canaryService: 'monitoring-app-canary' } as const;

export interface MonitoringAppProps {
  readonly env: EnvironmentValues;
  readonly values: MonitoringAppValues;
  readonly image: ImageRef;
  /** Base URL of the Prometheus the canary analysis queries. */
  readonly prometheusUrl: string;
  /**
   * Name of the Rollout, its stable Service and Ingress.
   * @default 'monitoring-app'
   */
  readonly name?: string;
  /**
   * uid/gid the app runs as: the image's `node` user.
   * @default 1000
   */
  readonly uid?: number;
  /**
   * @default DEFAULT_THRESHOLDS (success ≥ 95%, P95 ≤ 1 s, P99 ≤ 2 s)
   */
  readonly thresholds?: CanaryThresholds;
  /**
   * IngressClass of the NGINX Ingress controller.
   * @default 'nginx'
   */
  readonly ingressClass?: string;
}

/**
 * The monitoring app, delivered by an Argo Rollouts canary: a stable and a canary Service,
 * the stable Ingress (TLS, certificate from cert-manager's ingress-shim) through which the
 * NGINX controller splits traffic by weight, and the background analysis that rolls back
 * automatically. The app itself serves TLS with the in-cluster certificate, so the Ingress
 * controller, the probes and Prometheus all reach it over verified HTTPS.
 */
export class MonitoringApp extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly stableServiceName: string;
  public readonly canaryServiceName: string;
  /** In-cluster https URL of the stable Service (what the probes publish to). */
  public readonly url: string;
  public readonly serviceHost: string;
  public readonly analysis: CanaryAnalysis;

  constructor(scope: Construct, id: string, props: MonitoringAppProps) {
    super(scope, id);
    const v = props.values;
    this.name = props.name ?? 'monitoring-app';
    this.namespace = props.env.namespace;
    this.stableServiceName = this.name;
    this.canaryServiceName = `${this.name}-canary`;
    this.serviceHost = `${this.name}.${this.namespace}.svc`;
    this.url = `https://${this.serviceHost}:${APP_DEFAULT_PORT}`;
    const uid = props.uid ?? 1000;

    if (!Number.isInteger(v.replicas) || v.replicas < 1) throw new Error(`app.replicas must be a positive integer, got ${v.replicas}`);
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(v.host)) throw new Error(`app.host "${v.host}" is not a DNS name`);
    const steps = canarySteps(v.canary);

    const identity = new ComponentIdentity(this.name, this.namespace, props.env, props.image.tag);
    identity.serviceAccount(this);

    for (const [cid, name] of [['stable', this.stableServiceName], ['canary', this.canaryServiceName]] as const) {
      new k8s.KubeService(this, cid, {
        metadata: identity.meta(name),
        spec: {
          type: 'ClusterIP',
          // The Rollouts controller adds the pod-template hash of the stable or canary pods.
          selector: identity.selector,
          ports: [{ name: 'https', port: APP_DEFAULT_PORT, targetPort: k8s.IntOrString.fromString('https'), appProtocol: 'https' }],
        },
      });
    }

    // The in-cluster certificate both Services' names resolve to (the Ingress controller, the
    // probes and Prometheus verify it); the public one is the Ingress's, from ingress-shim.
    new ServiceCertificate(this, 'certificate', {
      env: props.env, component: this.name, namespace: this.namespace, secretName: props.env.tls.appInternalSecret,
      dnsNames: [this.serviceHost, `${this.canaryServiceName}.${this.namespace}.svc`, `${this.serviceHost}.${props.env.clusterDomain}`],
      role: 'server',
    });

    new k8s.KubeIngress(this, 'ingress', {
      metadata: {
        ...identity.meta(),
        annotations: {
          'cert-manager.io/cluster-issuer': props.env.tls.clusterIssuer,
          'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS',
          'nginx.ingress.kubernetes.io/proxy-ssl-verify': 'on',
          'nginx.ingress.kubernetes.io/proxy-ssl-secret': `${this.namespace}/${props.env.tls.caSecret}`,
          'nginx.ingress.kubernetes.io/proxy-ssl-name': this.serviceHost,
          'nginx.ingress.kubernetes.io/ssl-redirect': 'true',
          // The live view is a WebSocket held open for as long as the page is.
          'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
          'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
        },
      },
      spec: {
        ingressClassName: props.ingressClass ?? 'nginx',
        tls: [{ hosts: [v.host], secretName: `${this.name}-tls` }],
        rules: [{
          host: v.host,
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: this.stableServiceName, port: { name: 'https' } } } }] },
        }],
      },
    });

    this.analysis = new CanaryAnalysis(this, 'analysis', {
      env: props.env, values: v.canary, app: this.name, namespace: this.namespace,
      prometheusUrl: props.prometheusUrl, thresholds: props.thresholds,
    });

    const tokens = new SecretFiles({ env: props.env, volume: 'tokens', secretName: `${this.name}-tokens`, keys: ['tokens'], mountPath: '/etc/orchestrator/tokens' });
    const secrets = secretSourcesOf(props.env, [tokens]);
    const template: k8s.PodTemplateSpec = {
      metadata: { labels: identity.labels, annotations: Object.keys(secrets.annotations).length ? secrets.annotations : undefined },
      spec: {
        ...identity.restrictedPod(uid, 1),
        // Preferred, not required: during a canary the pods outnumber the replicas.
        affinity: v.replicas > 1
          ? { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: identity.selector }, topologyKey: 'kubernetes.io/hostname' } }] } }
          : undefined,
        terminationGracePeriodSeconds: 30,
        containers: [{
          name: 'app',
          image: imageOf(props.image),
          args: [
            'app',
            '--listen', `0.0.0.0:${APP_DEFAULT_PORT}`,
            '--tokens-file', tokens.path('tokens'),
            '--tls-cert', `${APP_TLS_DIR}/tls.crt`,
            '--tls-key', `${APP_TLS_DIR}/tls.key`,
          ],
          // Node options only the process's start can set (runtime/app/process-env.ts; bench/app.ts
          // runs the app with the same).
          env: Object.entries(APP_PROCESS_ENV).map(([name, value]) => ({ name, value })),
          ports: [{ name: 'https', containerPort: APP_DEFAULT_PORT }],
          resources: resourcesOf(v.resources, 'app'),
          securityContext: restrictedContainerSecurity(),
          // /readyz needs a token: an exec check reads it from the mounted file (lib/app-readiness.ts).
          readinessProbe: {
            exec: { command: appReadinessCommand({ port: APP_DEFAULT_PORT, path: APP_READY_PATH, tokensFile: tokens.path('tokens'), caFile: `${APP_TLS_DIR}/ca.crt`, serverName: this.serviceHost }) },
            initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3,
          },
          // /healthz stays open (no token): liveness is a plain HTTPS GET.
          livenessProbe: httpProbe(APP_HEALTH_PATH, APP_DEFAULT_PORT, { initialDelaySeconds: 15, periodSeconds: 15, failureThreshold: 4, scheme: 'HTTPS' }),
          volumeMounts: [
            { name: 'tls', mountPath: APP_TLS_DIR, readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
            ...tokens.mounts(),
          ],
        }],
        volumes: [
          { name: 'tls', secret: { secretName: props.env.tls.appInternalSecret, defaultMode: 0o440, items: ['tls.crt', 'tls.key', 'ca.crt'].map((key) => ({ key, path: key })) } },
          scratchVolume('tmp', '64Mi'),
          ...secrets.volumes,
        ],
      },
    };

    const spec: RolloutSpec = {
        replicas: v.replicas,
        revisionHistoryLimit: 5,
        selector: { matchLabels: identity.selector },
        // A canary that does not become ready in 10 minutes is aborted, like a failed analysis.
        progressDeadlineSeconds: 600,
        progressDeadlineAbort: true,
        strategy: {
          canary: {
            stableService: this.stableServiceName,
            canaryService: this.canaryServiceName,
            trafficRouting: { nginx: { stableIngress: this.name } },
            abortScaleDownDelaySeconds: 30,
            analysis: {
              templates: this.analysis.templateNames.map((templateName) => ({ templateName })),
              startingStep: 1,
              args: [{ name: CANARY_HASH_ARG, valueFrom: { podTemplateHashValue: 'Latest' } }],
            },
            steps,
          },
        },
    };
    // The strategy is typed by the generated Rollout types; the pod template by the Kubernetes
    // ones (built with the same helpers as every other workload), each converted by its own
    // toJson. The generated Rollout class would drop the template's int-or-string ports.
    new ApiObject(this, 'rollout', {
      ...Rollout.GVK,
      metadata: { ...identity.meta(), annotations: { 'argocd.argoproj.io/sync-options': 'SkipDryRunOnMissingResource=true' } },
      spec: { ...toJson_RolloutSpec(spec), template: k8s.toJson_PodTemplateSpec(template) },
    });

    if (v.replicas > 1) {
      new k8s.KubePodDisruptionBudget(this, 'pdb', {
        metadata: identity.meta(),
        spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: identity.selector } },
      });
    }
  }
}
