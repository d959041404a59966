/**
 * Everything of the app that holds the live model: the model itself, the views rendered from it
 * (ViewHub), the doc feed of search, and the intake of reports. It runs on its own thread
 * (worker.ts); the front thread (server.ts: HTTP, WebSocket, search, controls) calls its methods
 * through `ModelThread` (client.ts) and is sent its events.
 *
 * Why a thread of its own: the model is a heap of several hundred MB that takes a report every
 * 15 ms at 1,000 probes, and V8's young-generation collections stop its thread for a time that
 * grows with that heap (docs/app.md). On the thread that answers HTTP they were the tail of every
 * search and REST answer; on this one they delay only the model's own work.
 *
 * Every method's arguments and result cross threads by structured clone: plain data only.
 */
import { getHeapStatistics } from 'node:v8';
import { TOPOLOGY_NAMES, type ControlId, type TopologyName } from '../../report';
import { createLogger } from '../../common/logging';
import { ingestReport, type IntakeLimits, type IntakeOutcome } from '../ingest';
import { IngestListener, type IngestCounts, type IngestListenOptions } from './ingest-listener';
import { LoopDelay } from '../loop-delay';
import { LiveModel, type MergedNode, type ModelOptions, type ProbeInfo } from '../model';
import { SearchDocs, type DocChange } from '../search-docs';
import { VIEW_IDS, type Filters, type ViewId } from '../views/catalog';
import { nodeDetail, type NodeDetail } from '../views/detail';
import { passes } from '../views/filter';
import { ViewHub } from '../views/hub';

/** The model's options that can cross to its thread: its clock is the wall clock there (`now` is for a model on the caller's own thread). */
export type ThreadModelOptions = Omit<ModelOptions, 'now'>;

export interface ModelServiceOptions {
  model?: ThreadModelOptions;
  intake: IntakeLimits;
  /** Least time between two renders of a watched view (coalescing). Default 50 ms. */
  renderIntervalMs?: number;
  /** A view neither watched nor asked for over REST during this long has its render state dropped. Default 60 s. */
  viewIdleReleaseMs?: number;
  /** How often stale probes are swept. Default: a quarter of the report interval, between 100 ms and 5 s. */
  sweepIntervalMs?: number;
  /** Serve `POST /api/report` on this thread, on an address of its own (ingest-listener.ts). Default: not. */
  ingestListen?: IngestListenOptions;
}

/** What the model thread tells the front thread without being asked, in the order it happened. */
export type ModelEvent =
  /** One view's tick: each topic's delta, to publish in this order; when the earliest report behind them arrived. */
  | { readonly type: 'published'; readonly topics: string[]; readonly seqs: number[]; readonly messages: string[]; readonly arrivedAt: number | null }
  | { readonly type: 'rendered'; readonly view: ViewId; readonly seconds: number }
  /** Search docs changed (search-docs.ts). */
  | { readonly type: 'docs'; readonly changes: DocChange[] }
  /** What the ingest listener counted since its last such event, for the front thread's metrics. */
  | { readonly type: 'counted'; readonly counts: IngestCounts };

/** The probes that report a node and offer a control on it, with the token each reports under. */
export type ControlOffer = { readonly found: false } | { readonly found: true; readonly offers: Array<{ probeId: string; owner: string }> };

/** What /metrics reads of the model. */
export interface ModelStats {
  probes: { live: number; stale: number };
  containers: number;
  viewNodes: Array<{ view: ViewId; nodes: number }>;
  /** This thread's V8 heap, bytes. */
  heap: { used: number; total: number };
  /** This thread's event loop delay at LOOP_DELAY_QUANTILES, seconds, since the previous stats(). */
  loopDelay: number[];
}

export class ModelService {
  readonly model: LiveModel;
  readonly hub: ViewHub;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly loopDelay = new LoopDelay();
  private readonly ingestListener: IngestListener | null;
  /** The topics and deltas of the tick in progress (one view's), sent as one event. */
  private batch: { topics: string[]; seqs: number[]; messages: string[] } = { topics: [], seqs: [], messages: [] };

