/**
 * The host node: what the machine is (hostname, kernel, OS, CPUs, memory size,
 * boot time) and how it is doing (load, memory in use, CPU busy %, uptime).
 *
 * Sources: os.hostname/release/version/availableParallelism, and under the proc
 * root: loadavg, meminfo, uptime, stat (CPU jiffies); /etc/os-release for the
 * OS, read once (it changes only with an upgrade, which restarts the probe).
 */
import { availableParallelism, release, version } from 'node:os';
import { readFileSync } from 'node:fs';
import type { ReportNode } from '../../report';
import { CollectorFailure, type Collector, type CollectorResult, type ProbeIdentity } from '../collector';
import { DEFAULT_RING, LatestMemory, SampleRing, round2 } from '../nodes';
import { ProcReader } from '../procfs/reader';

export interface HostCollectorOptions {
  identity: ProbeIdentity;
  procRoot?: string;
  osReleasePath?: string;
  ring?: number;
}

export interface OsRelease {
  name: string;
  id: string;
  versionId: string;
}

/** Parses /etc/os-release (KEY=value lines, values optionally quoted). */
export function parseOsRelease(text: string): OsRelease {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!;
    if (/^(["']).*\1$/.test(v)) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    kv.set(m[1]!, v);
  }
  return { name: kv.get('PRETTY_NAME') ?? kv.get('NAME') ?? 'Linux', id: kv.get('ID') ?? 'linux', versionId: kv.get('VERSION_ID') ?? '' };
}

/** MemTotal and MemAvailable from /proc/meminfo, in bytes. */
export function parseMeminfo(text: string): { total: number; available: number } {
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : NaN;
  };
  const total = kb('MemTotal');
  let available = kb('MemAvailable');
  if (Number.isNaN(available)) available = kb('MemFree') + kb('Buffers') + kb('Cached');
  return { total, available };
}

/** Busy and total jiffies of all CPUs from the first line of /proc/stat. */
export function parseCpuLine(text: string): { busy: number; total: number } {
  const line = text.slice(0, text.indexOf('\n'));
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return { busy: total - idle, total };
}

export class HostCollector implements Collector {
  readonly name = 'host';
  private readonly reader = new ProcReader(8 * 1024);
  private readonly procRoot: string;
  private readonly os: OsRelease;
  private readonly latest = new LatestMemory();
  private readonly rings: Record<string, SampleRing>;
  private prevCpu: { busy: number; total: number } | null = null;

  constructor(private readonly opts: HostCollectorOptions) {
    this.procRoot = opts.procRoot ?? '/proc';
    let osText = '';
    try {
      osText = readFileSync(opts.osReleasePath ?? '/etc/os-release', 'utf8');
    } catch {
      // no os-release (minimal images): report plain "Linux"
    }
    this.os = parseOsRelease(osText);
    const ring = opts.ring ?? DEFAULT_RING;
    this.rings = Object.fromEntries(
      ['load1', 'load5', 'load15', 'memory_used_bytes', 'cpu_percent'].map((k) => [k, new SampleRing(ring)]),
    );
  }

  private text(file: string): string {
    try {
      return this.reader.readText(`${this.procRoot}/${file}`, 'latin1');
    } catch (err) {
      throw new CollectorFailure('E_HOST_PROC_UNREADABLE', `cannot read ${this.procRoot}/${file}: ${(err as Error).message}`, { cause: err });
    }
  }

  async collect(now: number): Promise<CollectorResult> {
    const load = this.text('loadavg').split(' ').slice(0, 3).map(Number);
    const mem = parseMeminfo(this.text('meminfo'));
    const uptime = Number(this.text('uptime').split(' ')[0]);
    const statText = this.text('stat');
    const cpu = parseCpuLine(statText);
    const btime = /^btime (\d+)$/m.exec(statText);

    const metrics: Record<string, ReturnType<SampleRing['push']>> = {
      load1: this.rings.load1!.push(now, load[0] ?? 0),
      load5: this.rings.load5!.push(now, load[1] ?? 0),
      load15: this.rings.load15!.push(now, load[2] ?? 0),
    };
    if (Number.isFinite(mem.total) && Number.isFinite(mem.available)) {
      metrics.memory_used_bytes = this.rings.memory_used_bytes!.push(now, mem.total - mem.available);
    }
    const prev = this.prevCpu;
    this.prevCpu = cpu;
    if (prev && cpu.total > prev.total) {
      metrics.cpu_percent = this.rings.cpu_percent!.push(now, round2(((cpu.busy - prev.busy) / (cpu.total - prev.total)) * 100));
    } else {
      const current = this.rings.cpu_percent!.current();
      if (current) metrics.cpu_percent = current;
    }

    const { identity } = this.opts;
    const node: ReportNode = {
      latest: this.latest.update(
        {
          hostname: identity.hostname,
          kernel_release: release(),
          kernel_version: version(),
          os: this.os.name,
          os_id: this.os.id,
          os_version_id: this.os.versionId || undefined,
          cpus: availableParallelism(),
          memory_total_bytes: Number.isFinite(mem.total) ? mem.total : undefined,
          boot_time: btime ? Number(btime[1]) * 1000 : undefined,
          uptime_s: Math.floor(uptime),
        },
        now,
      ),
      metrics,
      adjacency: [],
      parents: {},
    };
    return { nodes: { host: { [identity.hostId]: node } }, issues: [] };
  }
}
