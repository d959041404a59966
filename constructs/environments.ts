/**
 * One typed values object per environment: everything that differs between dev,
 * staging and prod lives here and nowhere else. Every field is required, so an
 * environment cannot silently inherit a default it never chose; the constructs
 * check the invariants (odd quorum sizes, limits above requests, ...).
 */
import releases from './releases.json';

export type EnvironmentName = 'dev' | 'staging' | 'prod';
export const ENVIRONMENT_NAMES: readonly EnvironmentName[] = ['dev', 'staging', 'prod'];

/** A container image pinned by exact tag (never `latest`). */
export interface ImageRef {
  readonly repository: string;
  readonly tag: string;
}

/** Requests and limits of one container, in Kubernetes quantity syntax. */
export interface ContainerResources {
  readonly cpuRequest: string;
  readonly cpuLimit: string;
  readonly memoryRequest: string;
  readonly memoryLimit: string;
}

export interface ZooKeeperValues {
  /** Ensemble size; odd, so that a majority survives the loss of (n-1)/2 members. */
  readonly replicas: number;
  readonly resources: ContainerResources;
  /** JVM heap; must leave room for off-heap memory under the memory limit. */
  readonly heapMegabytes: number;
  readonly dataStorage: string;
  readonly transactionLogStorage: string;
  readonly tickTimeMs: number;
  readonly maxSessionTimeoutMs: number;
  /** How many snapshots (and their transaction logs) autopurge keeps. */
  readonly snapRetainCount: number;
  /** Hours between autopurge runs; 0 disables autopurge. */
  readonly purgeIntervalHours: number;
}

/** SASL (CRAM-MD5) authentication of frameworks and agents against the masters. */
export interface MesosAuthValues {
  readonly enabled: boolean;
  /**
   * Secret (created out of band, e.g. by Vault or sealed-secrets: credentials are never
   * committed) holding `credentials.json` for the masters, `agent-credential` for agents and
   * `marathon-secret` for Marathon's principal.
   */
  readonly secretName: string;
  readonly agentPrincipal: string;
  readonly marathonPrincipal: string;
}

export interface MesosMasterValues {
  /** Odd: the replicated log needs a majority (the quorum) of masters. */
  readonly replicas: number;
  readonly resources: ContainerResources;
  readonly exporterResources: ContainerResources;
  readonly workDirStorage: string;
  /** Mesos duration, e.g. `1secs`. */
  readonly allocationInterval: string;
  readonly clusterName: string;
}

/** What each agent offers to frameworks. */
export interface AdvertisedResources {
  readonly cpus: number;
  readonly memoryMegabytes: number;
  readonly diskMegabytes: number;
  readonly portRange: readonly [number, number];
}

export interface MesosAgentValues {
  readonly resources: ContainerResources;
  readonly exporterResources: ContainerResources;
  readonly advertised: AdvertisedResources;
  /**
   * `cgroups` isolates tasks with the cgroups isolators; `posix` (posix/cpu,posix/mem)
   * is for nodes with cgroup v2 only, which the Mesos 1.7 cgroups isolators do not support.
   */
  readonly isolation: 'cgroups' | 'posix';
  /** Nodes that run an agent (a DaemonSet pod each). */
  readonly nodeSelector: Readonly<Record<string, string>>;
}

export interface MarathonValues {
  readonly replicas: number;
  readonly resources: ContainerResources;
  readonly heapMegabytes: number;
}

/** A team sharing the cluster: its namespace and what it may consume. */
export interface TenantValues {
  readonly name: string;
  readonly cpuQuota: string;
  readonly memoryQuota: string;
  readonly podQuota: number;
}

/** The monitoring probe (a DaemonSet on every node); its budget is at most 100m CPU and 100Mi memory. */
export interface ProbeValues {
  readonly resources: ContainerResources;
  /** Seconds between full reports. */
  readonly intervalSeconds: number;
}

/** The Argo Rollouts canary of the monitoring app: traffic weights, each followed by a pause. */
export interface CanaryValues {
  /** Ascending weights in percent, the last one 100. */
  readonly weights: readonly number[];
  /** Pause after each weight below 100, in seconds. */
  readonly pauseSeconds: number;
  /** How often the background analysis queries Prometheus, in seconds. */
  readonly analysisIntervalSeconds: number;
}

