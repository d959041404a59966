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
import { RecentDeltas } from './recent-deltas';
import { ChangeClassifier, ViewRenderer, nodePatch, sameParts, type RenderedNode, type RenderedView } from './render';

export interface Topic {
  readonly name: string;
  readonly view: ViewId;
  readonly filters: Filters;
  seq: number;
  /** id → node as last sent (an update sends the parts that differ from it). */
  nodes: Map<string, RenderedNode>;
  subscribers: number;
  /**
   * The last full message built, at its seq, and when (performance.now()): shared by the
   * subscribers that join within FULL_REUSE_MS, each then sent the deltas after its seq.
   */
  full: { seq: number; message: string; at: number } | null;
  /**
   * id → seq of the id's last change (added, updated or removed), in the order of those seqs
   * (an id is moved to the end when it changes again): what a catch-up after seq s sends is
   * the entries past s. Removed ids stay as tombstones, at most `maxTombstones`; pruning the
   * oldest entries raises `floor`.
   */
  changedAt: Map<string, number>;
  /** A catch-up can be built for a client at seq s only if s >= floor (older changes were pruned). */
  floor: number;
  /**
   * Catch-ups built lately, by the seq they start from: the clients that got the same (shared)
   * full view start from the same seq and share its catch-up too, followed by the deltas since.
   * Dropped after FULL_REUSE_MS.
   */
  catchups: Map<number, { seq: number; message: string; at: number }>;
  /** The last deltas published (recent-deltas.ts). */
  recent: RecentDeltas;
}

export { RECENT_DELTAS, RECENT_DELTA_BYTES } from './recent-deltas';
/** Removed ids a topic remembers for catch-ups (see Topic.changedAt); per topic. */
export const MAX_TOMBSTONES = 10_000;
/**
 * A full message younger than this is given to new subscribers as it is (they get the deltas
 * after it next): 100 clients joining a 10,000-container view within a second share one 15 MB
 * string instead of building one each time the view moved on by a delta.
 */
export const FULL_REUSE_MS = 1000;

