/**
 * A synthetic fleet for tests and bench/app.ts, made from what the real probe
 * records: host and process nodes are copies of those in
 * test/fixtures/reports/probe-loopback.rec (same keys, value kinds and metric
 * rings), renamed per host. Containers, pods and cross-host connections are
 * synthesised in the shapes the probe's report schema gives them, since no
 * recording with containers exists yet (the probe's containers collector is
 * not finished); when one lands in test/fixtures/reports/, its container nodes
 * should replace `containerNode` below.
 */
import { readRecording, containerNodeId, endpointNodeId, hostNodeId, podNodeId, processNodeId, emptyTopologies, diffReports, expandPatches, type FullReport, type Report, type ReportNode, type DeltaReport } from '../../runtime/report';
import { join } from 'node:path';
import { DEFAULT_RING } from '../../runtime/probe/nodes';
import { DEFAULT_FULL_EVERY } from '../../runtime/probe/probe';

export const RECORDING = join(__dirname, '../fixtures/reports/probe-loopback.rec');

export interface Templates {
  host: ReportNode;
  process: ReportNode;
}

/** Host and process node templates from the recording. */
export async function loadTemplates(path = RECORDING): Promise<Templates> {
  const reports = await readRecording(path);
  const full = reports.find((r) => r.kind === 'full')!;
  const host = Object.values(full.topologies.host.nodes)[0]!;
  const process = Object.values(full.topologies.process.nodes)[0]!;
  return { host, process };
}

export interface FleetShape {
  probes: number;
  containersPerProbe: number;
  processesPerProbe: number;
  /** Client connections per probe to a server on the next host. */
  connectionsPerProbe: number;
  /**
   * Samples per metric in a report: default the probe's (runtime/probe/nodes.ts `DEFAULT_RING`, the
   * newest sample; the app keeps the history). 8 is what probes sent before that.
   */
  ring?: number;
  /**
   * Rings that slide as the real probe's do (runtime/probe/nodes.ts `SampleRing`): each pass adds
   * one sample at the pass's time and the earlier ones stay as they were (same time, same value).
   * Without it every sample is recomputed from the report's time, so all of them change whenever
   * two reports are not exactly 15 s apart: eight new samples per metric per report where a real
   * probe sends one (the bench's replay timer is never that exact).
   */
  slidingRings?: boolean;
  /**
   * Deltas carry a changed node of the base whole, not as a patch (schema.ts NodePatch). Default
   * false: patches, as the probe sends them (runtime/probe/probe.ts: a full report every
   * DEFAULT_FULL_EVERY passes, deltas with patches between, since round 12). Whole nodes are what
   * an app from before patch deltas takes (for an A/B against such a build), and cost the app
   * about what the full report every interval that probes sent before then did.
   */
  wholeDeltas?: boolean;
}

/**
 * A deterministic hex string per `n`, distinct for distinct `n` (32-bit integer
 * arithmetic: the float products this once used lost precision beyond 2^53, so
 * container ids of different hosts collided once a fleet had a few hundred hosts).
 */
function hex(n: number, len: number): string {
  let s = (n >>> 0).toString(16).padStart(8, '0');
  let x = (Math.imul(n ^ 0x9e3779b9, 0x85ebca6b) ^ 12345) >>> 0;
  while (s.length < len) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    s += x.toString(16).padStart(8, '0');
  }
  return s.slice(0, len);
}

const IMAGES = ['docker.io/library/nginx:1.25', 'docker.io/library/redis:7.2', 'quay.io/prometheus/node-exporter:v1.7.0', 'registry.local/shop/api:2.3.1', 'registry.local/shop/web:2.3.1', 'docker.io/library/postgres:16'];
const NAMES = ['nginx', 'redis-server', 'node_exporter', 'api', 'web', 'postgres', 'sshd', 'systemd-journal', 'containerd-shim', 'kubelet'];
const NAMESPACES = ['shop', 'monitoring', 'kube-system'];

