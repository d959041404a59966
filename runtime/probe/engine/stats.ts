/**
 * Decoding `GET /containers/{id}/stats?stream=false` and the CPU percentage.
 *
 * Docker fills `precpu_stats` with the sample taken about a second earlier, so
 * one response carries its own delta. Podman (4.x) leaves `precpu_stats` empty,
 * so the delta is taken against the previous sample this client saw for the
 * same container: at the probe's 15 s interval that is a 15 s average, which
 * is what a report wants anyway. The very first sample of a container then
 * gives 0.
 */
import { asObject, count, fail, isObject, optCount, optObject, optStr, type JsonObject } from './json-read';
import type { ContainerStats } from './types';

export interface CpuSample {
  /** container CPU time, ns */
  total: number;
  /** host CPU time over all cores, ns */
  system: number;
  onlineCpus: number;
}

export interface DecodedStats {
  id: string | undefined;
  stats: Omit<ContainerStats, 'cpuPercent'>;
  cpu: CpuSample | undefined;
  precpu: CpuSample | undefined;
}

function cpuSample(o: JsonObject | undefined, at: string): CpuSample | undefined {
  if (o === undefined) return undefined;
  const usage = optObject(o, 'cpu_usage', at);
  const total = usage && optCount(usage, 'total_usage', `${at}.cpu_usage`);
  const system = optCount(o, 'system_cpu_usage', at);
  // A zero system counter is the "no sample" marker of both engines.
  if (total === undefined || system === undefined || system === 0) return undefined;
  let onlineCpus = optCount(o, 'online_cpus', at);
  if (!onlineCpus) {
    const percpu = usage?.['percpu_usage'];
    onlineCpus = Array.isArray(percpu) && percpu.length > 0 ? percpu.length : 1;
  }
  return { total, system, onlineCpus };
}

/** Percent of one core over the interval between two samples; undefined when they do not form an interval. */
export function cpuPercent(cur: CpuSample, prev: CpuSample): number | undefined {
  const cpuDelta = cur.total - prev.total;
  const systemDelta = cur.system - prev.system;
  if (systemDelta <= 0 || cpuDelta < 0) return undefined;
  // system_cpu_usage counts all cores, so the ratio is a share of the whole host; scale to one core.
  const pct = (cpuDelta / systemDelta) * cur.onlineCpus * 100;
  return Math.min(pct, cur.onlineCpus * 100);
}

/**
 * Memory in use as `docker stats` shows it: usage less the inactive page cache
 * (cgroup v1 `total_inactive_file`, v2 `inactive_file`), which the kernel can
 * drop at will and would otherwise make every container look full.
 */
function memoryInUse(mem: JsonObject, at: string): number {
  const usage = optCount(mem, 'usage', at) ?? 0;
  const detail = optObject(mem, 'stats', at);
  if (detail === undefined) return usage;
  const inactive = optCount(detail, 'total_inactive_file', `${at}.stats`) ?? optCount(detail, 'inactive_file', `${at}.stats`);
  return inactive !== undefined && inactive < usage ? usage - inactive : usage;
}

export function decodeStats(body: unknown): DecodedStats {
  const at = 'GET /containers/{id}/stats';
  const o = asObject(body, at);
  const readAt = optStr(o, 'read', at);
  if (readAt === undefined) fail(`${at}.read`, 'a timestamp', o['read']);

  const mem = optObject(o, 'memory_stats', at) ?? {};
  const pidsStats = optObject(o, 'pids_stats', at);

  // `networks` is absent with host networking; each interface counts separately.
  let rx = 0;
  let tx = 0;
  const networks = optObject(o, 'networks', at);
  if (networks !== undefined) {
    for (const iface in networks) {
      const nat = `${at}.networks["${iface}"]`;
      const n = networks[iface];
      if (!isObject(n)) fail(nat, 'an object', n);
      rx += count(n, 'rx_bytes', nat);
      tx += count(n, 'tx_bytes', nat);
    }
  }

  const id = optStr(o, 'id', at) ?? optStr(o, 'Id', at);
  return {
    id,
    stats: {
      memoryBytes: memoryInUse(mem, `${at}.memory_stats`),
      memoryLimitBytes: optCount(mem, 'limit', `${at}.memory_stats`) ?? 0,
      networkRxBytes: rx,
      networkTxBytes: tx,
      pids: (pidsStats && optCount(pidsStats, 'current', `${at}.pids_stats`)) ?? 0,
      readAt,
    },
    cpu: cpuSample(optObject(o, 'cpu_stats', at), `${at}.cpu_stats`),
    precpu: cpuSample(optObject(o, 'precpu_stats', at), `${at}.precpu_stats`),
  };
}

/**
 * The previous CPU sample per container, for engines without precpu. Bounded:
 * the oldest entry goes when the map is full, so containers that vanished
 * without a final stats call cannot grow it forever.
 */
export class CpuHistory {
  private readonly samples = new Map<string, CpuSample>();

  constructor(private readonly maxEntries = 2048) {}

  /** Records `cur` and returns the percentage against the previous sample, 0 when there is none. */
  next(id: string, cur: CpuSample): number {
    const prev = this.samples.get(id);
    this.samples.delete(id); // re-insert so Map order stays "least recently sampled first"
    this.samples.set(id, cur);
    if (this.samples.size > this.maxEntries) {
      const oldest = this.samples.keys().next();
      if (!oldest.done) this.samples.delete(oldest.value);
    }
    return prev === undefined ? 0 : (cpuPercent(cur, prev) ?? 0);
  }

  forget(id: string): void {
    this.samples.delete(id);
  }
}
