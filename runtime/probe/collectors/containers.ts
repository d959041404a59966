/**
 * The container and container_image topologies, from the Docker Engine API
 * (Docker, or Podman's compatible service) through `DockerEngine`.
 *
 * A table of the engine's containers, kept current by its event stream (as
 * Weave Scope's registry does) so that a pass asks the engine nothing: when
 * the stream opens, one list (events of any gap are lost, so the picture is
 * levelled); on an event that changes what the table shows (TRIGGER_ACTIONS),
 * a refresh (list, then inspect of what is new or changed state) and a delta
 * pass that waits for it. Without an open stream (the first pass, the stream
 * down or reconnecting) a pass lists on its own path as before. Inspect also
 * runs for a container last inspected over `inspectTtlMs` ago (pid, start
 * time, restart count and exit code come from inspect; the list has the rest).
 *
 * Off the pass's path, after each pass of the interval, a background upkeep lists again
 * (reconciliation: a safety net under the stream) and takes stats (CPU,
 * memory, network) of running containers whose last sample is older than
 * `statsMinIntervalMs`, at most `maxStatsPerPass` of them, oldest sample first,
 * `statsConcurrency` at a time; it is timed to end `statsLeadMs` before the
 * next pass of the interval, whose report then carries samples a second or two old (each
 * with the engine's read time). Passes an event asked for take no stats: a delta triggered
 * by one container's event carries only that change. The first pass
 * samples stats on its path (while the /proc walk runs), so that the first
 * report has container metrics too.
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
  /** How long before the next pass of the interval the background stats sampling should have ended. Default 1.5 s. */
  statsLeadMs?: number;
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
  /** The metrics of the last pass of the interval's report. */
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
  private readonly statsLeadMs: number;
  private readonly inspectTtlMs: number;
  private readonly offerControls: boolean;
  private readonly hostParents: readonly string[];
  /** The engine's containers in its list order, as of the last refresh (the table the passes read). */
  private list: EngineContainer[] = [];
  private events: AbortController | null = null;
  private eventsDown: EngineError | null = null;
  private eventsLoop: Promise<void> | null = null;
  /** When the current event stream attempt began; 0 while between attempts. */
  private streamSince = 0;
  /**
   * True while the table is current: the event stream is open and a list made
   * after it opened has been applied. Then a pass reads the table and asks the
   * engine nothing; otherwise it lists on its own path, as without a stream.
   */
  private synced = false;
  /** The refresh (list + inspect) under way, and the one queued behind it. */
  private refreshRunning: Promise<void> | null = null;
  private refreshQueued: Promise<void> | null = null;
  /** The refresh asked for by the latest event (or stream open): the next pass waits for it. */
  private eventRefresh: Promise<void> | null = null;
  /** Partial problems found off a pass's path (inspect, stats), reported by the next pass. */
  private carried: { code: string; message: string }[] = [];
  /** The background upkeep (reconciliation list, stats) scheduled after a pass of the interval. */
  private upkeepTimer: NodeJS.Timeout | null = null;
  private upkeep: Promise<void> | null = null;
  private lastUpkeepMs = 0;
  private sampledOnce = false;
  private closed = false;

  constructor(private readonly opts: ContainersCollectorOptions) {
    this.ring = opts.ring ?? DEFAULT_RING;
    this.maxStats = opts.maxStatsPerPass ?? 32;
    this.statsConcurrency = opts.statsConcurrency ?? 4;
    this.statsMinIntervalMs = opts.statsMinIntervalMs ?? 5_000;
    this.statsLeadMs = opts.statsLeadMs ?? 1_500;
    this.inspectTtlMs = opts.inspectTtlMs ?? 5 * 60_000;
    this.offerControls = opts.controls ?? true;
    this.hostParents = [opts.identity.hostId];
  }

  async collect(now: number, pass?: PassContext): Promise<CollectorResult> {
    const startedMono = performance.now();
    this.startEvents();
    const interval = pass?.kind !== 'event';
    const issues = new Map<string, CollectorIssue>();
    const issue = (code: string, message: string): void => {
      const have = issues.get(code);
      if (have) have.count++;
      else issues.set(code, { code, message, count: 1 });
    };

    // A change an event announced is applied before this pass reads the table.
    const announced = this.eventRefresh;
    if (announced !== null) {
      await announced.catch(() => undefined);
      if (this.eventRefresh === announced) this.eventRefresh = null;
    }
    if (!this.synced) {
      // No current table (first pass, stream down or just reconnecting): list on the pass's path.
      try {
        await this.refresh();
      } catch (err) {
        const code = err instanceof EngineError ? err.code : 'ENGINE_BAD_RESPONSE';
        throw new CollectorFailure(code, `container engine: ${(err as Error).message}`, { cause: err });
      }
    }
    // The first report carries metrics too: its stats are sampled on its
    // path, while the /proc walk runs. Later passes of the interval read the samples the
    // background upkeep took shortly before them (see scheduleUpkeep).
    let firstSampling: Promise<void> | null = null;
    if (interval && !this.sampledOnce) {
      this.sampledOnce = true;
      firstSampling = this.sampleStats(this.dueForStats(now), now);
    }

    // An attempt that has not failed for a while is a connected stream (quiet hosts send no events).
    if (this.eventsDown && this.streamSince > 0 && Date.now() - this.streamSince > 2_000) this.eventsDown = null;
    if (this.eventsDown) issue('ENGINE_EVENTS_DOWN', `event stream down, immediate reports off until it reconnects: ${this.eventsDown.message}`);

    await pass?.settled?.('processes'); // this pass's process table, to parent main processes
    if (firstSampling !== null) await firstSampling;
    for (const i of this.carried) issue(i.code, i.message);
    this.carried = [];
    const nodes = this.build(this.list, now, interval);
    this.latest.sweep();
    if (interval) this.scheduleUpkeep(now, startedMono, pass?.nextPassInMs);
    return { nodes, issues: [...issues.values()] };
  }

  /**
   * Lists the containers and inspects what is new, changed state, or was
   * inspected over `inspectTtlMs` ago; the table passes read. Refreshes never
   * overlap: one asked for while another runs starts when it ends (so it sees
   * every change made before it was asked for), and further asks share it.
   * Rejects with the list's EngineError; inspect failures are carried to the
   * next pass as issues.
   */
  private refresh(): Promise<void> {
    if (this.refreshQueued !== null) return this.refreshQueued;
    if (this.refreshRunning !== null) {
      const queued = this.refreshRunning
        .catch(() => undefined)
        .then(() => {
          this.refreshQueued = null;
          return this.refresh();
        });
      this.refreshQueued = queued;
      return queued;
    }
    const job = this.listAndInspect().finally(() => {
      if (this.refreshRunning === job) this.refreshRunning = null;
    });
    this.refreshRunning = job;
    return job;
  }

  private async listAndInspect(): Promise<void> {
    const list = await this.opts.engine.listContainers();
    const now = Date.now();
    const listed = new Set<string>();
    for (const c of list) {
      listed.add(c.id);
      if (!this.entries.has(c.id)) {
        this.entries.set(c.id, { state: null, details: null, inspectedAt: 0, statsAt: 0, rings: Object.fromEntries(METRIC_KEYS.map((k) => [k, new SampleRing(this.ring)])) as Entry['rings'], controls: undefined, reported: {} });
      }
    }

    // Inspect what is new or changed; in parallel, bounded like stats.
    const toInspect = list.filter((c) => {
      const e = this.entries.get(c.id)!;
      return e.details === null || e.state !== c.state || now - e.inspectedAt > this.inspectTtlMs;
    });
    const inspected = await mapLimit(toInspect, this.statsConcurrency, (c) => this.opts.engine.inspect(c.id));
    toInspect.forEach((c, i) => {
      const r = inspected[i]!;
      const e = this.entries.get(c.id);
      if (e === undefined) return; // removed by a later refresh meanwhile
      if (r.ok) {
        e.details = r.value;
        e.inspectedAt = now;
      } else if ((r.error as EngineError).code !== 'ENGINE_NOT_FOUND') {
        // A container removed between list and inspect is simply gone next refresh.
        this.carried.push({ code: (r.error as EngineError).code ?? 'ENGINE_BAD_RESPONSE', message: `inspect: ${(r.error as Error).message}` });
      }
      e.state = c.state;
    });
    // The table changes in one step: a pass reading it meanwhile saw the previous list whole.
    for (const id of this.entries.keys()) if (!listed.has(id)) this.entries.delete(id);
    this.list = list;
  }

  /**
   * After a pass of the interval: reconcile the table with a fresh list (a safety net
   * under the event stream, and the inspect TTL) and sample the stats of the
   * running containers, in the background, timed to end shortly before the
   * next pass so that its metrics are fresh (`statsLeadMs`, or twice
   * the last upkeep's duration when that is longer). Without a known next
   * pass (a pass run by hand) the upkeep starts at once.
   */
  private scheduleUpkeep(passNow: number, passStartedMono: number, nextPassInMs: number | undefined): void {
    if (this.closed || this.upkeepTimer !== null) return;
    if (this.upkeep !== null) {
      // A slow engine's upkeep still runs: the next one follows it rather than overlapping it.
      void this.upkeep.then(() => this.scheduleUpkeep(passNow, passStartedMono, nextPassInMs));
      return;
    }
    let delay = 0;
    if (nextPassInMs !== undefined) {
      const lead = Math.max(this.statsLeadMs, 2 * this.lastUpkeepMs);
      delay = Math.max(0, passStartedMono + nextPassInMs - lead - performance.now());
    }
    const run = (): void => {
      this.upkeepTimer = null;
      const t0 = performance.now();
      // On the pass's clock (tests drive it), advanced by the time since the pass began.
      const job = this.runUpkeep(passNow + (t0 - passStartedMono)).finally(() => {
        this.lastUpkeepMs = performance.now() - t0;
        if (this.upkeep === job) this.upkeep = null;
      });
      this.upkeep = job;
    };
    // Even at once, after the pass has handed its report on.
    this.upkeepTimer = setTimeout(run, delay);
    this.upkeepTimer.unref();
  }

  private async runUpkeep(now: number): Promise<void> {
    try {
      await this.refresh();
    } catch {
      // The engine failed a list: the next pass lists on its own path and reports why.
      this.synced = false;
    }
    if (this.closed) return;
    await this.sampleStats(this.dueForStats(now), now);
  }

  /** Running containers whose last sample is old enough, oldest sample first, at most `maxStatsPerPass`. */
  private dueForStats(now: number): EngineContainer[] {
    return this.list
      .filter((c) => {
        const e = this.entries.get(c.id);
        return e !== undefined && c.state === 'running' && now - e.statsAt >= this.statsMinIntervalMs;
      })
      .sort((a, b) => this.entries.get(a.id)!.statsAt - this.entries.get(b.id)!.statsAt)
      .slice(0, this.maxStats);
  }

  /**
   * One stats call per due container, `statsConcurrency` at a time, into the
   * rings; never on a pass's path but the first. A stats call costs the
   * engine 10-15 ms (Podman reads the cgroup files per call): on the pass's
   * path, 20 containers were a third of a pass's wall time. Each sample
   * carries the engine's read time, so the report says how old it is.
   * Failures become issues of the next pass.
   */
  private async sampleStats(due: readonly EngineContainer[], now: number): Promise<void> {
    if (due.length === 0) return;
    for (const c of due) this.entries.get(c.id)!.statsAt = now;
    const stats = await mapLimit(due, this.statsConcurrency, (c) => this.opts.engine.stats(c.id));
    due.forEach((c, i) => {
      const r = stats[i]!;
      const e = this.entries.get(c.id);
      if (!e) return; // gone meanwhile
      if (!r.ok) {
        const code = (r.error as EngineError).code ?? 'ENGINE_BAD_RESPONSE';
        if (code !== 'ENGINE_NOT_FOUND' && code !== 'ENGINE_CONFLICT') this.carried.push({ code, message: `stats: ${(r.error as Error).message}` });
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

  private build(list: EngineContainer[], now: number, interval: boolean): Partial<Record<TopologyName, Record<string, ReportNode>>> {
    const containers: Record<string, ReportNode> = {};
    const images: Record<string, ReportNode> = {};
    const pods: Record<string, ReportNode> = {};
    const processes: Record<string, ReportNode> = {};
    const imageNames = new Map<string, Set<string>>();
    const table = this.opts.processes?.processTable() ?? null;

    for (const c of list) {
      const e = this.entries.get(c.id);
      if (e === undefined) continue; // a refresh is replacing the table: this one is gone in it
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

      // Samples land in the rings between passes (sampleStats); a pass an event
      // asked for shows the metrics of the last pass of the interval, so that
      // its delta carries only the change that caused it.
      let metrics: Record<string, Metric> = {};
      if (!interval) metrics = c.state === 'running' ? e.reported : {};
      else if (c.state === 'running') {
        for (const k of METRIC_KEYS) {
          const m = e.rings[k].current();
          if (m) metrics[k] = m;
        }
      }
      if (interval) e.reported = metrics;

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

  /**
   * Holds the event stream open in the background; reconnects with backoff.
   * Each open lists the containers again (events of the gap are lost) and
   * makes the table current once that list is in; an event that changes what
   * the table shows refreshes it and asks for a delta pass, which waits for
   * that refresh.
   */
  private startEvents(): void {
    if (this.eventsLoop !== null) return;
    const ctl = new AbortController();
    this.events = ctl;
    const backoff = new Backoff(this.opts.eventsBackoff?.initialMs ?? 1_000, this.opts.eventsBackoff?.maxMs ?? 60_000);
    let attempt = 0;
    const onEvent = (ev: ContainerEvent): void => {
      if (this.eventsDown) {
        this.eventsDown = null;
        backoff.reset();
      }
      if (!TRIGGER_ACTIONS.has(ev.action)) return;
      const refreshed = this.refresh();
      refreshed.catch(() => (this.synced = false)); // the next pass lists on its path and reports why
      this.eventRefresh = refreshed;
      this.opts.onChange?.();
    };
    this.eventsLoop = (async () => {
      while (!ctl.signal.aborted) {
        const opened = Date.now();
        const mine = ++attempt;
        this.streamSince = opened;
        const onOpen = (): void => {
          const listed = this.refresh();
          this.eventRefresh = listed;
          listed.then(
            () => {
              if (attempt === mine && this.streamSince !== 0 && !ctl.signal.aborted) this.synced = true;
            },
            () => undefined, // a pass lists on its own path and reports the error
          );
        };
        try {
          // A stream that stays up for a while proves the engine is back: the next failure starts the backoff over.
          await this.opts.engine.events(onEvent, ctl.signal, onOpen);
        } catch (err) {
          this.synced = false;
          if (ctl.signal.aborted) break;
          const e = err instanceof EngineError ? err : new EngineError('ENGINE_BAD_RESPONSE', String((err as Error).message ?? err));
          if (!this.eventsDown) this.opts.logger?.warn({ code: e.code, err: e.message }, 'container event stream down; reconnecting with backoff');
          this.eventsDown = e;
        }
        this.synced = false;
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
    this.closed = true;
    this.events?.abort();
    if (this.upkeepTimer !== null) clearTimeout(this.upkeepTimer);
    this.upkeepTimer = null;
    await this.upkeep;
    await this.refreshQueued?.catch(() => undefined);
    await this.refreshRunning?.catch(() => undefined);
    await this.eventsLoop?.catch(() => undefined);
    await this.opts.engine.close();
  }
}