export interface MonitoringAppValues {
  readonly replicas: number;
  readonly resources: ContainerResources;
  /** Public host name of the app's Ingress (TLS). */
  readonly host: string;
  readonly canary: CanaryValues;
}

/** One ZooKeeper migration the sync engine runs (one Deployment each). */
export interface ZkSyncMigrationValues {
  /** DNS-label name of the migration; the Deployment is `zk-sync-<name>`. */
  readonly name: string;
  /** Source connect string with optional chroot, e.g. `zk-old-0.example:2181/mesos`. */
  readonly source: string;
  readonly target: string;
  readonly mode: 'one-way' | 'bidirectional';
  readonly conflicts: 'last-write-wins' | 'source-wins' | 'manual';
  /** Subtrees to sync; empty means the whole tree. */
  readonly paths: readonly string[];
  /**
   * Secret holding `source-auth` and `target-auth` (ZooKeeper digest credentials,
   * `user:password`), created out of band or rendered by the Vault Agent.
   */
  readonly credentialsSecret: string;
  /** Address ranges of the source and target ensembles outside the cluster (NetworkPolicy egress). */
  readonly externalCidrs: readonly string[];
}

export interface ZkSyncValues {
  readonly resources: ContainerResources;
  readonly migrations: readonly ZkSyncMigrationValues[];
}

export interface PrometheusValues {
  readonly resources: ContainerResources;
  /** TSDB retention, Prometheus duration syntax, e.g. `15d`. */
  readonly retention: string;
  readonly storage: string;
  readonly scrapeIntervalSeconds: number;
}

export interface GrafanaValues {
  readonly resources: ContainerResources;
  /** Public host name of Grafana's Ingress (TLS). */
  readonly host: string;
  /** Secret with `admin-user` and `admin-password`, created out of band. */
  readonly adminSecretName: string;
}

/** Addresses the NetworkPolicies need to name: what is not a pod of ours. */
export interface NetworkValues {
  /** Node addresses: host-network pods (Mesos agents, probes) and kubelets reach pods from these. */
  readonly nodeCidrs: readonly string[];
  /** Addresses of the Kubernetes API server (the probe and Prometheus talk to it). */
  readonly apiServerCidrs: readonly string[];
  /** Namespace of the NGINX Ingress controller (installed by its Argo CD Application). */
  readonly ingressNamespace: string;
  /** Namespace of the Argo Rollouts controller (Prometheus scrapes its metrics). */
  readonly rolloutsNamespace: string;
}

/**
 * TLS. Public certificates come from an ACME ClusterIssuer created out of band; every in-cluster
 * certificate comes from the environment's own CA, which cert-manager resources in dist/ create
 * (constructs/security/tls.ts): one Certificate per service, written to the Secrets named here.
 */
export interface TlsValues {
  /** cert-manager ClusterIssuer named on the public Ingresses (ingress-shim issues their certificates); created out of band. */
  readonly clusterIssuer: string;
  /**
   * Secret (`tls.crt`, `tls.key`, `ca.crt`) of the app's in-cluster certificate for
   * `monitoring-app.<ns>.svc`, written by cert-manager: the Ingress controller, probes and
   * Prometheus verify it.
   */
  readonly appInternalSecret: string;
  /**
   * Secret with `ca.crt` (the environment's CA) in the main and host namespaces, written by
   * cert-manager from a `platform-ca` Certificate of each namespace: what clients verify with.
   */
  readonly caSecret: string;
  /**
   * Secret with key `password` (created out of band, never committed) that encrypts the Java key
   * stores cert-manager writes for Marathon's HTTPS; cert-manager and Marathon both read it.
   */
  readonly keystorePasswordSecret: string;
}

/** HashiCorp Vault Agent injector as the source of secrets (instead of Secrets mounted by name). */
export interface VaultValues {
  readonly enabled: boolean;
  /** Vault Kubernetes-auth role the pods log in with. */
  readonly role: string;
  /** KV path prefix, e.g. `secret/data/orchestrator/prod`. */
  readonly pathPrefix: string;
}

