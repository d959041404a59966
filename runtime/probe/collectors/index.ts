/**
 * The collectors a probe runs, in pass order. Order matters where one collector
 * reads another's pass: connections uses the process table of the same pass,
 * and containers parents each container's main process through it.
 *
 * Containers (Docker Engine API) trigger immediate delta reports on container
 * events through `trigger`; Kubernetes is added only inside a cluster.
 */
import type { Collector, ProbeIdentity } from '../collector';
import { DockerEngine } from '../engine/docker-engine';
import { ConnectionsCollector } from './connections';
import { ContainersCollector } from './containers';
import { HostCollector } from './host';
import { KubernetesCollector, type KubernetesAccess } from './kubernetes';
import { ProcessesCollector } from './processes';

export interface DefaultCollectorOptions {
  identity: ProbeIdentity;
  procRoot?: string;
  /** Engine socket; undefined or null leaves the container collector out. */
  engineSocket?: string | null;
  /** False: container nodes offer no controls (`--no-controls`). */
  controls?: boolean;
  /** Asks the probe for an immediate delta pass of the named collector. */
  trigger?: (collector: string) => void;
  /** In-cluster access to the API server; null/undefined leaves the Kubernetes collector out. */
  kubernetes?: KubernetesAccess | null;
  logger?: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

export function defaultCollectors(opts: DefaultCollectorOptions): Collector[] {
  const host = new HostCollector(opts);
  const processes = new ProcessesCollector(opts);
  const connections = new ConnectionsCollector({ ...opts, processes });
  const out: Collector[] = [host, processes, connections];
  if (opts.engineSocket) {
    out.push(
      new ContainersCollector({
        identity: opts.identity,
        engine: new DockerEngine({ socketPath: opts.engineSocket }),
        processes,
        controls: opts.controls ?? true,
        ...(opts.trigger ? { onChange: () => opts.trigger!('containers') } : {}),
        ...(opts.logger ? { logger: opts.logger } : {}),
      }),
    );
  }
  if (opts.kubernetes) {
    out.push(new KubernetesCollector({ identity: opts.identity, access: opts.kubernetes, ...(opts.trigger ? { onChange: () => opts.trigger!('kubernetes') } : {}), ...(opts.logger ? { logger: opts.logger } : {}) }));
  }
  return out;
}

export { HostCollector, ProcessesCollector, ConnectionsCollector, ContainersCollector, KubernetesCollector };
