/**
 * The sync engine: owns the two sessions, runs the initial full sync, then
 * streams changes (one-way or bidirectional), and after every reconnect or
 * session expiry pauses streaming, re-adds the watches and re-diffs the whole
 * synced tree (ZooKeeper never replays events missed while disconnected).
 */
import { BidirectionalReplicator, type ConflictRecord } from './bidirectional';
import type { Strategy } from './conflicts';
import { SyncError, errorCode, isCode, type SyncErrorCode } from './errors';
import { OneShotWatchTree } from './one-shot-tree';
import { SyncMetrics, type Phase } from './metrics';
import { OneWayReplicator, type Applied } from './one-way';
import { PathFilter, isValidPath } from './paths';
import { syncTree, type TreeSyncResult } from './tree-sync';
import { topRoots } from './verify';
import { ZkClient, type ZkAuth } from './zk/client';
import type { Acl, ConnectionState, WatchEvent } from './zk/types';

export interface EndpointSpec {
  /** `host:port[,…][/chroot]` */
  connect: string;
  auth?: readonly ZkAuth[];
}

export interface EngineOptions {
  source: EndpointSpec;
  target: EndpointSpec;
  /** Synced prefixes. @default ['/'] */
  paths?: readonly string[];
  excludes?: readonly string[];
  mode: 'one-way' | 'bidirectional';
  conflicts: Strategy;
  ephemerals: 'skip' | 'mirror';
  /** @default 10000 */
  sessionTimeoutMs?: number;
  /** /readyz answers 200 while the oldest unapplied change is younger than this. @default 1000 */
  readyLagMs?: number;
  metrics?: SyncMetrics;
  /** Structured log lines (pino-compatible objects). */
  log?: (entry: Record<string, unknown>) => void;
  /** Called for every applied change (benchmarks). */
  onApplied?: (a: Applied) => void;
  /**
   * Change detection: `persistent` (addWatch, ZooKeeper 3.6+), `one-shot`
   * (getData/getChildren watches re-armed on every event: any version), or
   * `auto`: persistent, falling back to one-shot when the server answers
   * addWatch with UNIMPLEMENTED. @default 'auto'
   */
  watches?: 'auto' | 'persistent' | 'one-shot';
  /** One-shot mode: most znodes watched per side (see one-shot-tree.ts). */
  maxWatchedZnodes?: number;
  /**
   * Maps an ACL read on the source to the ACL the target should hold (the
   * cutover's built-in fence: fenced znodes report their original ACL).
   */
  sourceAclView?: (path: string, acl: Acl[]) => Acl[];
}

export interface EngineStatus {
  phase: Phase;
  mode: EngineOptions['mode'];
  conflictStrategy: Strategy;
  ephemerals: EngineOptions['ephemerals'];
  paths: readonly string[];
  excludes: readonly string[];
  source: { connect: string; state: ConnectionState | 'none'; session?: string };
  target: { connect: string; state: ConnectionState | 'none'; session?: string };
  lagMs?: ReturnType<SyncMetrics['recentLag']>;
  backlog: number;
  oldestPendingMs?: number;
  applied: number;
  resyncs: number;
  lastResync?: Partial<TreeSyncResult> & { at: string; durationMs: number };
  /** How changes are detected on each watched side, and how many znodes one-shot mode watches. */
  watches: Partial<Record<SideName, { kind: 'persistent' | 'one-shot'; watchedZnodes?: number }>>;
  conflicts: { open: ConflictRecord[]; recentlyResolved: ConflictRecord[] };
  errors: Partial<Record<SyncErrorCode, number>>;
  startedAt: string;
}

type SideName = 'source' | 'target';

export class SyncEngine {
  readonly metrics: SyncMetrics;
  private current: Phase = 'connecting';
  private clients: Partial<Record<SideName, ZkClient>> = {};
  private readonly filter: PathFilter;
  private oneWay?: OneWayReplicator;
  private bidi?: BidirectionalReplicator;
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;
  private stopped = false;
  private applied = 0;
  private resyncs = 0;
  private lastResync?: EngineStatus['lastResync'];
  private readonly errors: Partial<Record<SyncErrorCode, number>> = {};
  private readonly startedAt = new Date().toISOString();
  private readonly roots: string[];
  private readonly watchKind: Partial<Record<SideName, 'persistent' | 'one-shot'>> = {};
  private readonly oneShot: Partial<Record<SideName, OneShotWatchTree>> = {};