/** A third-party controller installed from its upstream Helm chart by an Argo CD Application. */
export interface HelmControllerValues {
  readonly chartVersion: string;
  readonly namespace: string;
  readonly replicas: number;
  readonly resources: ContainerResources;
}

export interface GitOpsValues {
  /** API server of the environment's cluster as registered in Argo CD. */
  readonly destinationServer: string;
  /** Branch or tag Argo CD follows for dist/<env>. */
  readonly targetRevision: string;
  readonly controllers: {
    readonly ingressNginx: HelmControllerValues;
    readonly argoRollouts: HelmControllerValues;
    readonly certManager: HelmControllerValues;
  };
}

export interface EnvironmentValues {
  readonly name: EnvironmentName;
  /** Namespace of the orchestration layer (ZooKeeper, masters, Marathon). */
  readonly namespace: string;
  /**
   * Namespace of the host-level daemons (Mesos agents): they need privileges that the
   * restricted Pod Security profile of the main namespace forbids.
   */
  readonly hostNamespace: string;
  /** DNS suffix of in-cluster names, e.g. `cluster.local`. */
  readonly clusterDomain: string;
  /** Public domain under which the platform's endpoints are exposed. */
  readonly domain: string;
  /** StorageClass of every PersistentVolumeClaim. */
  readonly storageClass: string;
  readonly images: {
    readonly zookeeper: ImageRef;
    readonly mesosMaster: ImageRef;
    readonly mesosAgent: ImageRef;
    readonly mesosExporter: ImageRef;
    readonly marathon: ImageRef;
    /** This project's own image (probe, app, zk-sync); its tag is promoted per environment. */
    readonly orchestrator: ImageRef;
    readonly prometheus: ImageRef;
    readonly grafana: ImageRef;
    /** TLS client sidecar of the pods that talk to ZooKeeper (lib/zookeeper-tunnel.ts). */
    readonly ghostunnel: ImageRef;
  };
  readonly mesosAuth: MesosAuthValues;
  readonly zookeeper: ZooKeeperValues;
  readonly mesosMaster: MesosMasterValues;
  readonly mesosAgent: MesosAgentValues;
  readonly marathon: MarathonValues;
  readonly tenants: readonly TenantValues[];
  readonly probe: ProbeValues;
  readonly app: MonitoringAppValues;
  readonly zkSync: ZkSyncValues;
  readonly prometheus: PrometheusValues;
  readonly grafana: GrafanaValues;
  readonly network: NetworkValues;
  readonly tls: TlsValues;
  readonly vault: VaultValues;
  readonly gitops: GitOpsValues;
}

/** Upstream images, pinned; mirror them into a private registry for production use. */
const UPSTREAM_IMAGES = {
  zookeeper: { repository: 'docker.io/library/zookeeper', tag: '3.8.4' },
  mesosMaster: { repository: 'docker.io/mesosphere/mesos-master', tag: '1.7.0' },
  mesosAgent: { repository: 'docker.io/mesosphere/mesos-slave', tag: '1.7.0' },
  mesosExporter: { repository: 'docker.io/mesosphere/mesos-exporter', tag: 'v1.1.2' },
  marathon: { repository: 'docker.io/mesosphere/marathon', tag: 'v1.11.24' },
  // The same Prometheus release as the promtool the tests check the rules with (Debian 12: 2.42).
  prometheus: { repository: 'quay.io/prometheus/prometheus', tag: 'v2.42.0' },
  grafana: { repository: 'docker.io/grafana/grafana', tag: '10.4.2' },
  // Distroless variant (gcr.io/distroless/base-nossl:nonroot): no shell, uid 65532.
  ghostunnel: { repository: 'docker.io/ghostunnel/ghostunnel', tag: 'v1.11.1-distroless' },
} as const;

/** The git repository Argo CD reads dist/<env> from. */
export const GIT_REPOSITORY = 'https://github.com/orchestrator/orchestrator.git';

