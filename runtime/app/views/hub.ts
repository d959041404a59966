/**
 * The views, rendered once per change and shared.
 *
 * A model change marks every view dirty. Views that someone watches over the
 * WebSocket are rendered on the next tick (changes arriving meanwhile are
 * coalesced, at most one render per view per `minIntervalMs`), and each of the
 * view's topics (one per filter set) gets one delta message, published once to
 * all its subscribers. Views nobody watches are rendered only when the REST API
 * asks, and a render younger than `restMaxAgeMs` is reused; the renderer's state
 * of such a view (nodes, serialisations, edges) is dropped once the view has
 * been neither watched nor asked for during `idleReleaseMs`, so that one REST
 * call does not pin a view's memory for the life of the process. Node counts
 * (the list of views, the nodes-per-view gauge) come from `nodeCount`, which
 * renders nothing.
 *
 * Renders are incremental (see ViewRenderer): each returns the ids whose
 * serialisation changed, and the hub keeps, per watched view, the ids changed
 * since its last tick (REST renders in between included). A topic keeps the
 * serialised nodes it last published and compares only those ids, so a delta
 * costs what changed, not the size of the view: new ids are `add`, changed
 * serialisations `update`, missing ids `remove`, and `seq` counts the topic's
 * messages so that a client can tell it missed one.
 */
import type { LiveModel, ChangeSet } from '../model';
import { VIEW_IDS, VIEWS, filterKey, type Filters, type ViewId } from './catalog';
import { passes } from './filter';
import { GroupCounts } from './counts';
import { ChangeClassifier, ViewRenderer, type RenderedView } from './render';

export interface Topic {
  readonly name: string;
  readonly view: ViewId;
  readonly filters: Filters;
  seq: number;
  /** id → serialised node, as last sent. */
  nodes: Map<string, string>;
  subscribers: number;
  /** The full message at `seq`, built once for every subscriber that joins at that seq. */
  full: { seq: number; message: string } | null;
  /**
   * The last deltas published, oldest first (at most RECENT_DELTAS and RECENT_DELTA_BYTES):
   * a client still receiving a full view at seq n is not subscribed yet, and is sent
   * n+1… from here before it joins the topic.
   */
  recent: Array<{ seq: number; message: string }>;
  recentBytes: number;
}

/** Bounds of a topic's recent deltas (per topic; a few topics per view). */
export const RECENT_DELTAS = 64;
export const RECENT_DELTA_BYTES = 2 * 1024 * 1024;

export interface HubOptions {
  minIntervalMs?: number;
  restMaxAgeMs?: number;
  /** A view neither watched nor asked for during this long has its render state dropped. Default 60 s. */
  idleReleaseMs?: number;
  /** Sends one message to every subscriber of a topic. */
  publish: (topic: string, message: string) => void;
  /** Called after a tick published, with the topics it published to. */
  afterPublish?: (topics: string[]) => void;
  onRender?: (view: ViewId, seconds: number) => void;
  /** Report arrival → delta published, in seconds. */
  onDeltaLatency?: (seconds: number) => void;
}

interface Pending {
  arrivedAt: number;
  sources: string[];
}

const MAX_SOURCES = 64;