  constructor(
    private readonly opts: ModelServiceOptions,
    private readonly send: (e: ModelEvent) => void,
  ) {
    this.model = new LiveModel(opts.model);
    this.hub = new ViewHub(this.model, {
      minIntervalMs: opts.renderIntervalMs ?? 50,
      ...(opts.viewIdleReleaseMs !== undefined ? { idleReleaseMs: opts.viewIdleReleaseMs } : {}),
      publish: (topic, message) => {
        this.batch.topics.push(topic);
        this.batch.seqs.push(this.hub.topicSeq(topic)!);
        this.batch.messages.push(message);
      },
      afterPublish: (_topics, arrivedAt) => this.flush(arrivedAt),
      onRender: (view, seconds) => this.send({ type: 'rendered', view, seconds }),
    });
    // Subscribed to the model's change sets: it sends the search docs that changed.
    new SearchDocs(this.model, (changes) => this.send({ type: 'docs', changes }));
    const sweepMs = opts.sweepIntervalMs ?? Math.min(5000, Math.max(100, this.model.intervalMs / 4));
    this.sweepTimer = setInterval(() => this.model.sweep(), sweepMs);
    this.ingestListener = opts.ingestListen
      ? new IngestListener(opts.ingestListen, this.model, opts.intake, (counts) => this.send({ type: 'counted', counts }), createLogger('app', { level: opts.ingestListen.logLevel ?? 'info' }).child({ thread: 'model', listener: 'ingest' }))
      : null;
  }

  /** Starts the ingest listener, if there is one: its port, or null. Throws when it cannot listen (worker.ts). */
  listenForReports(): number | null {
    return this.ingestListener?.listen() ?? null;
  }

  /** Closes the ingest listener and its sockets at once (the thread is ending on an error: worker.ts). */
  closeIngestNow(): void {
    this.ingestListener?.closeNow();
  }

  /** Stops the ingest listener (refuses new reports, lets those in progress finish within `graceMs`); the app's shutdown. */
  async stopIngest(graceMs: number): Promise<void> {
    await this.ingestListener?.stop(graceMs);
  }

  private flush(arrivedAt: number | null): void {
    if (this.batch.topics.length === 0) return;
    const { topics, seqs, messages } = this.batch;
    this.batch = { topics: [], seqs: [], messages: [] };
    this.send({ type: 'published', topics, seqs, messages, arrivedAt });
  }

  /** A report's compressed body, from bytes to the model (ingest.ts). */
  report(body: Uint8Array, owner: string, arrivedAt: number): Promise<IntakeOutcome> | IntakeOutcome {
    return ingestReport(this.model, Buffer.from(body.buffer, body.byteOffset, body.byteLength), this.opts.intake, owner, arrivedAt);
  }

  /** Nodes per view (kept from the model's changes: counting renders nothing). */
  viewNodes(): Array<{ view: ViewId; nodes: number }> {
    return VIEW_IDS.map((view) => ({ view, nodes: this.hub.nodeCount(view) }));
  }

  /** One view as the REST answer's JSON text. */
  viewJson(view: ViewId, filters: Filters, filterKey: string): string {
    const r = this.hub.current(view);
    const parts: string[] = [];
    for (const n of r.nodes.values()) if (passes(filters, n.facets)) parts.push(n.json);
    return `{"view":${JSON.stringify(view)},"filter":${JSON.stringify(filterKey)},"nodes":[${parts.join(',')}]}`;
  }

  node(view: ViewId, id: string): NodeDetail | null {
    return nodeDetail(this.model, this.hub.current(view), id);
  }

  probes(): ProbeInfo[] {
    return this.model.probeList();
  }

  probeOwner(probeId: string): string | null {
    return this.model.probe(probeId)?.owner ?? null;
  }