function latest(values: Record<string, string | number | boolean>, ts: number): ReportNode['latest'] {
  const out: Record<string, { ts: number; v: string | number | boolean }> = {};
  for (const [k, v] of Object.entries(values)) out[k] = { ts, v };
  return out;
}

/** A ring of samples at the given times; each sample's value depends only on its time (and seed). */
function ringAt(times: readonly number[], seed: number, scale: number): { samples: Array<[number, number]> } {
  return { samples: times.map((t): [number, number] => [t, Math.round(((Math.sin(seed + t / 15_000) + 1) * scale) * 100) / 100]) };
}

function recomputedRing(ts: number, n: number, seed: number, scale: number): { samples: Array<[number, number]> } {
  const samples: Array<[number, number]> = [];
  const step = Math.max(1, Math.min(15_000, Math.floor(ts / n)));
  for (let i = n - 1; i >= 0; i--) samples.push([ts - i * step, Math.round(((Math.sin(seed + ts / 15_000 - i) + 1) * scale) * 100) / 100]);
  return { samples };
}

/** One simulated probe: builds its reports pass after pass. */
export class SimProbe {
  readonly hostname: string;
  readonly hostId: string;
  readonly probeId: string;
  seq = 0;
  private base: FullReport | null = null;
  private paused = new Set<number>();
  /** With `slidingRings`: the times of the last passes, oldest first (the rings' sample times). */
  private passTimes: number[] = [];

  constructor(
    readonly index: number,
    private readonly shape: FleetShape,
    private readonly t: Templates,
    generation = 0,
  ) {
    this.hostname = `host-${String(index).padStart(4, '0')}`;
    this.hostId = hostNodeId(this.hostname);
    this.probeId = `${this.hostname}/${hex(index + generation * 7919, 8)}`;
  }

