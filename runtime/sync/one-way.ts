/**
 * Continuous one-way replication of watch events, source → target.
 *
 * State-based, not event replay: each event triggers a fresh read of the
 * source znode and the target is made equal to what was read. Reads are
 * issued as events arrive (pipelined on the source session) and writes are
 * issued strictly in event order on the target session; ZooKeeper keeps each
 * session's requests in order, so the target sees the source's changes in the
 * source's order and the last write always carries the latest read. Writes
 * that fail because the target differs from what the event implies (a missing
 * parent, a non-empty delete) fall back to `repairPath`, awaited in order.
 */
import { isCode, errorCode, type SyncErrorCode } from './errors';
import { parentOf, type PathFilter } from './paths';
import { SEQUENCE_MARKER } from './sequence';
import { readTree } from './tree-walk';
import type { ZkClient } from './zk/client';
import { CreateMode, type Acl, type Stat, type WatchEvent } from './zk/types';

export interface Applied {
  path: string;
  type: WatchEvent['type'];
  /** hrtime when the source's notification was decoded. */
  receivedAt: bigint;
  /** hrtime when the target acknowledged the write. */
  appliedAt: bigint;
  /** Source mtime (ms, server clock) of the change, when it has one (not for deletes). */
  sourceMtime?: number;
}

export interface OneWayOptions {
  filter: PathFilter;
  ephemerals: 'skip' | 'mirror';
  onApplied?: (a: Applied) => void;
  onError?: (code: SyncErrorCode, path: string, err: unknown) => void;
}

type Read = { kind: 'present'; data: Buffer | null; stat: Stat; acl?: Acl[] } | { kind: 'absent' } | { kind: 'failed'; err: unknown };

interface Task {
  ev: WatchEvent;
  read?: Promise<Read>;
  /** A repair: re-read and fix the path in order, awaiting every step. */
  repair?: boolean;
}

