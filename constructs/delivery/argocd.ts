/**
 * GitOps: what Argo CD needs to deploy every environment from this repository.
 *
 *   dist/bootstrap/  applied once by hand: the bootstrap AppProject and the root Application
 *   dist/apps/       what the root Application syncs (app of apps): the AppProjects, one
 *                    Application per environment from dist/<env>, and per environment the
 *                    third-party controllers (NGINX Ingress, Argo Rollouts, cert-manager) from
 *                    their upstream Helm charts with values from the environment's typed values
 *
 * Sync waves order the children: projects (-2), controllers (-1), then the environments (0);
 * inside an environment the objects carry their own waves (platform.ts: ZooKeeper before the
 * masters, agents, Marathon and monitoring).
 */
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import {
  AppProject, Application, type ApplicationSpecIgnoreDifferences, type ApplicationSpecSyncPolicy, type AppProjectSpecClusterResourceWhitelist,
} from '../../imports/argoproj.io';
import { type ContainerResources, type EnvironmentValues, GIT_REPOSITORY, HELM_REPOSITORIES, type HelmControllerValues } from '../environments';
import { PART_OF } from '../lib/labels';
import { checkGitRepository } from '../lib/site-values';
import { resourcesOf } from '../lib/pod';
import { tenantNamespace } from '../security/tenancy';

export const ARGOCD_NAMESPACE = 'argocd';
/** The cluster Argo CD runs in, as Argo CD names it. */
export const IN_CLUSTER = 'https://kubernetes.default.svc';
export const PROJECTS = { bootstrap: 'orchestrator-bootstrap', platform: 'orchestrator', controllers: 'orchestrator-controllers' } as const;
export const APPS_PATH = 'dist/apps';
const WAVE = 'argocd.argoproj.io/sync-wave';