/** Upstream Helm repositories of the third-party controllers (the AppProject allows exactly these). */
export const HELM_REPOSITORIES = {
  ingressNginx: 'https://kubernetes.github.io/ingress-nginx',
  argoRollouts: 'https://argoproj.github.io/argo-helm',
  certManager: 'https://charts.jetstack.io',
} as const;

function controllers(replicas: number, small: ContainerResources): GitOpsValues['controllers'] {
  return {
    ingressNginx: { chartVersion: '4.11.3', namespace: 'ingress-nginx', replicas, resources: small },
    // 2.41.0 installs Argo Rollouts v1.9.0, whose CRD schemas equal the v1.9.1 CRDs in crds/
    // that dist/ is validated against (2.40.5 installed v1.8.3). docs/operations.md, "Versions checked".
    argoRollouts: { chartVersion: '2.41.0', namespace: 'argo-rollouts', replicas, resources: small },
    certManager: { chartVersion: 'v1.15.3', namespace: 'cert-manager', replicas: 1, resources: small },
  };
}

/** Address plan of the example clusters; replace with the real node and API server ranges. */
function network(nodeCidr: string, apiServerCidr: string): NetworkValues {
  return { nodeCidrs: [nodeCidr], apiServerCidrs: [apiServerCidr], ingressNamespace: 'ingress-nginx', rolloutsNamespace: 'argo-rollouts' };
}

const ORCHESTRATOR_REPOSITORY = 'ghcr.io/orchestrator/orchestrator';

function orchestratorImage(env: EnvironmentName): ImageRef {
  const tag = (releases as Record<string, string>)[env];
  if (!tag) throw new Error(`constructs/releases.json has no image tag for environment "${env}"`);
  return { repository: ORCHESTRATOR_REPOSITORY, tag };
}

export const dev: EnvironmentValues = {
  name: 'dev',
  namespace: 'orchestrator-dev',
  hostNamespace: 'orchestrator-dev-hosts',
  clusterDomain: 'cluster.local',
  domain: 'dev.orchestrator.example.com',
  storageClass: 'standard',
  images: { ...UPSTREAM_IMAGES, orchestrator: orchestratorImage('dev') },
  mesosAuth: { enabled: false, secretName: 'mesos-credentials', agentPrincipal: 'agent', marathonPrincipal: 'marathon' },
  zookeeper: {
    replicas: 1,
    resources: { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '512Mi', memoryLimit: '512Mi' },
    heapMegabytes: 256,
    dataStorage: '2Gi',
    transactionLogStorage: '2Gi',
    tickTimeMs: 2000,
    maxSessionTimeoutMs: 60000,
    snapRetainCount: 3,
    purgeIntervalHours: 1,
  },
  mesosMaster: {
    replicas: 1,
    resources: { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '512Mi', memoryLimit: '512Mi' },
    exporterResources: { cpuRequest: '10m', cpuLimit: '100m', memoryRequest: '32Mi', memoryLimit: '64Mi' },
    workDirStorage: '2Gi',
    allocationInterval: '1secs',
    clusterName: 'orchestrator-dev',
  },
  mesosAgent: {
    resources: { cpuRequest: '100m', cpuLimit: '1', memoryRequest: '256Mi', memoryLimit: '512Mi' },
    exporterResources: { cpuRequest: '10m', cpuLimit: '100m', memoryRequest: '32Mi', memoryLimit: '64Mi' },
    advertised: { cpus: 2, memoryMegabytes: 2048, diskMegabytes: 10240, portRange: [31000, 31999] },
    isolation: 'posix',
    nodeSelector: { 'orchestrator.io/mesos-agent': 'true' },
  },
  marathon: {
    replicas: 1,
    resources: { cpuRequest: '100m', cpuLimit: '1', memoryRequest: '768Mi', memoryLimit: '768Mi' },
    heapMegabytes: 512,
  },
  tenants: [{ name: 'sandbox', cpuQuota: '4', memoryQuota: '8Gi', podQuota: 50 }],
  probe: {
    resources: { cpuRequest: '20m', cpuLimit: '100m', memoryRequest: '64Mi', memoryLimit: '100Mi' },
    intervalSeconds: 15,
  },
  app: {
    replicas: 1,
    resources: { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '256Mi', memoryLimit: '512Mi' },
    host: 'monitor.dev.orchestrator.example.com',
    canary: { weights: [10, 25, 50, 75, 100], pauseSeconds: 30, analysisIntervalSeconds: 30 },
  },
  zkSync: {
    resources: { cpuRequest: '100m', cpuLimit: '1', memoryRequest: '128Mi', memoryLimit: '512Mi' },
    migrations: [],
  },
  prometheus: {
    resources: { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '512Mi', memoryLimit: '1Gi' },
    retention: '3d',
    storage: '10Gi',
    scrapeIntervalSeconds: 15,
  },
  grafana: {
    resources: { cpuRequest: '50m', cpuLimit: '500m', memoryRequest: '128Mi', memoryLimit: '256Mi' },
    host: 'grafana.dev.orchestrator.example.com',
    adminSecretName: 'grafana-admin',
  },
  network: network('10.10.0.0/16', '10.10.255.1/32'),
  tls: { clusterIssuer: 'letsencrypt-staging', appInternalSecret: 'monitoring-app-internal-tls', caSecret: 'platform-ca', keystorePasswordSecret: 'marathon-keystore-password' },
  vault: { enabled: false, role: 'orchestrator-dev', pathPrefix: 'secret/data/orchestrator/dev' },
  gitops: {
    destinationServer: 'https://dev.k8s.orchestrator.example.com',
    targetRevision: 'main',
    controllers: controllers(1, { cpuRequest: '50m', cpuLimit: '500m', memoryRequest: '128Mi', memoryLimit: '256Mi' }),
  },
};

