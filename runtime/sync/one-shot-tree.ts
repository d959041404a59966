/**
 * Change detection with one-shot watches, for servers without persistent
 * recursive watches (ZooKeeper < 3.6, where addWatch answers UNIMPLEMENTED).
 *
 * Every watched znode carries a data watch and a child watch (getData and
 * getChildren with the watch flag); an absent synced root carries an exists
 * watch. A one-shot watch fires once, so each notification re-arms first and
 * reports after: the re-arming request is sent before the replicator's read
 * of the same znode, on the same session, and ZooKeeper answers a session's
 * requests in order, so a change between the notification and the re-arm is
 * seen by that read, and one after it fires the new watch. Creates and deletes
 * arrive as "children changed" on the parent: the child list returned by the
 * re-arming getChildren is compared with the one known, and the difference is
 * reported as `created` / `deleted` events, the same events a persistent
 * recursive watch gives, so the replicators cannot tell the two apart.
 *
 * The watches are ours (zk/one-shot.ts), so the library never re-sends them;
 * after a reconnect `restore` re-registers them with SetWatches packets of at
 * most 128 KiB, relative to the last zxid seen (the server fires at once those
 * of znodes changed meanwhile), and re-lists the child lists whose re-arming
 * was lost with the connection. The engine re-diffs the tree after every
 * reconnect anyway; this only keeps the watches complete.
 *
 * Bounded: at most `maxZnodes` znodes are watched (two server-side watches
 * each). A tree over the bound fails `arm` with SYNC_WATCH_LIMIT; znodes
 * created past it while streaming are reported as errors, are not watched,
 * and are copied only by re-diffs.
 */
import { SyncError, errorCode, isCode, type SyncErrorCode } from './errors';
import type { ZkClient } from './zk/client';
import type { WatchEvent } from './zk/types';

/** Default bound on watched znodes: 400,000 server-side watches. */
export const DEFAULT_MAX_WATCHED_ZNODES = 200_000;

/** Watch reads in flight while arming a subtree. */
const ARM_IN_FLIGHT = 256;

export interface OneShotTreeOptions {
  roots: readonly string[];
  /** Whether a path is synced (excluded subtrees are neither watched nor descended into). */
  includes: (path: string) => boolean;
  /** @default DEFAULT_MAX_WATCHED_ZNODES */
  maxZnodes?: number;
  /** The changes found, in the order they were found. */
  emit: (ev: WatchEvent) => void;
  onError: (code: SyncErrorCode, path: string, err: unknown) => void;
}

const childPath = (parent: string, name: string): string => (parent === '/' ? `/${name}` : `${parent}/${name}`);

export class OneShotWatchTree {
  /** Watched znode → names of its children when last listed. */
  private readonly known = new Map<string, Set<string>>();
  /** Synced roots that do not exist: an exists watch waits for their creation. */
  private readonly absentRoots = new Set<string>();
  /** Watched znodes whose arming read was lost with the connection: armed again by `restore`. */
  private readonly unarmed = new Set<string>();
  /** Child lists whose re-arming read was lost: listed again by `restore`. */
  private readonly stale = new Set<string>();
  private closed = false;
  private readonly max: number;

  constructor(
    readonly client: ZkClient,
    private readonly options: OneShotTreeOptions,
  ) {
    this.max = options.maxZnodes ?? DEFAULT_MAX_WATCHED_ZNODES;
  }

  /** Znodes watched now. */
  get size(): number {
    return this.known.size;
  }

  /** Stops reacting (the session was replaced). */
  close(): void {
    this.closed = true;
  }

  /** Watches every synced znode (a new session has none). Rejects with SYNC_WATCH_LIMIT over the bound. */
  async arm(): Promise<void> {
    for (const root of this.options.roots) await this.armSubtree(root, false, true);
  }

  /** After a reconnect on the same session: re-register every watch, then repair what was lost in flight. */
  async restore(): Promise<void> {
    const watched = [...this.known.keys()].filter((p) => !this.unarmed.has(p));
    await this.client.restoreWatches({ data: watched, exist: [...this.absentRoots], child: watched });
    const unarmed = [...this.unarmed];
    this.unarmed.clear();
    for (const p of unarmed) this.known.delete(p);
    for (const p of unarmed) await this.armSubtree(p, false, false);
    const stale = [...this.stale];
    this.stale.clear();
    await Promise.all(stale.map((p) => this.relist(p)));
  }

  /** A raw notification of this tree's session. */
  notify(ev: WatchEvent): void {
    if (this.closed) return;
    switch (ev.type) {
      case 'dataChanged':
        if (!this.known.has(ev.path)) return;
        // Re-arm before reporting: the replicator's read goes out after it.
        this.client.watchData(ev.path).catch((err: unknown) => this.lost(ev.path, err, 'data'));
        this.options.emit(ev);
        return;
      case 'childrenChanged':
        void this.relist(ev.path);
        return;
      case 'deleted': {
        if (!this.known.has(ev.path)) return; // the child watch and the data watch both fire: report once
        this.forget(ev.path, false);
        this.options.emit(ev);
        if (this.options.roots.includes(ev.path)) void this.watchAbsentRoot(ev.path);
        return;
      }
      case 'created':
        if (!this.absentRoots.delete(ev.path)) return;
        void this.armSubtree(ev.path, true, false);
        return;
    }
  }