export class ViewHub {
  private readonly renderers = new Map<ViewId, ViewRenderer>();
  private readonly renders = new Map<ViewId, RenderedView>();
  private readonly classifier: ChangeClassifier;
  /** Grouped views: their node counts, kept from the change sets. */
  private readonly groupCounts = new Map<ViewId, GroupCounts>();
  /** Watched views: ids whose serialisation changed since the view's last tick. */
  private readonly since = new Map<ViewId, Set<string>>();
  private readonly dirty = new Set<ViewId>(VIEW_IDS);
  private readonly pending = new Map<ViewId, Pending>();
  private readonly topics = new Map<string, Topic>();
  /** Topics per watched view. */
  private readonly watched = new Map<ViewId, number>();
  private timer: NodeJS.Timeout | null = null;
  /** A timer-driven tick in progress: the views it has still to do, one per event-loop turn. */
  private slices: ViewId[] | null = null;
  private sliceImmediate: NodeJS.Immediate | null = null;
  private lastTick = 0;
  /** Main-thread time the last tick took (its slices summed, not the turns between them). */
  private lastTickMs = 0;
  private readonly minIntervalMs: number;
  private readonly restMaxAgeMs: number;
  private readonly idleReleaseMs: number;
  /** Unwatched views with render state: the timer that drops it. */
  private readonly idle = new Map<ViewId, NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly model: LiveModel,
    private readonly opts: HubOptions,
  ) {
    this.minIntervalMs = opts.minIntervalMs ?? 50;
    this.restMaxAgeMs = opts.restMaxAgeMs ?? 500;
    this.idleReleaseMs = opts.idleReleaseMs ?? 60_000;
    for (const v of VIEW_IDS) this.renderers.set(v, new ViewRenderer(model, v));
    this.classifier = new ChangeClassifier(model);
    for (const v of VIEW_IDS) if (VIEWS[v].groupBy !== undefined) this.groupCounts.set(v, new GroupCounts(model, VIEWS[v]));
    model.onChange((c) => this.onModelChange(c));
  }

  private onModelChange(c: ChangeSet): void {
    const structural = this.classifier.classify(c.changed);
    for (const [v, counts] of this.groupCounts) counts.note(c.changed[VIEWS[v].base]);
    for (const v of VIEW_IDS) {
      this.dirty.add(v);
      this.renderers.get(v)!.note(c.changed, structural);
      // Latency is counted for watched views only: a view nobody watches publishes nothing.
      if (!this.watched.has(v)) continue;
      const p = this.pending.get(v);
      if (!p) {
        this.pending.set(v, { arrivedAt: c.arrivedAt, sources: c.sources.slice(0, MAX_SOURCES) });
      } else {
        p.arrivedAt = Math.min(p.arrivedAt, c.arrivedAt);
        for (const s of c.sources) if (p.sources.length < MAX_SOURCES) p.sources.push(s);
      }
    }
    this.schedule();
  }

  private schedule(): void {
    // A tick in progress schedules the next one when its last slice is done.
    if (this.timer !== null || this.slices !== null || this.closed || this.topics.size === 0) return;
    // Renders cost CPU in proportion to the fleet: keep the pause between ticks at least three
    // times the last tick's work, so rendering stays under about a quarter of a core.
    const gap = Math.max(this.minIntervalMs, 3 * this.lastTickMs);
    const wait = Math.max(0, this.lastTick + gap - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tickSliced();
    }, wait);
  }

  /** Renders a view now if it changed (or was never rendered). */
  private renderNow(view: ViewId): RenderedView {
    const started = performance.now();
    const out = this.renderers.get(view)!.render(started);
    const r = out.view;
    this.renders.set(view, r);
    if (this.watched.has(view)) {
      let s = this.since.get(view);
      if (!s) this.since.set(view, (s = new Set()));
      for (const id of out.changed) s.add(id);
    }
    this.dirty.delete(view);
    this.opts.onRender?.(view, (performance.now() - started) / 1000);
    return r;
  }

  /** The view for a REST answer: the last render if clean or young enough, else a new one. */
  current(view: ViewId): RenderedView {
    if (!this.watched.has(view)) this.armRelease(view);
    const r = this.renders.get(view);
    if (r && (!this.dirty.has(view) || performance.now() - r.at < this.restMaxAgeMs)) return r;
    return this.renderNow(view);
  }

  /**
   * How many nodes the view has now, without rendering it or walking the model: the base
   * topology's size, or for a grouped view its groups counted from the change sets.
   */
  nodeCount(view: ViewId): number {
    return this.groupCounts.get(view)?.size ?? this.model.topology(VIEWS[view].base).size;
  }

  /** Whether the hub holds render state of the view (tests and the memory bench read this). */
  holds(view: ViewId): boolean {
    return this.renders.has(view);
  }

  /** (Re)starts the countdown after which an unwatched view's render state is dropped. */
  private armRelease(view: ViewId): void {
    if (this.closed) return;
    const old = this.idle.get(view);
    if (old !== undefined) old.refresh();
    else {
      const timer = setTimeout(() => this.release(view), this.idleReleaseMs);
      timer.unref();
      this.idle.set(view, timer);
    }
  }

  private release(view: ViewId): void {
    const timer = this.idle.get(view);
    if (timer !== undefined) clearTimeout(timer);
    this.idle.delete(view);
    if (this.watched.has(view)) return;
    this.renders.delete(view);
    this.renderers.get(view)!.reset();
    this.dirty.add(view);
  }

  /** Publishes the deltas of every watched view that changed, all in this call (tests, benches). */
  tick(): void {
    this.lastTick = performance.now();
    let work = 0;
    for (const view of this.dueViews()) work += this.tickView(view);
    this.lastTickMs = work;
  }

  /**
   * The timer's tick: one view per event-loop turn (setImmediate between them), so that a
   * request or a report waits behind one view's render and deltas, not behind every view's.
   * Reports that arrive between two slices are in the views rendered after them (a view's
   * render reads the model as it is then); a view done earlier in the tick is dirty again and
   * gets them at the next tick. Each topic's deltas stay in seq order: one view's topics are
   * always published together, by one slice.
   */
  private tickSliced(): void {
    this.lastTick = performance.now();
    this.slices = this.dueViews();
    let work = 0;
    const step = (): void => {
      this.sliceImmediate = null;
      if (this.closed) return;
      const view = this.slices!.shift();
      if (view !== undefined) work += this.tickView(view);
      if (this.slices!.length > 0) {
        this.sliceImmediate = setImmediate(step);
        return;
      }
      this.slices = null;
      this.lastTickMs = work;
      for (const v of this.watched.keys()) {
        if (this.dirty.has(v)) {
          this.schedule();
          break;
        }
      }
    };
    step();
  }

  /** The watched views, in the order their first topic was created. */
  private dueViews(): ViewId[] {
    const views: ViewId[] = [];
    for (const t of this.topics.values()) if (!views.includes(t.view)) views.push(t.view);
    return views;
  }

  /** Renders one watched view if it changed and publishes its topics' deltas; returns the milliseconds it took. */
  private tickView(view: ViewId): number {
    const started = performance.now();
    if (!this.dirty.has(view) || !this.watched.has(view)) return performance.now() - started;
    const r = this.renderNow(view);
    const pending = this.pending.get(view);
    this.pending.delete(view);
    const ids = this.since.get(view) ?? new Set<string>();
    this.since.delete(view);
    const published: string[] = [];
    for (const t of this.topics.values()) {
      if (t.view !== view) continue;
      const msg = this.deltaMessage(t, r, ids, pending);
      if (msg !== null) {
        remember(t, msg);
        this.opts.publish(t.name, msg);
        published.push(t.name);
      }
    }
    if (pending && published.length > 0) this.opts.onDeltaLatency?.((Date.now() - pending.arrivedAt) / 1000);
    if (published.length > 0) this.opts.afterPublish?.(published);
    return performance.now() - started;
  }

  private deltaMessage(t: Topic, r: RenderedView, ids: ReadonlySet<string>, pending: Pending | undefined): string | null {
    const add: string[] = [];
    const update: string[] = [];
    const remove: string[] = [];
    for (const id of ids) {
      const n = r.nodes.get(id);
      const old = t.nodes.get(id);
      if (n !== undefined && passes(t.filters, n.facets)) {
        if (old === undefined) add.push(n.json);
        else if (old !== n.json) update.push(n.json);
        else continue;
        t.nodes.set(id, n.json);
      } else if (old !== undefined) {
        remove.push(id);
        t.nodes.delete(id);
      }
    }
    if (add.length === 0 && update.length === 0 && remove.length === 0) return null;
    t.seq++;
    t.full = null;
    return (
      `{"type":"delta","view":${JSON.stringify(t.view)},"filter":${JSON.stringify(filterKey(t.filters))},"seq":${t.seq}` +
      `,"add":[${add.join(',')}],"update":[${update.join(',')}],"remove":${JSON.stringify(remove)}` +
      `,"arrivedAt":${pending?.arrivedAt ?? Date.now()},"reports":${JSON.stringify(pending?.sources ?? [])}}`
    );
  }

  /** The topic name of a view and filter set. */
  static topicName(view: ViewId, filters: Filters): string {
    return `view/${view}?${filterKey(filters)}`;
  }

  /**
   * Registers one subscriber of a view and filter set; returns the topic name
   * and the full message to send it first (the topic's state at its seq).
   */
  subscribe(view: ViewId, filters: Filters): { topic: string; full: string; seq: number } {
    const name = ViewHub.topicName(view, filters);
    let t = this.topics.get(name);
    if (!t) {
      const r = this.renders.get(view) ?? this.renderNow(view);
      const nodes = new Map<string, string>();
      for (const [id, n] of r.nodes) if (passes(filters, n.facets)) nodes.set(id, n.json);
      t = { name, view, filters, seq: 0, nodes, subscribers: 0, full: null, recent: [], recentBytes: 0 };
      this.topics.set(name, t);
      this.watched.set(view, (this.watched.get(view) ?? 0) + 1);
      const timer = this.idle.get(view);
      if (timer !== undefined) clearTimeout(timer);
      this.idle.delete(view);
      if (this.dirty.has(view)) this.schedule();
    }
    t.subscribers++;
    const full = fullOf(t);
    return { topic: name, full: full.message, seq: full.seq };
  }

  /** The topic's full message now (a subscriber whose catch-up fell out of the recent deltas starts again); null if gone. */
  full(topic: string): { seq: number; message: string } | null {
    const t = this.topics.get(topic);
    return t ? fullOf(t) : null;
  }

  /** The delta messages after `seq`, in order; null when they are no longer all held. */
  deltasAfter(topic: string, seq: number): string[] | null {
    const t = this.topics.get(topic);
    if (!t) return null;
    if (t.seq === seq) return [];
    const first = t.recent[0];
    if (first === undefined || first.seq > seq + 1) return null;
    return t.recent.filter((d) => d.seq > seq).map((d) => d.message);
  }

  unsubscribe(topic: string): void {
    const t = this.topics.get(topic);
    if (!t) return;
    t.subscribers--;
    if (t.subscribers <= 0) {
      this.topics.delete(topic);
      const n = (this.watched.get(t.view) ?? 1) - 1;
      if (n > 0) this.watched.set(t.view, n);
      else {
        this.watched.delete(t.view);
        this.pending.delete(t.view);
        this.since.delete(t.view);
        this.armRelease(t.view);
      }
    }
  }

  get topicCount(): number {
    return this.topics.size;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.sliceImmediate !== null) clearImmediate(this.sliceImmediate);
    this.sliceImmediate = null;
    this.slices = null;
    for (const timer of this.idle.values()) clearTimeout(timer);
    this.idle.clear();
  }
}

/**
 * A topic's full message at its seq. A topic's nodes change only with a delta, which bumps seq:
 * one full message per seq, not per subscriber (100 clients joining a 10,000-container view
 * would otherwise build 100 copies of 15 MB).
 */
function fullOf(t: Topic): { seq: number; message: string } {
  if (t.full === null || t.full.seq !== t.seq) {
    t.full = { seq: t.seq, message: `{"type":"full","view":${JSON.stringify(t.view)},"filter":${JSON.stringify(filterKey(t.filters))},"seq":${t.seq},"nodes":[${[...t.nodes.values()].join(',')}]}` };
  }
  return t.full;
}

/** Keeps a published delta among the topic's recent ones, within the bounds. */
function remember(t: Topic, message: string): void {
  t.recent.push({ seq: t.seq, message });
  t.recentBytes += message.length;
  while (t.recent.length > RECENT_DELTAS || (t.recentBytes > RECENT_DELTA_BYTES && t.recent.length > 0)) t.recentBytes -= t.recent.shift()!.message.length;
}