export const staging: EnvironmentValues = {
  name: 'staging',
  namespace: 'orchestrator-staging',
  hostNamespace: 'orchestrator-staging-hosts',
  clusterDomain: 'cluster.local',
  domain: 'staging.orchestrator.example.com',
  storageClass: 'standard',
  images: { ...UPSTREAM_IMAGES, orchestrator: orchestratorImage('staging') },
  mesosAuth: { enabled: true, secretName: 'mesos-credentials', agentPrincipal: 'agent', marathonPrincipal: 'marathon' },
  zookeeper: {
    replicas: 3,
    resources: { cpuRequest: '250m', cpuLimit: '1', memoryRequest: '1Gi', memoryLimit: '1Gi' },
    heapMegabytes: 512,
    dataStorage: '10Gi',
    transactionLogStorage: '10Gi',
    tickTimeMs: 2000,
    maxSessionTimeoutMs: 60000,
    snapRetainCount: 5,
    purgeIntervalHours: 6,
  },
  mesosMaster: {
    replicas: 3,
    resources: { cpuRequest: '250m', cpuLimit: '1', memoryRequest: '1Gi', memoryLimit: '1Gi' },
    exporterResources: { cpuRequest: '10m', cpuLimit: '100m', memoryRequest: '32Mi', memoryLimit: '64Mi' },
    workDirStorage: '10Gi',
    allocationInterval: '1secs',
    clusterName: 'orchestrator-staging',
  },
  mesosAgent: {
    resources: { cpuRequest: '250m', cpuLimit: '2', memoryRequest: '512Mi', memoryLimit: '1Gi' },
    exporterResources: { cpuRequest: '10m', cpuLimit: '100m', memoryRequest: '32Mi', memoryLimit: '64Mi' },
    advertised: { cpus: 8, memoryMegabytes: 16384, diskMegabytes: 102400, portRange: [31000, 32000] },
    isolation: 'cgroups',
    nodeSelector: { 'orchestrator.io/mesos-agent': 'true' },
  },
  marathon: {
    replicas: 3,
    resources: { cpuRequest: '250m', cpuLimit: '1', memoryRequest: '1536Mi', memoryLimit: '1536Mi' },
    heapMegabytes: 1024,
  },
  tenants: [
    { name: 'payments', cpuQuota: '16', memoryQuota: '32Gi', podQuota: 200 },
    { name: 'search', cpuQuota: '16', memoryQuota: '32Gi', podQuota: 200 },
  ],
  probe: {
    resources: { cpuRequest: '50m', cpuLimit: '100m', memoryRequest: '64Mi', memoryLimit: '100Mi' },
    intervalSeconds: 15,
  },
  app: {
    replicas: 2,
    resources: { cpuRequest: '250m', cpuLimit: '1', memoryRequest: '512Mi', memoryLimit: '1Gi' },
    host: 'monitor.staging.orchestrator.example.com',
    canary: { weights: [10, 25, 50, 75, 100], pauseSeconds: 120, analysisIntervalSeconds: 30 },
  },
  zkSync: {
    resources: { cpuRequest: '100m', cpuLimit: '1', memoryRequest: '128Mi', memoryLimit: '512Mi' },
    migrations: [{
      name: 'legacy-mesos',
      source: 'zk-legacy-1.staging.internal:2181,zk-legacy-2.staging.internal:2181,zk-legacy-3.staging.internal:2181/mesos',
      target: 'zookeeper.orchestrator-staging.svc.cluster.local:2181/mesos',
      mode: 'one-way',
      conflicts: 'source-wins',
      paths: [],
      credentialsSecret: 'zk-sync-legacy-mesos',
      externalCidrs: ['10.40.0.0/24'],
    }],
  },
  prometheus: {
    resources: { cpuRequest: '250m', cpuLimit: '1', memoryRequest: '2Gi', memoryLimit: '2Gi' },
    retention: '15d',
    storage: '50Gi',
    scrapeIntervalSeconds: 15,
  },
  grafana: {
    resources: { cpuRequest: '50m', cpuLimit: '500m', memoryRequest: '128Mi', memoryLimit: '256Mi' },
    host: 'grafana.staging.orchestrator.example.com',
    adminSecretName: 'grafana-admin',
  },
  network: network('10.20.0.0/16', '10.20.255.1/32'),
  tls: { clusterIssuer: 'letsencrypt-prod', appInternalSecret: 'monitoring-app-internal-tls', caSecret: 'platform-ca', keystorePasswordSecret: 'marathon-keystore-password' },
  vault: { enabled: true, role: 'orchestrator-staging', pathPrefix: 'secret/data/orchestrator/staging' },
  gitops: {
    destinationServer: 'https://staging.k8s.orchestrator.example.com',
    targetRevision: 'main',
    controllers: controllers(2, { cpuRequest: '50m', cpuLimit: '500m', memoryRequest: '128Mi', memoryLimit: '256Mi' }),
  },
};

