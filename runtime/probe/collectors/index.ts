/**
 * The collectors a probe runs, in pass order. Order matters where one collector
 * reads another's pass: connections uses the process table of the same pass.
 *
 * Next to plug in here (same `Collector` interface): containers (Docker Engine
 * API through runtime/probe/engine, which also triggers immediate reports on
 * container events via `Probe.trigger`) and Kubernetes (pods, services,
 * controllers of this node).
 */
import type { Collector, ProbeIdentity } from '../collector';
import { ConnectionsCollector } from './connections';
import { HostCollector } from './host';
import { ProcessesCollector } from './processes';

export interface DefaultCollectorOptions {
  identity: ProbeIdentity;
  procRoot?: string;
}

export function defaultCollectors(opts: DefaultCollectorOptions): Collector[] {
  const host = new HostCollector(opts);
  const processes = new ProcessesCollector(opts);
  const connections = new ConnectionsCollector({ ...opts, processes });
  return [host, processes, connections];
}

export { HostCollector, ProcessesCollector, ConnectionsCollector };
