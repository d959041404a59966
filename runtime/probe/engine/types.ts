/**
 * What the container-engine client hands to the probe: plain records with
 * the engine's vocabulary normalised (names without '/', times as numbers),
 * so nothing above this layer parses Docker JSON.
 */
export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerPort {
  privatePort: number;
  publicPort?: number;
  protocol: string;
  ip?: string;
}

export interface EngineContainer {
  id: string;
  name: string;
  image: string;
  imageId: string;
  command: string;
  state: ContainerState;
  status: string;
  /** unix seconds */
  createdAt: number;
  labels: Record<string, string>;
  ports: ContainerPort[];
  /** '' when the engine does not say (Podman's list omits it; inspect has it) */
  networkMode: string;
  ipAddresses: string[];
}

export interface ContainerDetails extends EngineContainer {
  /** 0 when not running */
  pid: number;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  restartCount: number;
  hostname: string;
  /** as given by the engine; the caller decides what to expose */
  env: string[];
  cgroupParent?: string;
}

export interface ContainerStats {
  /** percent of one core (200 = two cores busy), from the cpu/precpu delta */
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  networkRxBytes: number;
  networkTxBytes: number;
  pids: number;
  readAt: string;
}

export interface ContainerEvent {
  id: string;
  /** create, start, die, pause, unpause, stop, destroy, ... */
  action: string;
  /** unix ms */
  time: number;
  attributes: Record<string, string>;
}

export type ContainerControl = 'start' | 'stop' | 'restart' | 'pause' | 'unpause' | 'remove';

export interface EngineVersion {
  apiVersion: string;
  version: string;
  os: string;
  arch: string;
}
