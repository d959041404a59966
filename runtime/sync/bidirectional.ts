/**
 * Bidirectional replication between side `a` (the source) and side `b` (the
 * target). Changed paths are processed in parallel (up to PARALLEL at a
 * time), but a path never runs beside itself, an ancestor or a descendant,
 * and related paths start in arrival order (a parent's create before its
 * child's, a child's delete before its parent's). For each path both sides are
 * read, `decide` (conflicts.ts) compares them with the path's
 * baseline, and the copy is written conditionally on the version just read,
 * so a concurrent change makes the write fail and the path is decided again
 * (now as a conflict) instead of being overwritten unseen.
 *
 * No echo loops: our own write comes back as a watch event, the re-read finds
 * both sides equal and only the baseline is refreshed.
 */
import { createHash } from 'node:crypto';
import { decide, sameContent, type Baseline, type SideState, type Strategy } from './conflicts';
import { SyncError, errorCode, isCode, type SyncErrorCode } from './errors';
import { depthOf, parentOf, type PathFilter } from './paths';
import { SEQUENCE_MARKER } from './sequence';
import { WALK_SESSIONS, readTree, type NodeRecord } from './tree-walk';
import { topRoots } from './verify';
import type { ZkClient } from './zk/client';
import { CreateMode, type WatchEvent } from './zk/types';

export type Side = 'a' | 'b';
const NAMES: Record<Side, 'source' | 'target'> = { a: 'source', b: 'target' };

export interface StateSummary {
  exists: boolean;
  bytes?: number;
  sha1?: string;
  mtime?: string;
}

export interface ConflictRecord {
  path: string;
  detectedAt: string;
  strategy: Strategy;
  source: StateSummary;
  target: StateSummary;
  /** Which side's state was kept, and when; absent while open (manual). */
  resolution?: { kept: 'source' | 'target'; at: string };
}

export interface BidirectionalOptions {
  filter: PathFilter;
  strategy: Strategy;
  onApplied?: (path: string, from: Side, lagMs: number) => void;
  onConflict?: (c: ConflictRecord) => void;
  onError?: (code: SyncErrorCode, path: string, err: unknown) => void;
}

const MAX_ATTEMPTS = 5;
/** Unrelated paths processed at the same time. */
const PARALLEL = 64;
/** How far down the queue a free worker looks for a path not blocked by a related one. */
const SCAN = 512;
const RESOLVED_KEPT = 200;

function summary(s: SideState): StateSummary {
  if (!s.exists) return { exists: false };
  return {
    exists: true,
    bytes: s.data?.length ?? 0,
    sha1: createHash('sha1')
      .update(s.data ?? Buffer.alloc(0))
      .digest('hex'),
    mtime: new Date(s.mtime).toISOString(),
  };
}

function fromRecord(n: NodeRecord | undefined): SideState {
  return n === undefined ? { exists: false } : { exists: true, data: n.data, version: n.stat.version, mzxid: n.stat.mzxid, mtime: n.stat.mtime };
}