  /** Address of this host (10.x.y.z, unique per index). */
  address(i = this.index): string {
    return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${(i & 255) + 1}`.replace(/\.0\.0\.(\d+)$/, '.0.0.$1');
  }

  containerId(c: number): string {
    return hex(this.index * 1000 + c, 64);
  }

  /** Toggles a container between running and paused (a change the views show). */
  flip(c: number): void {
    if (this.paused.has(c)) this.paused.delete(c);
    else this.paused.add(c);
  }

  full(now: number): FullReport {
    const s = this.shape;
    const ringN = s.ring ?? DEFAULT_RING;
    if (s.slidingRings) {
      // The first pass starts with a full ring (as a probe that has run for a while), at 15 s steps.
      if (this.passTimes.length === 0) for (let i = ringN - 1; i > 0; i--) this.passTimes.push(now - i * 15_000);
      this.passTimes.push(now);
      if (this.passTimes.length > ringN) this.passTimes.splice(0, this.passTimes.length - ringN);
    }
    const times = this.passTimes;
    const ring = (ts: number, n: number, seed: number, scale: number): { samples: Array<[number, number]> } => (s.slidingRings ? ringAt(times, seed, scale) : recomputedRing(ts, n, seed, scale));
    const topo = emptyTopologies();
    const host: ReportNode = {
      ...this.t.host,
      latest: { ...this.t.host.latest, ...latest({ hostname: this.hostname }, 1) },
      metrics: { load1: ring(now, ringN, this.index, 2), memory_used_bytes: ring(now, ringN, this.index, 4e9), cpu_percent: ring(now, ringN, this.index + 1, 30) },
    };
    topo.host.nodes = { [this.hostId]: host };
    const processes: Record<string, ReportNode> = {};
    const containers: Record<string, ReportNode> = {};
    const pods: Record<string, ReportNode> = {};
    const endpoints: Record<string, ReportNode> = {};
    const procIds: string[] = [];
    for (let p = 0; p < s.processesPerProbe; p++) {
      const pid = 100 + p;
      const id = processNodeId(this.hostname, pid, 1000 + p);
      procIds.push(id);
      const c = s.containersPerProbe > 0 && p < s.containersPerProbe * 2 ? Math.floor(p / 2) : -1;
      const name = NAMES[p % NAMES.length]!;
      processes[id] = {
        latest: {
          ...this.t.process.latest,
          ...latest({ pid, ppid: 1, name, cmdline: `/usr/bin/${name} --serve --port ${8000 + p}`, threads: 4, open_fds: 20 + p, started_at: 1_700_000_000_000 + p }, 1),
        },
        metrics: { cpu_percent: ring(now, ringN, p, 5), memory_rss_bytes: ring(now, ringN, p + 3, 5e7) },
        adjacency: [],
        parents: c >= 0 ? { container: [containerNodeId(this.containerId(c))], host: [this.hostId] } : { host: [this.hostId] },
      };
    }
    for (let c = 0; c < s.containersPerProbe; c++) {
      const cid = containerNodeId(this.containerId(c));
      const image = IMAGES[c % IMAGES.length]!;
      const podUid = `${hex(this.index * 1000 + c, 8)}-${hex(c, 4)}-${hex(this.index, 4)}`;
      const podId = podNodeId(podUid);
      const ns = NAMESPACES[c % NAMESPACES.length]!;
      containers[cid] = {
        latest: latest({ name: `${image.split('/').pop()!.split(':')[0]}-${this.index}-${c}`, image, state: this.paused.has(c) ? 'paused' : 'running', namespace: ns, command: '/entrypoint.sh' }, 1),
        metrics: { cpu_percent: ring(now, ringN, c, 10), memory_bytes: ring(now, ringN, c + 1, 1e8) },
        adjacency: [],
        parents: { host: [this.hostId], pod: [podId] },
        controls: { ts: 1, ids: this.paused.has(c) ? ['logs', 'restart', 'stop', 'unpause'] : ['logs', 'pause', 'restart', 'stop'] },
      };
      pods[podId] = { latest: latest({ name: `pod-${this.index}-${c}`, namespace: ns }, 1), metrics: {}, adjacency: [], parents: { host: [this.hostId] } };
    }
    // Servers: the first process listens on 8080; clients connect to the next host's server.
    if (procIds.length > 0) {
      const server = endpointNodeId(this.address(), 8080);
      endpoints[server] = { latest: {}, metrics: {}, adjacency: [], parents: { host: [this.hostId], process: [procIds[0]!] } };
      for (let k = 0; k < s.connectionsPerProbe && k + 1 < procIds.length; k++) {
        const peer = (this.index + 1 + k) % s.probes;
        if (peer === this.index) continue;
        const target = endpointNodeId(this.address(peer), 8080);
        const src = procIds[1 + (k % (procIds.length - 1))]!;
        const n = processes[src]!;
        processes[src] = { ...n, adjacency: [...new Set([...n.adjacency, target])].sort() };
        endpoints[target] ??= { latest: {}, metrics: {}, adjacency: [], parents: {} };
      }
    }
    topo.process.nodes = processes;
    topo.container.nodes = containers;
    topo.pod.nodes = pods;
    topo.endpoint.nodes = endpoints;
    this.seq++;
    return { version: 1, kind: 'full', probeId: this.probeId, hostId: this.hostId, seq: this.seq, timestamp: now, topologies: topo, errors: [] };
  }

  /** The next report: a full one every `fullEvery` reports, deltas against the last full one between (as the probe does). */
  next(now: number, fullEvery = DEFAULT_FULL_EVERY): Report {
    const f = this.full(now);
    if (this.base === null || (f.seq - this.base.seq) >= fullEvery) {
      this.base = f;
      return f;
    }
    const d: DeltaReport = diffReports(this.base, f);
    return this.shape.wholeDeltas === true ? expandPatches(d, this.base) : d;
  }
}

/** A seeded xorshift generator of numbers in [0, 1): the same sequence for the same seed (property tests). */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}