  constructor(readonly options: EngineOptions) {
    const paths = options.paths?.length ? [...options.paths] : ['/'];
    for (const p of [...paths, ...(options.excludes ?? [])]) if (!isValidPath(p)) throw new SyncError('SYNC_USAGE', `not a valid znode path: ${p}`);
    if (options.mode === 'bidirectional' && options.ephemerals === 'mirror') throw new SyncError('SYNC_USAGE', 'bidirectional mode replicates no ephemerals: use --ephemerals skip');
    this.roots = topRoots(paths);
    // Without a chroot the root holds ZooKeeper's own /zookeeper: never synced.
    this.filter = new PathFilter(paths, options.excludes ?? [], true);
    this.metrics = options.metrics ?? new SyncMetrics();
    // Every series the queries read exists from startup, at 0 (metrics.ts).
    this.metrics.track(options.mode === 'bidirectional' ? ['source-to-target', 'target-to-source'] : ['source-to-target'], options.conflicts);
    this.metrics.setPendingAge(() => (this.stopped ? undefined : this.oldestPendingMs()));
    this.metrics.setPhase('connecting');
  }

  get phase(): Phase {
    return this.current;
  }

  private setPhase(p: Phase): void {
    this.current = p;
    this.metrics.setPhase(p);
    this.log({ msg: 'phase', phase: p });
  }

  private log(entry: Record<string, unknown>): void {
    this.options.log?.(entry);
  }