export class BidirectionalReplicator {
  private readonly baseline = new Map<string, Baseline>();
  private readonly open = new Map<string, ConflictRecord>();
  private readonly resolved: ConflictRecord[] = [];
  private readonly pending = new Set<string>();
  private readonly order: string[] = [];
  private readonly firstSeen = new Map<string, number>();
  /** Paths being processed, and for each ancestor of one how many are below it. */
  private readonly busy = new Set<string>();
  private readonly busyBelow = new Map<string, number>();
  private paused = true;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private a: ZkClient,
    private b: ZkClient,
    private readonly options: BidirectionalOptions,
  ) {}

  setClients(a: ZkClient, b: ZkClient): void {
    this.a = a;
    this.b = b;
  }

  get backlog(): number {
    return this.pending.size + this.busy.size;
  }

  get oldestPendingMs(): number | undefined {
    const first = this.order[0];
    return first === undefined ? undefined : Date.now() - (this.firstSeen.get(first) ?? Date.now());
  }

  /** Conflicts kept for manual resolution. */
  openConflicts(): ConflictRecord[] {
    return [...this.open.values()];
  }

  /** The most recent conflicts resolved by the strategy or by hand (what the losing side held). */
  resolvedConflicts(): ConflictRecord[] {
    return [...this.resolved];
  }

  handle(side: Side, ev: WatchEvent): void {
    void side; // both sides' events mean the same: the path needs a decision
    if (ev.type === 'childrenChanged' || !this.options.filter.includes(ev.path) || ev.path.endsWith('/' + SEQUENCE_MARKER)) return;
    this.enqueue(ev.path);
  }

  private enqueue(path: string): void {
    if (!this.pending.has(path)) {
      this.pending.add(path);
      this.order.push(path);
      this.firstSeen.set(path, Date.now());
    }
    this.run();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.run();
  }

  idle(timeoutMs = 30_000): Promise<boolean> {
    if (this.backlog === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Is `path` the same as, an ancestor of or a descendant of a path in `set` (with `below` its ancestor counts)? */
  private static related(path: string, set: ReadonlySet<string>, below: ReadonlyMap<string, number>): boolean {
    if (set.size === 0) return false;
    if (set.has(path) || (below.get(path) ?? 0) > 0) return true;
    for (let p = path; p !== '/'; ) {
      p = parentOf(p);
      if (set.has(p)) return true;
    }
    return false;
  }

  private static mark(path: string, set: Set<string>, below: Map<string, number>, delta: 1 | -1): void {
    if (delta === 1) set.add(path);
    else set.delete(path);
    for (let p = path; p !== '/'; ) {
      p = parentOf(p);
      const n = (below.get(p) ?? 0) + delta;
      if (n === 0) below.delete(p);
      else below.set(p, n);
    }
  }

  /** The first queued path free to start: not related to a busy path nor to an earlier queued one. */
  private takeRunnable(): string | undefined {
    const skipped = new Set<string>();
    const skippedBelow = new Map<string, number>();
    const n = Math.min(this.order.length, SCAN);
    for (let i = 0; i < n; i++) {
      const path = this.order[i]!;
      if (BidirectionalReplicator.related(path, this.busy, this.busyBelow) || BidirectionalReplicator.related(path, skipped, skippedBelow)) {
        BidirectionalReplicator.mark(path, skipped, skippedBelow, 1);
        continue;
      }
      this.order.splice(i, 1);
      return path;
    }
    return undefined;
  }

  private run(): void {
    while (!this.paused && this.busy.size < PARALLEL && this.order.length > 0) {
      const path = this.takeRunnable();
      if (path === undefined) break;
      this.pending.delete(path);
      this.firstSeen.delete(path);
      BidirectionalReplicator.mark(path, this.busy, this.busyBelow, 1);
      void this.process(path)
        .catch((err: unknown) => {
          // After a lost connection the path is decided again after the reconnect's full reconcile.
          if (isCode(err, 'ZK_CONNECTION_LOSS', 'ZK_SESSION_EXPIRED')) this.enqueueLater(path);
          this.options.onError?.(errorCode(err), path, err);
        })
        .finally(() => {
          BidirectionalReplicator.mark(path, this.busy, this.busyBelow, -1);
          this.run();
          if (this.backlog === 0) {
            const w = this.idleWaiters;
            this.idleWaiters = [];
            for (const f of w) f();
          }
        });
    }
  }

  private enqueueLater(path: string): void {
    if (!this.pending.has(path)) {
      this.pending.add(path);
      this.order.unshift(path);
      this.firstSeen.set(path, Date.now());
    }
  }

  private async read(c: ZkClient, path: string): Promise<SideState> {
    try {
      const d = await c.getData(path);
      if (d.stat.ephemeralOwner !== 0n) return { exists: false }; // ephemerals are never replicated both ways
      return { exists: true, data: d.data, version: d.stat.version, mzxid: d.stat.mzxid, mtime: d.stat.mtime };
    } catch (err) {
      if (isCode(err, 'ZK_NO_NODE')) return { exists: false };
      throw err;
    }
  }

  /** Decides one path and writes, retrying with fresh reads when a conditional write loses a race. */
  async process(path: string, known?: { a: SideState; b: SideState }): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const [sa, sb] = attempt === 0 && known ? [known.a, known.b] : await Promise.all([this.read(this.a, path), this.read(this.b, path)]);
      const conflict = this.open.get(path);
      if (conflict) {
        // Kept for a person to resolve: follow both sides, write nothing.
        if (sameContent(sa, sb)) this.closeConflict(path, sa, sb, 'source');
        else Object.assign(conflict, { source: summary(sa), target: summary(sb) });
        return;
      }
      const d = decide(sa, sb, this.baseline.get(path), this.options.strategy, Date.now());
      if (d.kind === 'in-sync') {
        this.setBaseline(path, sa, sb);
        return;
      }
      let from: Side;
      if (d.kind === 'copy') from = d.from;
      else {
        const record: ConflictRecord = { path, detectedAt: new Date().toISOString(), strategy: this.options.strategy, source: summary(sa), target: summary(sb) };
        this.options.onConflict?.(record);
        if (d.winner === undefined) {
          this.open.set(path, record);
          return;
        }
        record.resolution = { kept: NAMES[d.winner], at: record.detectedAt };
        this.keepResolved(record);
        from = d.winner;
      }
      if (await this.copy(path, from, from === 'a' ? sa : sb, from === 'a' ? sb : sa)) return;
    }
    throw new SyncError('ZK_BAD_VERSION', `${path} kept changing on both sides; ${MAX_ATTEMPTS} attempts lost the race (decided again at the next change)`, { path });
  }

  private setBaseline(path: string, sa: SideState, sb: SideState): void {
    if (!sa.exists && !sb.exists) this.baseline.set(path, { exists: false, a: 0n, b: 0n });
    else if (sa.exists && sb.exists) this.baseline.set(path, { exists: true, a: sa.mzxid, b: sb.mzxid });
  }

  private keepResolved(c: ConflictRecord): void {
    this.resolved.push(c);
    if (this.resolved.length > RESOLVED_KEPT) this.resolved.shift();
  }

  private closeConflict(path: string, sa: SideState, sb: SideState, kept: 'source' | 'target'): void {
    const c = this.open.get(path);
    if (c) {
      c.resolution = { kept, at: new Date().toISOString() };
      this.keepResolved(c);
      this.open.delete(path);
    }
    this.setBaseline(path, sa, sb);
  }

  /** Copies `x` (state of side `from`) over `y` on the other side; false when the other side changed meanwhile. */
  private async copy(path: string, from: Side, x: SideState, y: SideState): Promise<boolean> {
    const src = from === 'a' ? this.a : this.b;
    const dst = from === 'a' ? this.b : this.a;
    try {
      let written: SideState;
      if (!x.exists) {
        if (y.exists) await dst.delete(path, y.version);
        written = { exists: false };
      } else if (y.exists) {
        const st = await dst.setData(path, x.data, y.version);
        written = { exists: true, data: x.data, version: st.version, mzxid: st.mzxid, mtime: st.mtime };
      } else {
        const acl = (await src.getAcl(path)).acl;
        const parent = parentOf(path);
        if (parent !== '/' && (await dst.exists(parent)) === null) await this.process(parent);
        // create2 returns the stat of our own create: a second read could see a later change.
        const { stat: st } = await dst.create2(path, x.data, acl, CreateMode.PERSISTENT);
        written = { exists: true, data: x.data, version: st.version, mzxid: st.mzxid, mtime: st.mtime };
      }
      if (from === 'a') this.setBaseline(path, x, written);
      else this.setBaseline(path, written, x);
      this.options.onApplied?.(path, from, x.exists ? Math.max(0, Date.now() - x.mtime) : 0);
      return true;
    } catch (err) {
      if (isCode(err, 'ZK_BAD_VERSION', 'ZK_NODE_EXISTS', 'ZK_NO_NODE')) return false;
      if (isCode(err, 'ZK_NOT_EMPTY')) {
        // Children on the other side: decide them first (deepest first), then this path again.
        const sub = await readTree(dst, path);
        for (const p of [...sub.keys()].filter((p) => p !== path).sort((m, n) => depthOf(n) - depthOf(m))) await this.process(p);
        return false;
      }
      throw err;
    }
  }

  /**
   * Resolves a conflict kept under `manual`: the chosen side's current state
   * is copied over the other. Rejects when no conflict is open on the path.
   */
  async resolve(path: string, take: 'source' | 'target'): Promise<ConflictRecord> {
    const c = this.open.get(path);
    if (!c) throw new SyncError('SYNC_USAGE', `no open conflict on ${path}`, { path });
    const from: Side = take === 'source' ? 'a' : 'b';
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const [sa, sb] = await Promise.all([this.read(this.a, path), this.read(this.b, path)]);
      this.open.delete(path);
      if (await this.copy(path, from, from === 'a' ? sa : sb, from === 'a' ? sb : sa)) {
        c.resolution = { kept: take, at: new Date().toISOString() };
        this.keepResolved(c);
        return c;
      }
      this.open.set(path, c);
    }
    throw new SyncError('ZK_BAD_VERSION', `${path} kept changing while resolving; try again`, { path });
  }

  /**
   * Full reconcile of both trees (start, and after every reconnect or
   * expiry): read each tree once, decide every path from what was read
   * (parents first), and write only where they differ.
   */
  async reconcileAll(): Promise<{ paths: number; copied: number }> {
    const roots = topRoots(this.options.filter.prefixes);
    const skip = (p: string): boolean => (!this.options.filter.includes(p) && !this.options.filter.isAncestorOfPrefix(p)) || p.endsWith('/' + SEQUENCE_MARKER);
    const ta = new Map<string, NodeRecord>();
    const tb = new Map<string, NodeRecord>();
    for (const root of roots) {
      const [ra, rb] = await Promise.all([readTree(this.a, root, { skip, sessions: WALK_SESSIONS }), readTree(this.b, root, { skip, sessions: WALK_SESSIONS })]);
      for (const [k, v] of ra) if (v.stat.ephemeralOwner === 0n) ta.set(k, v);
      for (const [k, v] of rb) if (v.stat.ephemeralOwner === 0n) tb.set(k, v);
    }
    const paths = new Set([...ta.keys(), ...tb.keys(), ...this.baseline.keys()].filter((p) => this.options.filter.includes(p) && roots.some((r) => p === r || p.startsWith(r === '/' ? '/' : r + '/'))));
    let copied = 0;
    const byDepth = new Map<number, string[]>();
    for (const p of paths) {
      const sa = fromRecord(ta.get(p));
      const sb = fromRecord(tb.get(p));
      if (sameContent(sa, sb)) {
        if (!this.open.has(p)) this.setBaseline(p, sa, sb);
        continue;
      }
      const d = depthOf(p);
      if (!byDepth.has(d)) byDepth.set(d, []);
      byDepth.get(d)!.push(p);
    }
    // Creates parents first; a deletion's children, if any, are handled by copy's NOT_EMPTY path.
    for (const depth of [...byDepth.keys()].sort((x, y) => x - y)) {
      const list = byDepth.get(depth)!;
      await Promise.all(
        Array.from({ length: Math.min(32, list.length) }, async () => {
          for (let p = list.shift(); p !== undefined; p = list.shift()) {
            try {
              await this.process(p, { a: fromRecord(ta.get(p)), b: fromRecord(tb.get(p)) });
              copied++;
            } catch (err) {
              if (isCode(err, 'ZK_CONNECTION_LOSS', 'ZK_SESSION_EXPIRED')) throw err;
              this.options.onError?.(errorCode(err), p, err);
            }
          }
        }),
      );
    }
    return { paths: paths.size, copied };
  }
}