  /** Which probes could carry `control` to the node (controls.ts picks one with a channel open). */
  controlOffer(topology: TopologyName, nodeId: string, control: ControlId): ControlOffer {
    const m = this.model.get(topology, nodeId);
    if (!m) return { found: false };
    const offers: Array<{ probeId: string; owner: string }> = [];
    for (const probeId of m.probes) {
      const own = this.model.probeNode(probeId, topology, nodeId);
      const owner = this.model.probe(probeId)?.owner;
      if (owner !== undefined && own?.controls?.ids.includes(control)) offers.push({ probeId, owner });
    }
    return { found: true, offers };
  }

  /** What /metrics reads; each call starts this thread's loop delay interval again (one call per scrape). */
  stats(): ModelStats {
    let live = 0;
    let stale = 0;
    for (const p of this.model.probeList()) if (p.state === 'live') live++;
    else stale++;
    return {
      probes: { live, stale },
      containers: this.model.topology('container').size,
      viewNodes: this.viewNodes(),
      heap: heapNow(),
      loopDelay: this.loopDelay.take(),
    };
  }

  /**
   * One more subscriber of a view and filters: the topic, its seq, and its full message, or null
   * when that is the full message at `haveSeq`, which the front thread holds already
   * (`ModelThread.subscribe` in client.ts: 100 clients joining a 15 MB view need one copy of it, not 100).
   */
  subscribe(view: ViewId, filters: Filters, haveSeq = -1): { topic: string; full: string | null; seq: number; topicSeq: number } {
    const r = this.hub.subscribe(view, filters);
    // The topic's own seq (the full message may be an older one, reused): the front's copy of its deltas starts there.
    const topicSeq = this.hub.topicSeq(r.topic)!;
    return { topic: r.topic, full: r.seq === haveSeq ? null : r.full, seq: r.seq, topicSeq };
  }

  unsubscribe(topic: string): void {
    this.hub.unsubscribe(topic);
  }

  /** The topic's full message now, or null as its message when it is the one at `haveSeq` (see subscribe). */
  full(topic: string, haveSeq = -1): { seq: number; message: string | null } | null {
    const r = this.hub.full(topic);
    return r !== null && r.seq === haveSeq ? { seq: r.seq, message: null } : r;
  }

  deltasAfter(topic: string, seq: number): { seq: number; messages: string[]; current: boolean } | null {
    return this.hub.deltasAfter(topic, seq);
  }

  /** Removes a probe and its nodes now (an operator's request; tests). */
  removeProbe(probeId: string): boolean {
    return this.model.removeProbe(probeId);
  }

  /** Marks silent probes stale and removes those silent for longer, now rather than at the next sweep. */
  sweep(): void {
    this.model.sweep();
  }

  /** What tests and diagnostics read of the model and the hub. */
  inspect(): ModelInspection {
    const sizes = {} as Record<TopologyName, number>;
    for (const t of TOPOLOGY_NAMES) sizes[t] = this.model.topology(t).size;
    const held: ViewId[] = VIEW_IDS.filter((v) => this.hub.holds(v));
    return { fingerprint: this.model.fingerprint(), sizes, probes: this.model.probeList().map((p) => p.probeId), held, topics: this.hub.topicCount };
  }

  /** One node of the merged picture as the model holds it (tests, diagnostics). */
  merged(topology: TopologyName, id: string): MergedNode | null {
    return this.model.get(topology, id) ?? null;
  }

  topicSeq(topic: string): number | null {
    return this.hub.topicSeq(topic);
  }

  close(): void {
    this.ingestListener?.closeNow();
    clearInterval(this.sweepTimer);
    this.loopDelay.close();
    this.hub.close();
  }
}

function heapNow(): { used: number; total: number } {
  const h = getHeapStatistics();
  return { used: h.used_heap_size, total: h.total_heap_size };
}

export interface ModelInspection {
  /** LiveModel.fingerprint(): equal when the merged picture is. */
  fingerprint: string;
  /** Nodes per topology. */
  sizes: Record<TopologyName, number>;
  probes: string[];
  /** Views whose render state the hub holds. */
  held: ViewId[];
  /** Topics somebody watches. */
  topics: number;
}