  private countError(code: SyncErrorCode, path: string, err: unknown): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
    this.metrics.errors.inc({ kind: code });
    this.log({ msg: 'sync error', code, path, err: err instanceof Error ? err.message : String(err) });
  }

  /** Connects, runs the initial full sync and starts streaming. Rejects on bad input (coded errors). */
  async start(): Promise<void> {
    try {
      const sides = await Promise.allSettled([this.connectSide('source'), this.connectSide('target')]);
      for (const r of sides) if (r.status === 'rejected') throw r.reason;
      const source = this.clients.source!;
      const target = this.clients.target!;
      if (this.options.mode === 'one-way') {
        this.oneWay = new OneWayReplicator(source, target, {
          filter: this.filter,
          ephemerals: this.options.ephemerals,
          onApplied: (a) => this.onApplied(a),
          onError: (code, path, err) => this.countError(code, path, err),
        });
      } else {
        this.bidi = new BidirectionalReplicator(source, target, {
          filter: this.filter,
          strategy: this.options.conflicts,
          onApplied: (_path, from, lagMs) => {
            this.applied++;
            const direction = from === 'a' ? 'source-to-target' : 'target-to-source';
            this.metrics.synced.inc({ direction });
            this.metrics.observeLag(lagMs, direction);
          },
          onConflict: (c) => {
            this.metrics.conflicts.inc({ strategy: c.strategy });
            this.log({ msg: 'conflict', ...c });
          },
          onError: (code, path, err) => this.countError(code, path, err),
        });
      }
      this.setPhase('snapshot');
      await this.resync('initial');
      this.setPhase('streaming');
    } catch (err) {
      this.setPhase('failed');
      await this.stop('failed');
      throw err;
    }
  }

  private onApplied(a: Applied): void {
    this.applied++;
    this.metrics.synced.inc({ direction: 'source-to-target' });
    const pipeline = Number(a.appliedAt - a.receivedAt) / 1e6;
    const wall = a.sourceMtime !== undefined ? Date.now() - a.sourceMtime : 0;
    this.metrics.observeLag(Math.max(pipeline, wall), 'source-to-target');
    this.options.onApplied?.(a);
  }

  private async connectSide(side: SideName): Promise<ZkClient> {
    const spec = this.options[side];
    const client = await ZkClient.connect({ connect: spec.connect, label: side, sessionTimeoutMs: this.options.sessionTimeoutMs ?? 10_000, ...(spec.auth ? { auth: spec.auth } : {}) });
    this.clients[side] = client;
    let wasDisconnected = false;
    client.on('state', (s) => {
      if (this.stopped || this.clients[side] !== client) return;
      if (s === 'disconnected') {
        wasDisconnected = true;
        this.oneWay?.pause();
        this.bidi?.pause();
        this.log({ msg: 'disconnected', side });
      } else if (s === 'connected' && wasDisconnected) {
        wasDisconnected = false;
        this.metrics.reconnects.inc({ side });
        this.log({ msg: 'reconnected', side });
        this.scheduleResync(`${side} reconnected`);
      } else if (s === 'expired') {
        this.metrics.expiries.inc({ side });
        this.log({ msg: 'session expired', side });
        void this.replaceClient(side);
      }
    });
    client.on('watch', (ev: WatchEvent) => {
      if (this.clients[side] !== client) return;
      const tree = this.oneShot[side];
      // One-shot mode: raw notifications go through the watch tree, which re-arms and reports changes.
      if (tree?.client === client) tree.notify(ev);
      else this.dispatch(side, ev);
    });
    if (this.options.sourceAclView && side === 'source') client.setAclView(this.options.sourceAclView);
    return client;
  }

  private dispatch(side: SideName, ev: WatchEvent): void {
    if (side === 'source') {
      this.oneWay?.handle(ev);
      this.bidi?.handle('a', ev);
    } else this.bidi?.handle('b', ev);
  }

  /**
   * Sets up change detection on one side for the current session: persistent
   * recursive watches, or the one-shot watch tree (armed from scratch on a new
   * session, restored with SetWatches after a reconnect on the same one).
   */
  private async watch(side: SideName): Promise<void> {
    const client = this.clients[side]!;
    const wanted = this.options.watches ?? 'auto';
    if (wanted !== 'one-shot' && this.watchKind[side] !== 'one-shot') {
      try {
        for (const root of this.roots) await client.addPersistentRecursiveWatch(root);
        this.watchKind[side] = 'persistent';
        return;
      } catch (err) {
        if (wanted === 'persistent' || !isCode(err, 'ZK_UNIMPLEMENTED')) throw err;
        this.log({ msg: 'no persistent recursive watches on this server: one-shot watches', side });
        await client.settleAfterUnimplemented();
      }
    }
    this.watchKind[side] = 'one-shot';
    const tree = this.oneShot[side];
    if (tree?.client === client) {
      await tree.restore();
      return;
    }
    tree?.close();
    const fresh = new OneShotWatchTree(client, {
      roots: this.roots,
      includes: (p) => this.filter.includes(p),
      ...(this.options.maxWatchedZnodes !== undefined ? { maxZnodes: this.options.maxWatchedZnodes } : {}),
      emit: (ev) => {
        if (this.clients[side] === client) this.dispatch(side, ev);
      },
      onError: (code, path, err) => this.countError(code, path, err),
    });
    this.oneShot[side] = fresh;
    await fresh.arm();
  }

  /** After an expiry the library's client is dead: open a new session, retrying until stopped. */
  private async replaceClient(side: SideName): Promise<void> {
    const old = this.clients[side];
    this.oneWay?.pause();
    this.bidi?.pause();
    void old?.close();
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.connectSide(side);
        this.oneWay?.setClients(this.clients.source!, this.clients.target!);
        this.bidi?.setClients(this.clients.source!, this.clients.target!);
        this.scheduleResync(`${side} session expired`);
        return;
      } catch (err) {
        this.countError(errorCode(err), '/', err);
        await sleep(Math.min(5000, 200 * 2 ** attempt));
      }
    }
  }

  private scheduleResync(reason: string): void {
    if (this.stopped) return;
    if (this.resyncing) {
      this.resyncAgain = true;
      return;
    }
    this.resyncing = (async () => {
      do {
        this.resyncAgain = false;
        this.setPhase('resyncing');
        try {
          await this.resync(reason);
          if (!this.resyncAgain) this.setPhase('streaming');
        } catch (err) {
          this.countError(errorCode(err), '/', err);
          this.resyncAgain = true;
          await sleep(500);
        }
      } while (this.resyncAgain && !this.stopped);
      this.resyncing = undefined;
    })();
  }

  /** Watches first, then the full diff, so that no change falls between the two. */
  private async resync(reason: string): Promise<void> {
    const start = performance.now();
    this.oneWay?.pause();
    this.bidi?.pause();
    const source = this.clients.source!;
    const target = this.clients.target!;
    await this.watch('source');
    if (this.bidi) await this.watch('target');
    let result: Partial<TreeSyncResult> = {};
    if (this.oneWay) {
      result = await syncTree(source, target, {
        filter: this.filter,
        ephemerals: this.options.ephemerals,
        targetHasAuth: (this.options.target.auth?.length ?? 0) > 0,
        onError: (path, err) => this.countError(err.code, path, err),
      });
      this.applied += (result.created ?? 0) + (result.updated ?? 0) + (result.deleted ?? 0);
      this.metrics.synced.inc({ direction: 'source-to-target' }, (result.created ?? 0) + (result.updated ?? 0) + (result.deleted ?? 0));
      this.oneWay.resume();
    } else if (this.bidi) {
      const r = await this.bidi.reconcileAll();
      result = { sourceNodes: r.paths };
      this.bidi.resume();
    }
    this.resyncs++;
    this.lastResync = { ...result, at: new Date().toISOString(), durationMs: Math.round(performance.now() - start) };
    this.log({ msg: 'resync done', reason, ...this.lastResync });
  }

  /** Resolves when no change is queued or in flight and no resync runs (false on timeout). */
  async waitIdle(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.resyncing) {
        await Promise.race([this.resyncing, sleep(deadline - Date.now())]);
        continue;
      }
      const left = deadline - Date.now();
      const ok = this.oneWay ? await this.oneWay.idle(left) : this.bidi ? await this.bidi.idle(left) : true;
      if (ok && !this.resyncing && this.current === 'streaming') return true;
      await sleep(20);
    }
    return false;
  }

  /** Ready: streaming, both sides connected, and the oldest unapplied change younger than readyLagMs. */
  readiness(): { ready: boolean; reason: string } {
    if (this.current !== 'streaming') return { ready: false, reason: `phase ${this.current}` };
    for (const side of ['source', 'target'] as const) if (this.clients[side]?.state !== 'connected') return { ready: false, reason: `${side} not connected` };
    const age = this.oldestPendingMs();
    const limit = this.options.readyLagMs ?? 1000;
    if (age !== undefined && age > limit) return { ready: false, reason: `oldest unapplied change is ${age} ms old (limit ${limit})` };
    return { ready: true, reason: 'streaming' };
  }

  private oldestPendingMs(): number | undefined {
    if (this.oneWay) {
      const t = this.oneWay.oldestPending;
      return t === undefined ? undefined : Math.round(Number(process.hrtime.bigint() - t) / 1e6);
    }
    return this.bidi?.oldestPendingMs;
  }

  async resolveConflict(path: string, take: 'source' | 'target'): Promise<ConflictRecord> {
    if (!this.bidi) throw new SyncError('SYNC_USAGE', 'conflicts exist only in bidirectional mode');
    return this.bidi.resolve(path, take);
  }

  status(): EngineStatus {
    const side = (s: SideName): EngineStatus['source'] => {
      const c = this.clients[s];
      return { connect: this.options[s].connect, state: c?.state ?? 'none', ...(c ? { session: c.session.hex } : {}) };
    };
    const backlog = this.oneWay?.backlog ?? this.bidi?.backlog ?? 0;
    this.metrics.backlog.set(backlog);
    const open = this.bidi?.openConflicts() ?? [];
    this.metrics.openConflicts.set(open.length);
    const lag = this.metrics.recentLag();
    const oldest = this.oldestPendingMs();
    return {
      phase: this.current,
      mode: this.options.mode,
      conflictStrategy: this.options.conflicts,
      ephemerals: this.options.ephemerals,
      paths: this.filter.prefixes,
      excludes: this.filter.excludes,
      source: side('source'),
      target: side('target'),
      ...(lag ? { lagMs: lag } : {}),
      backlog,
      ...(oldest !== undefined ? { oldestPendingMs: oldest } : {}),
      applied: this.applied,
      resyncs: this.resyncs,
      ...(this.lastResync ? { lastResync: this.lastResync } : {}),
      watches: Object.fromEntries(
        (Object.keys(this.watchKind) as SideName[]).map((s) => [s, { kind: this.watchKind[s]!, ...(this.watchKind[s] === 'one-shot' ? { watchedZnodes: this.oneShot[s]?.size ?? 0 } : {}) }]),
      ),
      conflicts: { open, recentlyResolved: this.bidi?.resolvedConflicts() ?? [] },
      errors: { ...this.errors },
      startedAt: this.startedAt,
    };
  }

  /** The engine's current session on one side (tests expire it). */
  client(side: SideName): ZkClient | undefined {
    return this.clients[side];
  }

  async stop(phase: Phase = 'stopped'): Promise<void> {
    this.stopped = true;
    for (const tree of Object.values(this.oneShot)) tree?.close();
    this.oneWay?.pause();
    this.bidi?.pause();
    await Promise.all(Object.values(this.clients).map((c) => c?.close()));
    if (phase === 'stopped') this.setPhase('stopped');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
