/**
 * The container and container_image topologies, from the Docker Engine API
 * (Docker, or Podman's compatible service) through `DockerEngine`.
 *
 * Per pass: one list of all containers. Inspect only for a container that is
 * new, changed state, or was last inspected over `inspectTtlMs` ago (pid,
 * start time, restart count and exit code come from inspect; the list has the
 * rest). Stats (CPU, memory, network) only for running containers whose last
 * sample is older than `statsMinIntervalMs`, in full passes only, at most `maxStatsPerPass` of them,
 * oldest sample first, `statsConcurrency` at a time: a host with hundreds of
 * containers costs a bounded number of calls per pass, and an event-triggered
 * delta pass (seconds after a full one) calls list and inspect only. Stats are
 * sampled after the full pass that chose them, off its path: a full report
 * carries the samples taken after the previous one (each with its own time).
 *
 * Parents: container → host, container_image, and pod when the container
 * carries Kubernetes' `io.kubernetes.pod.uid` label (the pod node is made from
 * the labels, so pods show up even without API server access). The container's
 * main process (inspect's pid) is parented to it too, through the processes
 * collector's table: the cgroup rule in procfs/cgroup.ts covers the others.
 *
 * The engine's event stream (held open in the background, reconnected with
 * backoff) calls `onChange` on start/stop/die/pause/unpause and the like: the
 * probe then runs a small delta pass at once.
 *
 * Failures: a list that fails throws (the runner puts the error in the report
 * and backs off); inspect or stats failures of single containers, and a broken
 * event stream, are issues of a pass that still reports what it has.
 */
import {
  containerImageNodeId,
  containerNodeId,
  podNodeId,
  LIMITS,
  type ControlId,
  type Metric,
  type NodeControls,
  type ReportNode,
  type TopologyName,
} from '../../report';
import { CollectorFailure, type Collector, type CollectorIssue, type CollectorResult, type PassContext, type ProbeIdentity } from '../collector';
import { DockerEngine, EngineError, type ContainerDetails, type ContainerEvent, type ContainerState, type EngineContainer } from '../engine/docker-engine';
import { Backoff, mapLimit, sleep } from '../limit';
import { DEFAULT_RING, LatestMemories, SampleRing, round2 } from '../nodes';
import type { ProcessTableSource } from './processes';

/** Engine actions that change what the container topology shows. */
export const TRIGGER_ACTIONS: ReadonlySet<string> = new Set(['create', 'start', 'restart', 'stop', 'die', 'pause', 'unpause', 'destroy', 'rename']);

/** Kubernetes' labels on the containers it runs (dockershim, cri-dockerd, CRI runtimes). */
export const K8S_POD_UID = 'io.kubernetes.pod.uid';
export const K8S_POD_NAME = 'io.kubernetes.pod.name';
export const K8S_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const K8S_CONTAINER_NAME = 'io.kubernetes.container.name';

/** Labels copied into `latest` per container: the rest is dropped (a node has at most 64 latest keys). */
const MAX_LABELS = 40;
const LABEL_PREFIX = 'label.';

