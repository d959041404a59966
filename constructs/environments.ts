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
  };
  readonly mesosAuth: MesosAuthValues;
  readonly zookeeper: ZooKeeperValues;
  readonly mesosMaster: MesosMasterValues;
  readonly mesosAgent: MesosAgentValues;
  readonly marathon: MarathonValues;
  readonly tenants: readonly TenantValues[];
}

/** Upstream images, pinned; mirror them into a private registry for production use. */
const UPSTREAM_IMAGES = {
  zookeeper: { repository: 'docker.io/library/zookeeper', tag: '3.8.4' },
  mesosMaster: { repository: 'docker.io/mesosphere/mesos-master', tag: '1.7.0' },
  mesosAgent: { repository: 'docker.io/mesosphere/mesos-slave', tag: '1.7.0' },
  mesosExporter: { repository: 'docker.io/mesosphere/mesos-exporter', tag: 'v1.1.2' },
  marathon: { repository: 'docker.io/mesosphere/marathon', tag: 'v1.11.24' },
} as const;

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
};

export const ENVIRONMENTS: Readonly<Record<EnvironmentName, EnvironmentValues>> = { dev, staging, prod };