export class OneWayReplicator {
  private readonly queue: Task[] = [];
  private draining = false;
  private paused = true;
  private inflight = 0;
  /** Repairs running (taken off the queue but not done: still backlog, or idle would resolve early). */
  private repairing = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private source: ZkClient,
    private target: ZkClient,
    private readonly options: OneWayOptions,
  ) {}

  /** Swaps a client after a session expiry. */
  setClients(source: ZkClient, target: ZkClient): void {
    this.source = source;
    this.target = target;
  }

  /** Events waiting to be applied. */
  get backlog(): number {
    return this.queue.length + this.inflight + this.repairing;
  }

  /** hrtime of the oldest event not yet applied, if any. */
  get oldestPending(): bigint | undefined {
    return this.queue[0]?.ev.receivedAt;
  }

  /** Accepts a source notification. */
  handle(ev: WatchEvent): void {
    if (ev.type === 'childrenChanged' || !this.options.filter.includes(ev.path) || ev.path.endsWith('/' + SEQUENCE_MARKER)) return;
    const task: Task = { ev };
    if (!this.paused) task.read = this.read(ev);
    this.queue.push(task);
    void this.drain();
  }

  /** Stops issuing reads and writes (events keep queueing): during a re-diff. */
  pause(): void {
    this.paused = true;
  }

  /** Drops reads issued before a pause (they may have failed or be stale) and goes on. */
  resume(): void {
    this.paused = false;
    for (const t of this.queue) t.read = undefined;
    void this.drain();
  }

  /** Resolves when nothing is queued or in flight (bounded by `timeoutMs`). */
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

  private checkIdle(): void {
    if (this.backlog === 0 && this.idleWaiters.length > 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  private read(ev: WatchEvent): Promise<Read> {
    if (ev.type === 'deleted') return Promise.resolve({ kind: 'absent' });
    const data = this.source.getData(ev.path);
    const acl = ev.type === 'created' ? this.source.getAcl(ev.path) : undefined;
    return Promise.all([data, acl]).then(
      ([d, a]): Read => ({ kind: 'present', data: d.data, stat: d.stat, ...(a ? { acl: a.acl } : {}) }),
      (err: unknown): Read => (isCode(err, 'ZK_NO_NODE') ? { kind: 'absent' } : { kind: 'failed', err }),
    );
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (!this.paused && this.queue.length > 0) {
        const task = this.queue[0]!;
        if (task.repair) {
          this.queue.shift();
          this.repairing++;
          try {
            await this.repairPath(task.ev.path);
            this.done(task.ev);
          } catch (err) {
            this.fail(task.ev.path, err);
          } finally {
            this.repairing--;
          }
          continue;
        }
        task.read ??= this.read(task.ev);
        const r = await task.read;
        if (this.paused) break; // a re-diff started: this read is re-issued on resume
        this.queue.shift();
        if (r.kind === 'failed') {
          this.fail(task.ev.path, r.err);
          continue;
        }
        await this.apply(task.ev, r);
      }
    } finally {
      this.draining = false;
      this.checkIdle();
    }
  }

  private fail(path: string, err: unknown): void {
    this.options.onError?.(errorCode(err), path, err);
  }

  private done(ev: WatchEvent, mtime?: number): void {
    this.options.onApplied?.({ path: ev.path, type: ev.type, receivedAt: ev.receivedAt, appliedAt: process.hrtime.bigint(), ...(mtime !== undefined ? { sourceMtime: mtime } : {}) });
  }

  /** Issues the write for one event; only repairs are awaited (they need several round trips in order). */
  private async apply(ev: WatchEvent, r: Exclude<Read, { kind: 'failed' }>): Promise<void> {
    const t = this.target;
    if (r.kind === 'present' && r.stat.ephemeralOwner !== 0n && this.options.ephemerals === 'skip') return;
    let write: Promise<unknown>;
    if (r.kind === 'absent') write = t.delete(ev.path, -1);
    else if (ev.type === 'created' && r.acl) write = t.create(ev.path, r.data, r.acl, r.stat.ephemeralOwner !== 0n ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT);
    else write = t.setData(ev.path, r.data, -1);
    this.inflight++;
    const settled = write.then(
      () => 'ok' as const,
      (err: unknown) => {
        if (r.kind === 'absent' && isCode(err, 'ZK_NO_NODE')) return 'ok' as const;
        if (isCode(err, 'ZK_CONNECTION_LOSS', 'ZK_SESSION_EXPIRED')) {
          this.fail(ev.path, err); // the re-diff after reconnect covers it
          return 'lost' as const;
        }
        return 'repair' as const;
      },
    );
    const outcome = await Promise.race([settled, Promise.resolve('pending' as const)]);
    const finish = async (o: 'ok' | 'lost' | 'repair'): Promise<void> => {
      try {
        if (o === 'repair') {
          await this.repairPath(ev.path);
          this.done(ev, r.kind === 'present' ? r.stat.mtime : undefined);
        } else if (o === 'ok') this.done(ev, r.kind === 'present' ? r.stat.mtime : undefined);
      } catch (err) {
        this.fail(ev.path, err);
      } finally {
        this.inflight--;
        this.checkIdle();
      }
    };
    if (outcome === 'pending') {
      // Fast path: do not wait; a repair, if needed, is queued behind later events.
      void settled.then((o) => (o === 'repair' ? this.enqueueRepair(ev) : finish(o)));
    } else await finish(outcome);
  }

  private enqueueRepair(ev: WatchEvent): void {
    this.inflight--;
    // Queued behind later events: the repair re-reads the source at its turn
    // and handles what a plain write could not (missing parents, non-empty deletes).
    this.queue.push({ ev, repair: true });
    void this.drain();
  }

  /**
   * Makes the target's znode at `path` equal to the source's, whatever the
   * target holds: creates missing parents, deletes a whole target subtree
   * when the source has none.
   */
  async repairPath(path: string): Promise<void> {
    const s = this.source;
    const t = this.target;
    let src: { data: Buffer | null; stat: Stat; acl: Acl[] } | undefined;
    try {
      const [d, a] = await Promise.all([s.getData(path), s.getAcl(path)]);
      src = { data: d.data, stat: d.stat, acl: a.acl };
    } catch (err) {
      if (!isCode(err, 'ZK_NO_NODE')) throw err;
    }
    if (src === undefined || (src.stat.ephemeralOwner !== 0n && this.options.ephemerals === 'skip')) {
      const sub = await readTree(t, path);
      const paths = [...sub.keys()].sort((a, b) => b.length - a.length);
      for (const p of paths) await t.delete(p, -1).catch((err: unknown) => (isCode(err, 'ZK_NO_NODE') ? undefined : Promise.reject(err)));
      return;
    }
    const parent = parentOf(path);
    if (parent !== '/' && (await t.exists(parent)) === null) await this.repairPath(parent);
    try {
      await t.create(path, src.data, src.acl, src.stat.ephemeralOwner !== 0n ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT);
    } catch (err) {
      if (!isCode(err, 'ZK_NODE_EXISTS')) throw err;
      await t.setData(path, src.data, -1);
      await t.setAcl(path, src.acl, -1);
    }
  }
}