export const prod: EnvironmentValues = {
  name: 'prod',
  namespace: 'orchestrator-prod',
  hostNamespace: 'orchestrator-prod-hosts',
  clusterDomain: 'cluster.local',
  domain: 'orchestrator.example.com',
  storageClass: 'fast-ssd',
  images: { ...UPSTREAM_IMAGES, orchestrator: orchestratorImage('prod') },
  mesosAuth: { enabled: true, secretName: 'mesos-credentials', agentPrincipal: 'agent', marathonPrincipal: 'marathon' },
  zookeeper: {
    replicas: 3,
    resources: { cpuRequest: '1', cpuLimit: '2', memoryRequest: '4Gi', memoryLimit: '4Gi' },
    heapMegabytes: 2048,
    dataStorage: '50Gi',
    transactionLogStorage: '50Gi',
    tickTimeMs: 2000,
    maxSessionTimeoutMs: 60000,
    snapRetainCount: 10,
    purgeIntervalHours: 6,
  },
  mesosMaster: {
    replicas: 3,
    resources: { cpuRequest: '1', cpuLimit: '4', memoryRequest: '4Gi', memoryLimit: '4Gi' },
    exporterResources: { cpuRequest: '20m', cpuLimit: '200m', memoryRequest: '64Mi', memoryLimit: '128Mi' },
    workDirStorage: '50Gi',
    allocationInterval: '1secs',
    clusterName: 'orchestrator-prod',
  },
  mesosAgent: {
    resources: { cpuRequest: '500m', cpuLimit: '2', memoryRequest: '1Gi', memoryLimit: '2Gi' },
    exporterResources: { cpuRequest: '20m', cpuLimit: '200m', memoryRequest: '64Mi', memoryLimit: '128Mi' },
    advertised: { cpus: 30, memoryMegabytes: 122880, diskMegabytes: 512000, portRange: [31000, 32000] },
    isolation: 'cgroups',
    nodeSelector: { 'orchestrator.io/mesos-agent': 'true' },
  },
  marathon: {
    replicas: 3,
    resources: { cpuRequest: '1', cpuLimit: '2', memoryRequest: '4Gi', memoryLimit: '4Gi' },
    heapMegabytes: 3072,
  },
  tenants: [
    { name: 'payments', cpuQuota: '64', memoryQuota: '256Gi', podQuota: 1000 },
    { name: 'search', cpuQuota: '128', memoryQuota: '512Gi', podQuota: 2000 },
    { name: 'analytics', cpuQuota: '64', memoryQuota: '256Gi', podQuota: 500 },
  ],
  probe: {
    resources: { cpuRequest: '50m', cpuLimit: '100m', memoryRequest: '64Mi', memoryLimit: '100Mi' },
    intervalSeconds: 15,
  },
  app: {
    replicas: 3,
    resources: { cpuRequest: '500m', cpuLimit: '2', memoryRequest: '1Gi', memoryLimit: '2Gi' },
    host: 'monitor.orchestrator.example.com',
    canary: { weights: [10, 25, 50, 75, 100], pauseSeconds: 300, analysisIntervalSeconds: 60 },
  },
  zkSync: {
    resources: { cpuRequest: '100m', cpuLimit: '1', memoryRequest: '128Mi', memoryLimit: '512Mi' },
    migrations: [
      {
        name: 'legacy-mesos',
        source: 'zk-legacy-1.prod.internal:2181,zk-legacy-2.prod.internal:2181,zk-legacy-3.prod.internal:2181/mesos',
        target: 'zookeeper.orchestrator-prod.svc.cluster.local:2181/mesos',
        mode: 'one-way',
        conflicts: 'source-wins',
        paths: [],
        credentialsSecret: 'zk-sync-legacy-mesos',
        externalCidrs: ['10.50.0.0/24'],
      },
      {
        name: 'legacy-marathon',
        source: 'zk-legacy-1.prod.internal:2181,zk-legacy-2.prod.internal:2181,zk-legacy-3.prod.internal:2181/marathon',
        target: 'zookeeper.orchestrator-prod.svc.cluster.local:2181/marathon',
        mode: 'bidirectional',
        conflicts: 'manual',
        paths: ['/state'],
        credentialsSecret: 'zk-sync-legacy-marathon',
        externalCidrs: ['10.50.0.0/24'],
      },
    ],
  },
  prometheus: {
    resources: { cpuRequest: '1', cpuLimit: '2', memoryRequest: '8Gi', memoryLimit: '8Gi' },
    retention: '30d',
    storage: '200Gi',
    scrapeIntervalSeconds: 15,
  },
  grafana: {
    resources: { cpuRequest: '50m', cpuLimit: '500m', memoryRequest: '128Mi', memoryLimit: '256Mi' },
    host: 'grafana.orchestrator.example.com',
    adminSecretName: 'grafana-admin',
  },
  network: network('10.30.0.0/16', '10.30.255.1/32'),
  tls: { clusterIssuer: 'letsencrypt-prod', appInternalSecret: 'monitoring-app-internal-tls', caSecret: 'platform-ca', keystorePasswordSecret: 'marathon-keystore-password' },
  vault: { enabled: true, role: 'orchestrator-prod', pathPrefix: 'secret/data/orchestrator/prod' },
  gitops: {
    destinationServer: 'https://prod.k8s.orchestrator.example.com',
    targetRevision: 'main',
    controllers: controllers(2, { cpuRequest: '50m', cpuLimit: '500m', memoryRequest: '128Mi', memoryLimit: '256Mi' }),
  },
};

export const ENVIRONMENTS: Readonly<Record<EnvironmentName, EnvironmentValues>> = { dev, staging, prod };