export interface ContainersCollectorOptions {
  identity: ProbeIdentity;
  engine: DockerEngine;
  /** The processes collector, to parent each container's main process. */
  processes?: ProcessTableSource;
  /** Called on container events that change the topology (the probe's trigger). */
  onChange?: () => void;
  /** False: offer no controls on container nodes (`--no-controls`). Default true. */
  controls?: boolean;
  ring?: number;
  maxStatsPerPass?: number;
  statsConcurrency?: number;
  statsMinIntervalMs?: number;
  inspectTtlMs?: number;
  /** Event stream reconnect backoff. */
  eventsBackoff?: { initialMs: number; maxMs: number };
  logger?: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

/** What each state lets a person do; `logs` works in every state but removal. */
export function controlsFor(state: ContainerState): ControlId[] {
  switch (state) {
    case 'running':
      return ['logs', 'pause', 'remove', 'restart', 'stop'];
    case 'paused':
      return ['logs', 'remove', 'stop', 'unpause'];
    case 'restarting':
      return ['logs', 'remove', 'stop'];
    case 'created':
    case 'exited':
      return ['logs', 'remove', 'start'];
    case 'dead':
      return ['logs', 'remove'];
    case 'removing':
      return [];
  }
}

/** A label key as a report key: lowercase, [a-z0-9_.-], prefixed, cut to the key limit. */
export function labelKey(key: string): string {
  const clean = key.toLowerCase().replace(/[^a-z0-9_.-]/g, '_');
  return (LABEL_PREFIX + clean).slice(0, LIMITS.maxKeyLength);
}

function cut(s: string): string {
  return s.length > LIMITS.maxStringLength ? s.slice(0, LIMITS.maxStringLength) : s;
}

function isoMs(s: string | undefined): number | undefined {
  if (!s || s.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}

interface Entry {
  state: ContainerState | null;
  details: ContainerDetails | null;
  inspectedAt: number;
  statsAt: number;
  rings: Record<'cpu_percent' | 'memory_usage_bytes' | 'memory_limit_bytes' | 'network_rx_bytes' | 'network_tx_bytes' | 'pids', SampleRing>;
  controls: NodeControls | undefined;
  seen: number;
  /** The metrics of the last full report. */
  reported: Record<string, Metric>;
}

const METRIC_KEYS = ['cpu_percent', 'memory_usage_bytes', 'memory_limit_bytes', 'network_rx_bytes', 'network_tx_bytes', 'pids'] as const;

export class ContainersCollector implements Collector {
  readonly name = 'containers';
  private readonly entries = new Map<string, Entry>();
  private readonly latest = new LatestMemories();
  private readonly ring: number;
  private readonly maxStats: number;
  private readonly statsConcurrency: number;
  private readonly statsMinIntervalMs: number;
  private readonly inspectTtlMs: number;
  private readonly offerControls: boolean;
  private readonly hostParents: readonly string[];
  private pass = 0;
  private events: AbortController | null = null;
  private eventsDown: EngineError | null = null;
  private eventsLoop: Promise<void> | null = null;
  /** When the current event stream attempt began; 0 while between attempts. */
  private streamSince = 0;
  /** The stats sampling started by the last full pass, while it runs. */
  private statsJob: Promise<void> | null = null;
  /** Failures of that sampling, reported by the next pass. */
  private statsIssues: { code: string; message: string }[] = [];

  constructor(private readonly opts: ContainersCollectorOptions) {
    this.ring = opts.ring ?? DEFAULT_RING;
    this.maxStats = opts.maxStatsPerPass ?? 32;
    this.statsConcurrency = opts.statsConcurrency ?? 4;
    this.statsMinIntervalMs = opts.statsMinIntervalMs ?? 5_000;
    this.inspectTtlMs = opts.inspectTtlMs ?? 5 * 60_000;
    this.offerControls = opts.controls ?? true;
    this.hostParents = [opts.identity.hostId];
  }

  async collect(now: number, pass?: PassContext): Promise<CollectorResult> {
    this.startEvents();
    // Normally long finished; a slow engine's sampling delays this pass rather than overlapping it.
    if (this.statsJob) await this.statsJob;
    const seen = ++this.pass;
    let list: EngineContainer[];
    try {
      list = await this.opts.engine.listContainers();
    } catch (err) {
      const code = err instanceof EngineError ? err.code : 'ENGINE_BAD_RESPONSE';
      throw new CollectorFailure(code, `container engine: ${(err as Error).message}`, { cause: err });
    }
    const issues = new Map<string, CollectorIssue>();
    const issue = (code: string, message: string): void => {
      const have = issues.get(code);
      if (have) have.count++;
      else issues.set(code, { code, message, count: 1 });
    };

    for (const c of list) {
      let e = this.entries.get(c.id);
      if (!e) {
        e = { state: null, details: null, inspectedAt: 0, statsAt: 0, rings: Object.fromEntries(METRIC_KEYS.map((k) => [k, new SampleRing(this.ring)])) as Entry['rings'], controls: undefined, seen: 0, reported: {} };
        this.entries.set(c.id, e);
      }
      e.seen = seen;
    }
    for (const [id, e] of this.entries) if (e.seen !== seen) this.entries.delete(id);

    // Inspect what is new or changed; in parallel, bounded like stats.
    const toInspect = list.filter((c) => {
      const e = this.entries.get(c.id)!;
      return e.details === null || e.state !== c.state || now - e.inspectedAt > this.inspectTtlMs;
    });
    const inspected = await mapLimit(toInspect, this.statsConcurrency, (c) => this.opts.engine.inspect(c.id));
    toInspect.forEach((c, i) => {
      const r = inspected[i]!;
      const e = this.entries.get(c.id)!;
      if (r.ok) {
        e.details = r.value;
        e.inspectedAt = now;
      } else if ((r.error as EngineError).code !== 'ENGINE_NOT_FOUND') {
        // A container removed between list and inspect is simply gone next pass.
        issue((r.error as EngineError).code ?? 'ENGINE_BAD_RESPONSE', `inspect: ${(r.error as Error).message}`);
      }
      e.state = c.state;
    });

    // Stats of running containers, oldest sample first, bounded per pass; only
    // in full passes: a delta triggered by one container's event must not
    // carry a fresh sample of every other (idle) container. Sampled after the
    // pass, in the background (see sampleStats): this report carries the
    // samples taken after the previous full pass.
    const due =
      pass?.kind === 'delta'
        ? []
        : list
            .filter((c) => c.state === 'running' && now - this.entries.get(c.id)!.statsAt >= this.statsMinIntervalMs)
            .sort((a, b) => this.entries.get(a.id)!.statsAt - this.entries.get(b.id)!.statsAt)
            .slice(0, this.maxStats);
    for (const i of this.statsIssues) issue(i.code, i.message);
    this.statsIssues = [];

    // An attempt that has not failed for a while is a connected stream (quiet hosts send no events).
    if (this.eventsDown && this.streamSince > 0 && Date.now() - this.streamSince > 2_000) this.eventsDown = null;
    if (this.eventsDown) issue('ENGINE_EVENTS_DOWN', `event stream down, immediate reports off until it reconnects: ${this.eventsDown.message}`);

    await pass?.settled?.('processes'); // this pass's process table, to parent main processes
    const nodes = this.build(list, now, pass?.kind !== 'delta');
    this.latest.sweep();
    if (due.length > 0) {
      for (const c of due) this.entries.get(c.id)!.statsAt = now;
      const job = this.sampleStats(due).finally(() => {
        if (this.statsJob === job) this.statsJob = null;
      });
      this.statsJob = job;
    }
    return { nodes, issues: [...issues.values()] };
  }

  /**
   * One stats call per due container, `statsConcurrency` at a time, into the
   * rings; started when a full pass has built its nodes and not awaited by it.
   * A stats call costs the engine 10-15 ms (Podman reads the cgroup files per
   * call): on the pass's path, 20 containers were a third of a pass's wall
   * time. Each sample carries the engine's read time, so the report says how
   * old it is (about one interval at the next full report). Failures become
   * issues of the next pass; the next full pass waits for a sampling still
   * under way, so samples never overlap.
   */
  private async sampleStats(due: readonly EngineContainer[]): Promise<void> {
    const stats = await mapLimit(due, this.statsConcurrency, (c) => this.opts.engine.stats(c.id));
    due.forEach((c, i) => {
      const r = stats[i]!;
      const e = this.entries.get(c.id);
      if (!e) return; // gone meanwhile
      if (!r.ok) {
        const code = (r.error as EngineError).code ?? 'ENGINE_BAD_RESPONSE';
        if (code !== 'ENGINE_NOT_FOUND' && code !== 'ENGINE_CONFLICT') this.statsIssues.push({ code, message: `stats: ${(r.error as Error).message}` });
        return;
      }
      const s = r.value;
      const at = isoMs(s.readAt) ?? Date.now();
      e.rings.cpu_percent.push(at, round2(s.cpuPercent));
      e.rings.memory_usage_bytes.push(at, s.memoryBytes);
      if (s.memoryLimitBytes > 0) e.rings.memory_limit_bytes.push(at, s.memoryLimitBytes);
      e.rings.network_rx_bytes.push(at, s.networkRxBytes);
      e.rings.network_tx_bytes.push(at, s.networkTxBytes);
      e.rings.pids.push(at, s.pids);
    });
  }

  private build(list: EngineContainer[], now: number, full: boolean): Partial<Record<TopologyName, Record<string, ReportNode>>> {
    const containers: Record<string, ReportNode> = {};
    const images: Record<string, ReportNode> = {};
    const pods: Record<string, ReportNode> = {};
    const processes: Record<string, ReportNode> = {};
    const imageNames = new Map<string, Set<string>>();
    const table = this.opts.processes?.processTable() ?? null;

    for (const c of list) {
      const e = this.entries.get(c.id)!;
      const d = e.details;
      const id = containerNodeId(c.id);
      const imageId = c.imageId || c.image;
      const imageNode = containerImageNodeId(imageId);
      const parents: Partial<Record<TopologyName, readonly string[]>> = { host: this.hostParents, container_image: [imageNode] };

      const podUid = c.labels[K8S_POD_UID];
      if (podUid) {
        const podId = podNodeId(podUid);
        parents.pod = [podId];
        pods[podId] = {
          latest: this.latest.update(
            podId,
            { name: c.labels[K8S_POD_NAME] ? cut(c.labels[K8S_POD_NAME]!) : undefined, namespace: c.labels[K8S_POD_NAMESPACE] ? cut(c.labels[K8S_POD_NAMESPACE]!) : undefined, uid: cut(podUid) },
            now,
          ),
          metrics: {},
          adjacency: [],
          parents: { host: this.hostParents },
        };
      }

      const values: Record<string, string | number | boolean | undefined> = {
        id: c.id,
        name: cut(c.name),
        image: cut(c.image),
        image_id: cut(imageId),
        state: c.state,
        command: cut(c.command),
        created_at: c.createdAt * 1000,
        network_mode: c.networkMode || d?.networkMode || undefined,
        ip_addresses: c.ipAddresses.length > 0 ? cut(c.ipAddresses.join(',')) : undefined,
        ports: c.ports.length > 0 ? cut(c.ports.map((p) => (p.publicPort ? `${p.ip ?? ''}:${p.publicPort}->${p.privatePort}/${p.protocol}` : `${p.privatePort}/${p.protocol}`)).join(',')) : undefined,
        pid: d && d.pid > 0 ? d.pid : undefined,
        started_at: isoMs(d?.startedAt),
        finished_at: c.state !== 'running' && c.state !== 'paused' ? isoMs(d?.finishedAt) : undefined,
        exit_code: d && c.state !== 'running' && c.state !== 'paused' ? d.exitCode : undefined,
        restart_count: d?.restartCount,
        hostname: d?.hostname ? cut(d.hostname) : undefined,
        k8s_container_name: c.labels[K8S_CONTAINER_NAME] ? cut(c.labels[K8S_CONTAINER_NAME]!) : undefined,
      };
      let n = 0;
      for (const k of Object.keys(c.labels).sort()) {
        if (n++ >= MAX_LABELS) break;
        values[labelKey(k)] = cut(c.labels[k]!);
      }

      // Samples land in the rings between passes (sampleStats); a delta pass
      // shows the metrics of the last full report, so that it carries only the
      // change that caused it.
      let metrics: Record<string, Metric> = {};
      if (!full) metrics = c.state === 'running' ? e.reported : {};
      else if (c.state === 'running') {
        for (const k of METRIC_KEYS) {
          const m = e.rings[k].current();
          if (m) metrics[k] = m;
        }
      }
      if (full) e.reported = metrics;

      const node: ReportNode = { latest: this.latest.update(id, values, now), metrics, adjacency: [], parents };
      if (this.offerControls) {
        const ids = controlsFor(c.state);
        if (!e.controls || e.controls.ids.join() !== ids.join()) e.controls = { ts: now, ids };
        containers[id] = { ...node, controls: e.controls };
      } else {
        containers[id] = node;
      }

      let names = imageNames.get(imageNode);
      if (!names) imageNames.set(imageNode, (names = new Set()));
      if (c.image && c.image !== imageId) names.add(c.image);

      // The main process, parented here too (the cgroup rule may not know this runtime's paths).
      if (d && d.pid > 0 && c.state === 'running' && table) {
        const proc = table.byPid.get(d.pid);
        if (proc) processes[proc.nodeId] = { latest: {}, metrics: {}, adjacency: [], parents: { container: [id] } };
      }
    }

    for (const [imageNode, names] of imageNames) {
      const sorted = [...names].sort();
      images[imageNode] = {
        latest: this.latest.update(imageNode, { id: imageNode.slice('container_image;'.length), name: sorted.length > 0 ? cut(sorted.join(',')) : undefined }, now),
        metrics: {},
        adjacency: [],
        parents: { host: this.hostParents },
      };
    }
    return { container: containers, container_image: images, pod: pods, process: processes };
  }

  /** Holds the event stream open in the background; reconnects with backoff. */
  private startEvents(): void {
    if (this.eventsLoop !== null) return;
    const ctl = new AbortController();
    this.events = ctl;
    const backoff = new Backoff(this.opts.eventsBackoff?.initialMs ?? 1_000, this.opts.eventsBackoff?.maxMs ?? 60_000);
    const onEvent = (ev: ContainerEvent): void => {
      if (this.eventsDown) {
        this.eventsDown = null;
        backoff.reset();
      }
      if (TRIGGER_ACTIONS.has(ev.action)) this.opts.onChange?.();
    };
    this.eventsLoop = (async () => {
      while (!ctl.signal.aborted) {
        const opened = Date.now();
        this.streamSince = opened;
        try {
          // A stream that stays up for a while proves the engine is back: the next failure starts the backoff over.
          await this.opts.engine.events(onEvent, ctl.signal);
        } catch (err) {
          if (ctl.signal.aborted) break;
          const e = err instanceof EngineError ? err : new EngineError('ENGINE_BAD_RESPONSE', String((err as Error).message ?? err));
          if (!this.eventsDown) this.opts.logger?.warn({ code: e.code, err: e.message }, 'container event stream down; reconnecting with backoff');
          this.eventsDown = e;
        }
        this.streamSince = 0;
        if (ctl.signal.aborted) break;
        if (Date.now() - opened > 30_000) backoff.reset();
        await sleep(backoff.next(), ctl.signal);
        // Events during the gap are lost: a fresh list brings the picture level.
        if (!ctl.signal.aborted) this.opts.onChange?.();
      }
    })();
  }

  async close(): Promise<void> {
    this.events?.abort();
    await this.statsJob;
    await this.eventsLoop?.catch(() => undefined);
    await this.opts.engine.close();
  }
}