/** Namespaced kinds the platform's Applications may create (the policy test checks dist/ against it). */
export const PLATFORM_NAMESPACED_KINDS: ReadonlyArray<{ group: string; kind: string }> = [
  { group: '', kind: 'ConfigMap' },
  { group: '', kind: 'Service' },
  { group: '', kind: 'ServiceAccount' },
  { group: '', kind: 'ResourceQuota' },
  { group: '', kind: 'LimitRange' },
  { group: 'apps', kind: 'Deployment' },
  { group: 'apps', kind: 'StatefulSet' },
  { group: 'apps', kind: 'DaemonSet' },
  { group: 'policy', kind: 'PodDisruptionBudget' },
  { group: 'networking.k8s.io', kind: 'NetworkPolicy' },
  { group: 'networking.k8s.io', kind: 'Ingress' },
  { group: 'argoproj.io', kind: 'Rollout' },
  { group: 'argoproj.io', kind: 'AnalysisTemplate' },
  { group: 'cert-manager.io', kind: 'Certificate' },
];
/** Cluster-scoped kinds the platform's Applications may create. */
export const PLATFORM_CLUSTER_KINDS: readonly AppProjectSpecClusterResourceWhitelist[] = [
  { group: '', kind: 'Namespace' },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
  // The environment's own CA issuers (security/tls.ts).
  { group: 'cert-manager.io', kind: 'ClusterIssuer' },
];
/** What the controllers' charts install cluster-wide. */
const CONTROLLER_CLUSTER_KINDS: readonly AppProjectSpecClusterResourceWhitelist[] = [
  { group: '', kind: 'Namespace' },
  { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
  { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration' },
  { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration' },
  { group: 'networking.k8s.io', kind: 'IngressClass' },
];

/** Automated sync that prunes and self-heals, retried with exponential backoff. */
function syncPolicy(extraOptions: string[] = []): ApplicationSpecSyncPolicy {
  return {
    automated: { prune: true, selfHeal: true },
    syncOptions: ['PruneLast=true', ...extraOptions],
    retry: { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
  };
}

/** Fields of the platform's objects that the Argo Rollouts controller owns. */
export function rolloutsIgnoreDifferences(env: EnvironmentValues, app: { stableService: string; canaryService: string }): ApplicationSpecIgnoreDifferences[] {
  return [app.stableService, app.canaryService].map((name) => ({
    group: '',
    kind: 'Service',
    name,
    namespace: env.namespace,
    // The controller pins each Service to its pods' template hash and marks it as managed.
    jsonPointers: ['/spec/selector/rollouts-pod-template-hash', '/metadata/annotations/argo-rollouts.argoproj.io~1managed-by-rollouts'],
  }));
}

const helmResources = (r: ContainerResources, owner: string) => {
  resourcesOf(r, owner); // the same checks as our own containers (limits not below requests)
  return { requests: { cpu: r.cpuRequest, memory: r.memoryRequest }, limits: { cpu: r.cpuLimit, memory: r.memoryLimit } };
};

/** Helm values of each controller, from the environment's typed values. */
export function controllerValues(env: EnvironmentValues): Record<'ingressNginx' | 'argoRollouts' | 'certManager', Record<string, unknown>> {
  const c = env.gitops.controllers;
  return {
    ingressNginx: {
      controller: {
        replicaCount: c.ingressNginx.replicas,
        resources: helmResources(c.ingressNginx.resources, 'ingress-nginx'),
        ingressClassResource: { name: 'nginx', enabled: true, default: false },
        // Snippets would let any Ingress author inject NGINX configuration.
        allowSnippetAnnotations: false,
        metrics: { enabled: true },
        podAnnotations: { 'container.apparmor.security.beta.kubernetes.io/controller': 'runtime/default' },
      },
    },
    argoRollouts: {
      installCRDs: true,
      controller: {
        replicas: c.argoRollouts.replicas,
        resources: helmResources(c.argoRollouts.resources, 'argo-rollouts'),
        metrics: { enabled: true },
      },
      dashboard: { enabled: false },
    },
    certManager: {
      crds: { enabled: true, keep: true },
      replicaCount: c.certManager.replicas,
      resources: helmResources(c.certManager.resources, 'cert-manager'),
      // Leader election in its own namespace rather than kube-system.
      global: { leaderElection: { namespace: c.certManager.namespace } },
      prometheus: { enabled: true },
    },
  };
}

export interface GitOpsProps {
  readonly environments: readonly EnvironmentValues[];
  /** Names the Rollouts controller's ignoreDifferences refer to. */
  readonly app: { readonly stableService: string; readonly canaryService: string };
}

/** dist/apps: the projects, the environments' Applications and the controllers' Applications. */
export class GitOpsApps extends Chart {
  constructor(scope: Construct, id: string, props: GitOpsProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const labels = { 'app.kubernetes.io/part-of': PART_OF, 'app.kubernetes.io/managed-by': 'cdk8s' };
    const meta = (name: string, wave: number) => ({ name, namespace: ARGOCD_NAMESPACE, labels, annotations: { [WAVE]: String(wave) } });
    const envs = props.environments;
    checkGitRepository(GIT_REPOSITORY);
    const servers = new Set(envs.map((e) => e.gitops.destinationServer));
    if (servers.size !== envs.length) {
      throw new Error('each environment needs its own gitops.destinationServer: the controllers are cluster-wide and would be installed twice in one cluster');
    }

    new AppProject(this, 'platform-project', {
      metadata: meta(PROJECTS.platform, -2),
      spec: {
        description: 'The orchestrator platform of each environment, from dist/<env> of this repository only',
        sourceRepos: [GIT_REPOSITORY],
        // cert-manager's namespace: the environment's CA certificate lives there (a ClusterIssuer
        // reads its CA Secret from it).
        destinations: envs.flatMap((e) => [e.namespace, e.hostNamespace, ...e.tenants.map((t) => tenantNamespace(e, t)), e.gitops.controllers.certManager.namespace]
          .map((namespace) => ({ server: e.gitops.destinationServer, namespace }))),
        clusterResourceWhitelist: [...PLATFORM_CLUSTER_KINDS],
        namespaceResourceWhitelist: PLATFORM_NAMESPACED_KINDS.map((k) => ({ ...k })),
        orphanedResources: { warn: true },
      },
    });
    const controllerKeys = ['ingressNginx', 'argoRollouts', 'certManager'] as const;
    new AppProject(this, 'controllers-project', {
      metadata: meta(PROJECTS.controllers, -2),
      spec: {
        description: 'Third-party controllers from their upstream Helm charts',
        sourceRepos: controllerKeys.map((k) => HELM_REPOSITORIES[k]),
        destinations: envs.flatMap((e) => controllerKeys.map((k) => ({ server: e.gitops.destinationServer, namespace: e.gitops.controllers[k].namespace }))),
        clusterResourceWhitelist: [...CONTROLLER_CLUSTER_KINDS],
      },
    });

    for (const env of envs) {
      const values = controllerValues(env);
      const charts: Record<typeof controllerKeys[number], { chart: string; release: string; v: HelmControllerValues }> = {
        ingressNginx: { chart: 'ingress-nginx', release: 'ingress-nginx', v: env.gitops.controllers.ingressNginx },
        argoRollouts: { chart: 'argo-rollouts', release: 'argo-rollouts', v: env.gitops.controllers.argoRollouts },
        certManager: { chart: 'cert-manager', release: 'cert-manager', v: env.gitops.controllers.certManager },
      };
      if (env.gitops.controllers.ingressNginx.namespace !== env.network.ingressNamespace || env.gitops.controllers.argoRollouts.namespace !== env.network.rolloutsNamespace) {
        throw new Error(`${env.name}: gitops.controllers namespaces must match network.ingressNamespace and network.rolloutsNamespace (the NetworkPolicies and scrape jobs name them)`);
      }
      for (const key of controllerKeys) {
        const c = charts[key];
        if (!/^v?[0-9]+\.[0-9]+\.[0-9]+$/.test(c.v.chartVersion)) throw new Error(`${env.name}: gitops.controllers.${key}.chartVersion must be an exact version, got "${c.v.chartVersion}"`);
        new Application(this, `${env.name}-${c.chart}`, {
          metadata: { ...meta(`${env.name}-${c.chart}`, -1), finalizers: ['resources-finalizer.argocd.argoproj.io'] },
          spec: {
            project: PROJECTS.controllers,
            source: { repoUrl: HELM_REPOSITORIES[key], chart: c.chart, targetRevision: c.v.chartVersion, helm: { releaseName: c.release, valuesObject: values[key] } },
            destination: { server: env.gitops.destinationServer, namespace: c.v.namespace },
            // CRDs are too large for client-side apply's last-applied annotation.
            syncPolicy: syncPolicy(['CreateNamespace=true', 'ServerSideApply=true']),
          },
        });
      }
      new Application(this, `${env.name}-platform`, {
        metadata: { ...meta(`orchestrator-${env.name}`, 0), finalizers: ['resources-finalizer.argocd.argoproj.io'] },
        spec: {
          project: PROJECTS.platform,
          source: { repoUrl: GIT_REPOSITORY, targetRevision: env.gitops.targetRevision, path: `dist/${env.name}`, directory: { recurse: false } },
          destination: { server: env.gitops.destinationServer, namespace: env.namespace },
          syncPolicy: syncPolicy(['RespectIgnoreDifferences=true']),
          ignoreDifferences: rolloutsIgnoreDifferences(env, props.app),
        },
      });
    }
  }
}

/** dist/bootstrap: applied once with kubectl; everything else follows from git. */
export class GitOpsBootstrap extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { disableResourceNameHashes: true });
    const labels = { 'app.kubernetes.io/part-of': PART_OF, 'app.kubernetes.io/managed-by': 'cdk8s' };
    new AppProject(this, 'project', {
      metadata: { name: PROJECTS.bootstrap, namespace: ARGOCD_NAMESPACE, labels },
      spec: {
        description: 'The root Application: it may only create Argo CD Applications and AppProjects in the argocd namespace',
        sourceRepos: [GIT_REPOSITORY],
        destinations: [{ server: IN_CLUSTER, namespace: ARGOCD_NAMESPACE }],
        clusterResourceWhitelist: [],
        namespaceResourceWhitelist: [{ group: 'argoproj.io', kind: 'Application' }, { group: 'argoproj.io', kind: 'AppProject' }],
      },
    });
    new Application(this, 'root', {
      metadata: { name: 'orchestrator-root', namespace: ARGOCD_NAMESPACE, labels, finalizers: ['resources-finalizer.argocd.argoproj.io'] },
      spec: {
        project: PROJECTS.bootstrap,
        source: { repoUrl: GIT_REPOSITORY, targetRevision: 'main', path: APPS_PATH },
        destination: { server: IN_CLUSTER, namespace: ARGOCD_NAMESPACE },
        syncPolicy: syncPolicy(),
      },
    });
  }
}