export interface HubOptions {
  minIntervalMs?: number;
  restMaxAgeMs?: number;
  /** A view neither watched nor asked for during this long has its render state dropped. Default 60 s. */
  idleReleaseMs?: number;
  /** Sends one message to every subscriber of a topic. */
  publish: (topic: string, message: string) => void;
  /** Removed ids each topic remembers for catch-ups. Default MAX_TOMBSTONES. */
  maxTombstones?: number;
  /**
   * Called after one view's tick published, with the topics it published to and the wall-clock ms
   * at which the earliest report behind the deltas arrived (null when none did: a sweep, a removal).
   */
  afterPublish?: (topics: string[], arrivedAt: number | null) => void;
  onRender?: (view: ViewId, seconds: number) => void;
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
  /**
   * Where a topic made from now on starts its seq: past every seq a dropped topic reached. A
   * topic dropped (its last subscriber gone) and made again is a new state history under the
   * same name; starting it past the old one's seqs keeps (topic, seq) the name of one state for
   * good, which what others keep by that key relies on (the front thread's held full views,
   * catch-ups and delta copies, model-thread/client.ts).
   */
  private nextTopicSeq = 0;
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
  private readonly maxTombstones: number;
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
    this.maxTombstones = opts.maxTombstones ?? MAX_TOMBSTONES;
    for (const v of VIEW_IDS) this.renderers.set(v, new ViewRenderer(model, v));
    this.classifier = new ChangeClassifier(model);
    for (const v of VIEW_IDS) if (VIEWS[v].groupBy !== undefined) this.groupCounts.set(v, new GroupCounts(model, VIEWS[v]));
    model.onChange((c) => this.onModelChange(c));
  }

  private onModelChange(c: ChangeSet): void {
    const kind = this.classifier.classify(c.changed);
    for (const [v, counts] of this.groupCounts) counts.note(c.changed[VIEWS[v].base]);
    for (const v of VIEW_IDS) {
      this.dirty.add(v);
      this.renderers.get(v)!.note(c.changed, kind);
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
    if (!this.watched.has(view)) return 0;
    // A REST answer may have rendered the view since the change (current()): it is clean then, but
    // the ids that render changed wait in `since` for this tick; skipped, they were published only
    // with the view's next change (a paused container shown running until something else moved).
    if (!this.dirty.has(view) && (this.since.get(view)?.size ?? 0) === 0) return performance.now() - started;
    const r = this.dirty.has(view) ? this.renderNow(view) : this.renders.get(view)!;
    const pending = this.pending.get(view);
    this.pending.delete(view);
    const ids = this.since.get(view) ?? new Set<string>();
    this.since.delete(view);
    const published: string[] = [];
    for (const t of this.topics.values()) {
      if (t.view !== view) continue;
      const msg = this.deltaMessage(t, r, ids, pending);
      if (msg !== null) {
        t.recent.push(t.seq, msg);
        this.opts.publish(t.name, msg);
        published.push(t.name);
      }
    }
    if (published.length > 0) this.opts.afterPublish?.(published, pending?.arrivedAt ?? null);
    return performance.now() - started;
  }

  private deltaMessage(t: Topic, r: RenderedView, ids: ReadonlySet<string>, pending: Pending | undefined): string | null {
    const add: string[] = [];
    const update: string[] = [];
    const remove: string[] = [];
    const seq = t.seq + 1;
    for (const id of ids) {
      const n = r.nodes.get(id);
      const old = t.nodes.get(id);
      if (n !== undefined && passes(t.filters, n.facets)) {
        t.nodes.set(id, n);
        if (old === undefined) add.push(n.json);
        else if (old === n || sameParts(old.parts, n.parts)) continue;
        else update.push(nodePatch(old, n));
      } else if (old !== undefined) {
        remove.push(id);
        t.nodes.delete(id);
      } else continue;
      t.changedAt.delete(id);
      t.changedAt.set(id, seq);
    }
    if (add.length === 0 && update.length === 0 && remove.length === 0) return null;
    t.seq = seq;
    this.pruneTombstones(t);
    // A full message or catch-up kept past its reuse time only holds memory (15 MB for 10,000 containers).
    const now = performance.now();
    if (t.full !== null && now - t.full.at >= FULL_REUSE_MS) t.full = null;
    for (const [base, c] of t.catchups) if (now - c.at >= FULL_REUSE_MS) t.catchups.delete(base);
    return (
      messageHead(t, 'delta') +
      `,"add":[${add.join(',')}],"update":[${update.join(',')}],"remove":${JSON.stringify(remove)}` +
      `,"arrivedAt":${pending?.arrivedAt ?? Date.now()},"reports":${JSON.stringify(pending?.sources ?? [])}}`
    );
  }

  /** Drops the oldest change entries while the topic remembers more removed ids than allowed. */
  private pruneTombstones(t: Topic): void {
    if (t.changedAt.size <= t.nodes.size + this.maxTombstones) return;
    for (const [id, seq] of t.changedAt) {
      if (t.changedAt.size <= t.nodes.size + this.maxTombstones) break;
      t.changedAt.delete(id);
      if (seq > t.floor) t.floor = seq;
    }
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
      const nodes = new Map<string, RenderedNode>();
      for (const [id, n] of r.nodes) if (passes(filters, n.facets)) nodes.set(id, n);
      const seq = this.nextTopicSeq;
      t = { name, view, filters, seq, nodes, subscribers: 0, full: null, changedAt: new Map(), floor: seq, catchups: new Map(), recent: new RecentDeltas() };
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

  /** The topic's seq: how many deltas it has published. Null when nobody watches it. */
  topicSeq(topic: string): number | null {
    return this.topics.get(topic)?.seq ?? null;
  }

  /** The topic's full message now (a subscriber whose catch-up cannot be built starts again); null if gone. */
  full(topic: string): { seq: number; message: string } | null {
    const t = this.topics.get(topic);
    return t ? fullOf(t) : null;
  }

  /**
   * What brings a client holding the topic at `seq` closer to its current seq: the deltas
   * published since, when they are all kept; else one `catchup` message (the nodes changed since
   * `seq` as they are now, and the ids removed since) when the topic still knows every change
   * after `seq`, shared with the other clients at `seq` (its `seq` may then be behind the topic's:
   * `current` is false and the client asks again from there); else null (the client needs a
   * newer full view).
   */
  deltasAfter(topic: string, seq: number): { seq: number; messages: string[]; current: boolean } | null {
    const t = this.topics.get(topic);
    if (!t) return null;
    if (t.seq === seq) return { seq, messages: [], current: true };
    const deltas = t.recent.since(seq);
    if (deltas !== null) return { seq: t.seq, messages: deltas, current: true };
    const shared = t.catchups.get(seq);
    if (shared !== undefined && (shared.seq === t.seq || t.recent.since(shared.seq) !== null)) return { seq: shared.seq, messages: [shared.message], current: shared.seq === t.seq };
    if (seq < t.floor) return null;
    const message = catchupMessage(t, seq);
    t.catchups.set(seq, { seq: t.seq, message, at: performance.now() });
    return { seq: t.seq, messages: [message], current: true };
  }

  unsubscribe(topic: string): void {
    const t = this.topics.get(topic);
    if (!t) return;
    t.subscribers--;
    if (t.subscribers <= 0) {
      this.topics.delete(topic);
      this.nextTopicSeq = Math.max(this.nextTopicSeq, t.seq + 1);
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

/** The members every feed message of the topic starts with: type, view, filter and the topic's seq. */
function messageHead(t: Topic, type: 'full' | 'delta' | 'catchup'): string {
  return `{"type":"${type}","view":${JSON.stringify(t.view)},"filter":${JSON.stringify(filterKey(t.filters))},"seq":${t.seq}`;
}

/**
 * A full message of the topic: the last one built while younger than FULL_REUSE_MS (its
 * subscribers are sent the deltas after its seq), else one built now. 100 clients joining a
 * 10,000-container view would otherwise build a 15 MB string each time the view moved on.
 */
function fullOf(t: Topic): { seq: number; message: string } {
  const now = performance.now();
  if (t.full === null || (t.full.seq !== t.seq && (now - t.full.at >= FULL_REUSE_MS || t.full.seq < t.floor))) {
    t.full = { seq: t.seq, at: now, message: `${messageHead(t, 'full')},"nodes":[${[...t.nodes.values()].map((n) => n.json).join(',')}]}` };
  }
  return t.full;
}

/**
 * The topic's changes after `base` as one message: the nodes changed since, as they are now
 * (`add`: a client upserts them), and the ids removed since. Applied to the full view at
 * `base`, it gives the view at `seq`. Built only for clients catching up, from the change
 * entries past `base` (Topic.changedAt).
 */
function catchupMessage(t: Topic, base: number): string {
  const add: string[] = [];
  const remove: string[] = [];
  for (const [id, seq] of t.changedAt) {
    if (seq <= base) continue;
    const n = t.nodes.get(id);
    if (n !== undefined) add.push(n.json);
    else remove.push(id);
  }
  return `${messageHead(t, 'catchup')},"base":${base},"add":[${add.join(',')}],"remove":${JSON.stringify(remove)}}`;
}