  private async watchAbsentRoot(root: string): Promise<void> {
    this.absentRoots.add(root);
    try {
      const stat = await this.client.watchExists(root);
      // Created between the failed read and the exists watch: no event will come.
      if (stat !== null && this.absentRoots.delete(root)) await this.armSubtree(root, true, false);
    } catch (err) {
      this.lost(root, err, 'exists');
    }
  }

  /**
   * Watches `top` and everything below it. `announce`: report each znode as
   * `created` (a subtree that appeared while streaming), parents first.
   */
  private async armSubtree(top: string, announce: boolean, strict: boolean): Promise<void> {
    const pending = [top];
    let running = 0;
    let failure: unknown;
    await new Promise<void>((resolve) => {
      const next = (): void => {
        while (running < ARM_IN_FLIGHT && pending.length > 0 && failure === undefined && !this.closed) {
          const path = pending.pop()!;
          running++;
          void this.armOne(path, path === top, announce, strict).then(
            (children) => {
              for (const c of children) pending.push(c);
            },
            (err: unknown) => (failure = err),
          ).finally(() => {
            running--;
            next();
          });
        }
        if (running === 0 && (pending.length === 0 || failure !== undefined || this.closed)) resolve();
      };
      next();
    });
    if (failure !== undefined) throw failure;
  }

  /** Arms one znode; resolves with its synced children not watched yet. */
  private async armOne(path: string, isTop: boolean, announce: boolean, strict: boolean): Promise<string[]> {
    if (this.known.has(path) || !this.options.includes(path)) return [];
    if (this.known.size >= this.max) {
      const err = new SyncError(
        'SYNC_WATCH_LIMIT',
        `one-shot watch mode watches at most ${this.max} znodes (two watches each) on ${this.client.label}; ${path} is left unwatched and only re-diffs copy it. Raise --max-watched-znodes or use ZooKeeper 3.6+ (persistent recursive watches)`,
        { path, limit: this.max },
      );
      if (strict) throw err;
      this.options.onError('SYNC_WATCH_LIMIT', path, err);
      return [];
    }
    const names = new Set<string>();
    this.known.set(path, names); // claimed before the reads: a notification meanwhile re-arms it
    try {
      const [, children] = await Promise.all([this.client.watchData(path), this.client.watchChildren(path)]);
      if (this.closed) return [];
      for (const n of children) names.add(n);
      if (announce) this.options.emit({ type: 'created', path, receivedAt: process.hrtime.bigint() });
      return children.map((n) => childPath(path, n)).filter((c) => !this.known.has(c));
    } catch (err) {
      if (isCode(err, 'ZK_NO_NODE')) {
        // Gone before we could watch it: its delete is reported by the parent's re-list.
        this.known.delete(path);
        if (isTop && this.options.roots.includes(path)) await this.watchAbsentRoot(path);
        return [];
      }
      if (isCode(err, 'ZK_CONNECTION_LOSS')) {
        this.unarmed.add(path);
        return [];
      }
      this.known.delete(path);
      this.options.onError(errorCode(err), path, err);
      return [];
    }
  }

  /** Re-arms the child watch of `path` and reports children that appeared or went. */
  private async relist(path: string): Promise<void> {
    if (!this.known.has(path) || this.closed) return;
    let now: string[];
    try {
      now = await this.client.watchChildren(path);
    } catch (err) {
      this.lost(path, err, 'children');
      return;
    }
    // Compare with the list as it is now, not as it was when this read went out: an earlier
    // re-list may have finished meanwhile (replies of one session arrive in order, so `now` is
    // the newest). Bailing out here instead lost a znode deleted and re-created between them.
    const current = this.known.get(path);
    if (this.closed || current === undefined) return;
    const after = new Set(now);
    for (const name of current) {
      if (after.has(name)) continue;
      const gone = childPath(path, name);
      if (this.known.has(gone)) this.forget(gone, true);
    }
    // New names, and names no longer watched: a znode deleted and created again under the
    // same name between two listings fired its own `deleted`, and nothing reports its return.
    const added = now.filter((n) => !current.has(n) || !this.known.has(childPath(path, n)));
    this.known.set(path, after);
    for (const n of added) void this.armSubtree(childPath(path, n), true, false).catch((err: unknown) => this.options.onError(errorCode(err), childPath(path, n), err));
  }

  /** Stops watching `path` and its subtree; `report`: emit `deleted` for each, deepest first. */
  private forget(path: string, report: boolean): void {
    const sub: string[] = [];
    const walk = (p: string): void => {
      const names = this.known.get(p);
      if (names === undefined) return;
      for (const n of names) walk(childPath(p, n));
      sub.push(p); // after its children: deepest first
    };
    walk(path);
    for (const p of sub) {
      this.known.delete(p);
      this.unarmed.delete(p);
      this.stale.delete(p);
      if (report) this.options.emit({ type: 'deleted', path: p, receivedAt: process.hrtime.bigint() });
    }
  }

  private lost(path: string, err: unknown, what: 'data' | 'children' | 'exists'): void {
    if (this.closed) return;
    if (isCode(err, 'ZK_NO_NODE')) return; // deleted: the delete's own notifications follow
    if (isCode(err, 'ZK_CONNECTION_LOSS', 'ZK_SESSION_EXPIRED')) {
      // SetWatches re-registers the watch itself; a child list may have changed meanwhile.
      if (what === 'children') this.stale.add(path);
      return;
    }
    this.options.onError(errorCode(err), path, err);
  }
}
