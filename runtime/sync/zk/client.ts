/**
 * A promise-based ZooKeeper client for the sync engine: node-zookeeper-client
 * 1.1.3 underneath, with our guards (guards.ts), persistent recursive watches
 * (add-watch.ts), typed results (types.ts) and coded errors (../errors.ts).
 *
 * What it deliberately does not do: retry. The library's `retries` would
 * re-send non-idempotent writes after a connection loss; here every failure is
 * returned to the caller, which re-reads state before writing again.
 */
import { EventEmitter } from 'node:events';
import { SyncError, codeOfZk } from '../errors';
import { isValidPath } from '../paths';
import { AddWatchMode, AddWatchRequest, onNotification } from './add-watch';
import { installGuards, JUTE_MAX_BUFFER } from './guards';
import { OP_ONE_SHOT, decodeChildren, decodeData, decodeExists, encodePathWatch, encodeSetWatches, type WatchSet } from './one-shot';
import { installFraming, installReadTimeout, installWriteCoalescing } from './io';
import { lib, type LibAcl, type LibClient, type LibException, type LibStat, type LibTransaction } from './library';
import { OP, RawBatch, RawRequest, decodeAclOnly, decodeCreate2, decodeGetAcl, decodeMultiRead, decodeStat, encodeCreate, encodeMultiRead, encodeSetData, type ReadOp, type ReadResult } from './raw';
import type { Acl, ConnectionState, Stat, WatchEvent, WriteOp } from './types';

export type { ReadOp, ReadResult } from './raw';

export interface ZkAuth {
  scheme: string;
  /** For `digest`: `user:password`. */
  auth: string;
}

export interface ZkClientOptions {
  /** `host:port[,host:port…][/chroot]` */
  connect: string;
  /** Names this client in errors and logs, e.g. `source`. */
  label: string;
  /** @default 10000 */
  sessionTimeoutMs?: number;
  /** How long `ZkClient.connect` waits for the first session. @default 10000 */
  connectTimeoutMs?: number;
  auth?: readonly ZkAuth[];
  /** The servers' jute.maxbuffer. @default JUTE_MAX_BUFFER */
  maxPacketBytes?: number;
  /** Re-use a session (tests use this to expire the engine's session). */
  session?: { id: Buffer; password: Buffer };
}

export interface NodeData {
  data: Buffer | null;
  stat: Stat;
}

export interface MultiFailure {
  /** Index in the batch of the op that failed. */
  index: number;
  code: ReturnType<typeof codeOfZk>;
}

const EVENT_TYPES: Record<number, WatchEvent['type']> = { 1: 'created', 2: 'deleted', 3: 'dataChanged', 4: 'childrenChanged' };

export function toStat(s: LibStat): Stat {
  return {
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: s.ephemeralOwner.readBigInt64BE(0),
    mtime: Number(s.mtime.readBigInt64BE(0)),
    ctime: Number(s.ctime.readBigInt64BE(0)),
    mzxid: s.mzxid.readBigInt64BE(0),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  };
}

function toLibAcl(acl: readonly Acl[]): LibAcl[] {
  return acl.map((a) => new lib.ACL(a.perms, new lib.Id(a.scheme, a.id)));
}


export declare interface ZkClient {
  on(event: 'state', listener: (state: ConnectionState) => void): this;
  on(event: 'watch', listener: (event: WatchEvent) => void): this;
}

export class ZkClient extends EventEmitter {
  private readonly client: LibClient;
  private current: ConnectionState = 'disconnected';
  private closed = false;
  private readonly readTimeout: { touch: () => void; stop: () => void };
  private pool: { server: string; size: number; clients: Promise<ZkClient[]> } | undefined;
  private noMultiRead = false;
  private aclView: ((path: string, acl: Acl[]) => Acl[]) | undefined;
  /** Raw requests issued in this tick, sent together at its end (see RawBatch). */
  private rawBatch: RawRequest[] | undefined;

  private constructor(readonly options: ZkClientOptions) {
    super();
    this.client = lib.createClient(options.connect, {
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      spinDelay: 200,
      retries: 0,
      ...(options.session ? { sessionId: options.session.id, sessionPassword: options.session.password } : {}),
    });
    installGuards(this.client.connectionManager, { maxPacketBytes: options.maxPacketBytes ?? JUTE_MAX_BUFFER });
    this.readTimeout = installReadTimeout(this.client.connectionManager, () => this.client.getSessionTimeout());
    installFraming(this.client.connectionManager, this.readTimeout.touch);
    installWriteCoalescing(this.client.connectionManager);
    onNotification(this.client.connectionManager, (ev) => {
      const type = EVENT_TYPES[ev.type];
      if (type !== undefined) this.emit('watch', { type, path: ev.path, receivedAt: process.hrtime.bigint() } satisfies WatchEvent);
    });
    this.client.on('state', (s) => {
      const next: ConnectionState | undefined =
        s.name === 'SYNC_CONNECTED' ? 'connected' : s.name === 'DISCONNECTED' ? 'disconnected' : s.name === 'EXPIRED' ? 'expired' : s.name === 'AUTH_FAILED' ? 'authFailed' : undefined;
      if (next === undefined || this.closed) return;
      this.current = next;
      this.emit('state', next);
    });
    for (const a of options.auth ?? []) this.client.addAuthInfo(a.scheme, Buffer.from(a.auth));
  }

  /**
   * Connects and checks that the chroot exists. Rejects with ZK_UNREACHABLE,
   * ZK_AUTH_FAILED or ZK_CHROOT_MISSING; never leaves a client running behind.
   */
  static async connect(options: ZkClientOptions): Promise<ZkClient> {
    if (!/^[^/]+(\/.*)?$/.test(options.connect)) throw new SyncError('SYNC_USAGE', `bad connect string for ${options.label}: ${options.connect}`);
    const c = new ZkClient(options);
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new SyncError('ZK_UNREACHABLE', `${options.label} ensemble ${options.connect} did not answer within ${timeoutMs} ms`)), timeoutMs);
        c.on('state', (s) => {
          if (s === 'connected') {
            clearTimeout(timer);
            resolve();
          } else if (s === 'authFailed') {
            clearTimeout(timer);
            reject(new SyncError('ZK_AUTH_FAILED', `${options.label} ensemble refused the credentials (schemes: ${(options.auth ?? []).map((a) => a.scheme).join(', ')})`));
          } else if (s === 'expired') {
            clearTimeout(timer);
            reject(new SyncError('ZK_SESSION_EXPIRED', `${options.label} session expired while connecting`));
          }
        });
        c.client.connect();
      });
      // Auth packets are answered after the connect response: a round trip
      // makes sure a refused credential is seen before we report success.
      const root = await c.exists('/');
      if (c.current === 'authFailed') throw new SyncError('ZK_AUTH_FAILED', `${options.label} ensemble refused the credentials`);
      const chroot = c.chroot;
      if (root === null) throw new SyncError('ZK_CHROOT_MISSING', `${options.label} chroot ${chroot} does not exist on ${options.connect}; create it first`, { chroot });
      return c;
    } catch (err) {
      await c.close();
      if (err instanceof SyncError && err.code === 'ZK_CONNECTION_LOSS' && c.current === 'authFailed') {
        throw new SyncError('ZK_AUTH_FAILED', `${options.label} ensemble refused the credentials`);
      }
      throw err;
    }
  }

  get state(): ConnectionState {
    return this.current;
  }

  get chroot(): string | undefined {
    return this.client.connectionManager.chrootPath || undefined;
  }

  get label(): string {
    return this.options.label;
  }

  /** Session id and password (hex id for logs; the raw pair for tests). */
  get session(): { id: Buffer; password: Buffer; hex: string } {
    const id = this.client.getSessionId();
    return { id, password: this.client.getSessionPassword(), hex: id.toString('hex') };
  }

  /** Negotiated session timeout. */
  get sessionTimeoutMs(): number {
    return this.client.getSessionTimeout();
  }

  /** Drops the TCP connection (the session survives): for tests of reconnect handling. */
  dropConnection(): void {
    this.client.connectionManager.socket?.destroy();
  }

  private fail(op: string, path: string, err: LibException | SyncError): SyncError {
    if (err instanceof SyncError) return err;
    const zk = typeof err.getCode === 'function' ? err.getCode() : 0;
    return new SyncError(codeOfZk(zk), `${op} ${path} on ${this.options.label}: ${err.message}`, { path, zkCode: zk });
  }

  /**
   * Runs a library call, turning its synchronous assertion errors (bad path,
   * data over 1 MiB) into coded errors instead of exceptions thrown at us.
   */
  private call<T>(op: string, path: string, fn: (resolve: (v: T) => void, reject: (e: unknown) => void) => void): Promise<T> {
    // Our raw requests issued earlier in this tick leave first: a session's
    // requests must reach the server in the order they were issued.
    this.flushRaw();
    return new Promise<T>((resolve, reject) => {
      try {
        fn(resolve, reject);
      } catch (err) {
        const msg = (err as Error).message;
        const code = /data must be equal of smaller/.test(msg) ? 'ZK_REQUEST_TOO_LARGE' : 'SYNC_USAGE';
        reject(new SyncError(code, `${op} ${path} on ${this.options.label}: ${msg}`, { path }));
      }
    });
  }

  /**
   * Encoded and decoded by us (raw.ts, one-shot.ts), not by the library: this
   * is the read of every streamed change, and the library's generic decoder
   * and Stat conversion cost more CPU than the request itself.
   */
  getData(path: string): Promise<NodeData> {
    if (!isValidPath(path)) return Promise.reject(new SyncError('SYNC_USAGE', `getData ${path} on ${this.options.label}: not a valid znode path`, { path }));
    return this.raw('getData', path, OP.getData, encodePathWatch(this.full(path), false)).then(decodeData);
  }

  getChildren(path: string): Promise<{ children: string[]; stat: Stat }> {
    return this.call('getChildren', path, (resolve, reject) =>
      this.client.getChildren(path, (err, children, stat) => (err ? reject(this.fail('getChildren', path, err)) : resolve({ children, stat: toStat(stat) }))),
    );
  }

  /** getACL, decoded by us (raw.ts): the library's generic decoder costs more than the request. */
  getAcl(path: string): Promise<{ acl: Acl[]; stat: Stat }> {
    const r = this.raw('getACL', path, OP.getACL, this.full(path)).then(decodeGetAcl);
    const view = this.aclView;
    return view ? r.then((x) => ({ acl: view(path, x.acl), stat: x.stat })) : r;
  }

  /**
   * Makes every later ACL read (getAcl, getAclOnly, hence walks and verify)
   * answer `view(path, acl)` instead of the stored ACL: the cutover's fence
   * changes the source's ACLs and the copy must keep the original ones.
   */
  setAclView(view: ((path: string, acl: Acl[]) => Acl[]) | undefined): void {
    this.aclView = view;
  }

  /** The znode's stat, or null when it does not exist. */
  exists(path: string): Promise<Stat | null> {
    return this.call('exists', path, (resolve, reject) => this.client.exists(path, (err, stat) => (err ? reject(this.fail('exists', path, err)) : resolve(stat ? toStat(stat) : null))));
  }

  /** Creates a znode; returns the created path (differs from `path` for sequential modes). */
  create(path: string, data: Buffer | null, acl: readonly Acl[], mode: number): Promise<string> {
    return this.call('create', path, (resolve, reject) =>
      this.client.create(path, data ?? undefined, toLibAcl(acl), mode, (err, created) => (err ? reject(this.fail('create', path, err)) : resolve(created))),
    );
  }

  /** A znode's ACL without its stat (the cheapest ACL read: tree walks). */
  getAclOnly(path: string): Promise<Acl[]> {
    const r = this.raw('getACL', path, OP.getACL, this.full(path)).then(decodeAclOnly);
    const view = this.aclView;
    return view ? r.then((acl) => view(path, acl)) : r;
  }

  /**
   * create2 (opcode 15): creates a znode and returns the created path and its
   * Stat from the same request, so the version and mzxid are those of our
   * create, not of whatever a later read would see.
   */
  async create2(path: string, data: Buffer | null, acl: readonly Acl[], mode: number): Promise<{ path: string; stat: Stat }> {
    if ((data?.length ?? 0) > 1048576) throw new SyncError('ZK_REQUEST_TOO_LARGE', `create ${path} on ${this.options.label}: data of ${data!.length} bytes is over ZooKeeper's 1 MiB limit`, { path });
    const r = decodeCreate2(await this.raw('create', path, OP.create2, encodeCreate(this.full(path), data, acl, mode)));
    return { path: this.relative(r.path), stat: r.stat };
  }

  /**
   * Many reads in one request (multiRead, opcode 22, ZooKeeper 3.6+): the
   * server handles the request once and answers every op in one reply, so a
   * batch of N costs about what one read costs. Each op succeeds or fails on
   * its own (`error` with ZooKeeper's code). On a server without multiRead
   * the ops are sent one by one.
   */
  async multiRead(ops: readonly ReadOp[]): Promise<ReadResult[]> {
    if (ops.length === 0) return [];
    if (!this.noMultiRead) {
      try {
        return decodeMultiRead(await this.raw('multiRead', ops[0]!.path, OP.multiRead, encodeMultiRead(ops.map((o) => this.full(o.path)), ops)));
      } catch (err) {
        if (!(err instanceof SyncError) || err.code !== 'ZK_UNIMPLEMENTED') throw err;
        this.noMultiRead = true;
        await this.settleAfterUnimplemented();
      }
    }
    return Promise.all(
      ops.map(async (o): Promise<ReadResult> => {
        try {
          if (o.op === 'getData') return { op: 'getData', ...(await this.getData(o.path)) };
          return { op: 'getChildren', children: (await this.getChildren(o.path)).children };
        } catch (err) {
          const zk = err instanceof SyncError ? (err.details.zkCode as number | undefined) : undefined;
          if (zk === undefined || zk === -4 || zk === -112) throw err;
          return { op: 'error', zkCode: zk };
        }
      }),
    );
  }

  /**
   * `k` sessions for parallel reads: this one and k-1 more to the same server
   * (the server answers one session's requests one at a time; several
   * sessions use several of its threads). Reads on the same server as this
   * session see every write this session made. Opened on first use, re-opened
   * when this session moved to another server or one of them broke, closed
   * with this client. Falls back to this session alone if they cannot open.
   */
  async readers(k: number): Promise<ZkClient[]> {
    const size = Math.max(1, Math.floor(k));
    if (size === 1 || this.closed) return [this];
    const server = this.currentServer();
    const current = this.pool;
    if (current && current.server === server && current.size === size) {
      const clients = await current.clients;
      if (clients.every((c) => c.state === 'connected')) return this.withView(clients);
      if (this.pool !== current) return this.readers(k);
    }
    if (current) void current.clients.then((cs) => Promise.all(cs.map((c) => c.close())));
    const chroot = this.options.connect.includes('/') ? this.options.connect.slice(this.options.connect.indexOf('/')) : '';
    const opened = Promise.allSettled(
      Array.from({ length: size - 1 }, (_, i) =>
        ZkClient.connect({
          ...this.options,
          session: undefined,
          connect: (server ?? this.options.connect.split('/')[0]!) + chroot,
          label: `${this.options.label}/r${i + 1}`,
          // A server at its connection limit (maxClientCnxns) never answers: do not wait long, read with fewer.
          connectTimeoutMs: Math.min(this.options.connectTimeoutMs ?? 10_000, 3000),
        }),
      ),
    ).then(async (r) => {
      const ok = r.filter((x): x is PromiseFulfilledResult<ZkClient> => x.status === 'fulfilled').map((x) => x.value);
      if (this.closed) {
        await Promise.all(ok.map((c) => c.close()));
        return [];
      }
      return ok;
    });
    this.pool = { server: server ?? '', size, clients: opened };
    return this.withView(await opened);
  }

  /** Read sessions answer ACL reads through this client's view (setAclView). */
  private withView(clients: ZkClient[]): ZkClient[] {
    for (const c of clients) c.aclView = this.aclView;
    return [this, ...clients];
  }

  /** `host:port` of the server this session is connected to. */
  private currentServer(): string | undefined {
    const cm = this.client.connectionManager as unknown as { servers?: { host: string; port: number }[]; nextServerIndex?: number };
    const n = cm.servers?.length ?? 0;
    if (n === 0 || cm.nextServerIndex === undefined) return undefined;
    const s = cm.servers![(cm.nextServerIndex - 1 + n) % n]!;
    return `${s.host}:${s.port}`;
  }

  private full(path: string): string {
    const root = this.client.connectionManager.chrootPath;
    return root ? (path === '/' ? root : root + path) : path;
  }

  private relative(fullPath: string): string {
    const root = this.client.connectionManager.chrootPath;
    if (!root) return fullPath;
    return fullPath === root ? '/' : fullPath.slice(root.length);
  }

  private raw(op: string, path: string, opcode: number, body: Buffer | string): Promise<Buffer> {
    const req = new RawRequest(opcode, body);
    const limit = this.options.maxPacketBytes ?? JUTE_MAX_BUFFER;
    if (req.byteSize() > limit) {
      return Promise.reject(new SyncError('ZK_REQUEST_TOO_LARGE', `${op} ${path} on ${this.options.label}: request of ${req.byteSize()} bytes is over the server's limit of ${limit} (jute.maxbuffer); not sent`, { path }));
    }
    return new Promise((resolve, reject) => {
      req.done = (err, reply) => {
        if (err) reject(this.fail(op, path, err as LibException | SyncError));
        else resolve(reply!);
      };
      if (this.rawBatch === undefined) {
        this.rawBatch = [];
        process.nextTick(() => this.flushRaw());
      }
      this.rawBatch.push(req);
    });
  }

  private flushRaw(): void {
    const items = this.rawBatch ?? [];
    this.rawBatch = undefined;
    if (items.length === 0) return;
    const cm = this.client.connectionManager;
    if (items.length === 1) cm.queue(items[0]!, (err) => err && items[0]!.done(err));
    else {
      const batch = new RawBatch(cm, items);
      cm.queue(batch, (err) => err && batch.fail(err));
    }
  }

  /**
   * `version` -1 writes unconditionally. Encoded by us (raw.ts): the library
   * throws on null data, and null (no data) must stay distinct from empty.
   */
  setData(path: string, data: Buffer | null, version: number): Promise<Stat> {
    if (!isValidPath(path)) return Promise.reject(new SyncError('SYNC_USAGE', `setData ${path} on ${this.options.label}: not a valid znode path`, { path }));
    if ((data?.length ?? 0) > 1048576) {
      return Promise.reject(new SyncError('ZK_REQUEST_TOO_LARGE', `setData ${path} on ${this.options.label}: data of ${data!.length} bytes is over ZooKeeper's 1 MiB limit`, { path }));
    }
    return this.raw('setData', path, OP.setData, encodeSetData(this.full(path), data, version)).then(decodeStat);
  }

  delete(path: string, version: number): Promise<void> {
    return this.call('remove', path, (resolve, reject) => this.client.remove(path, version, (err) => (err ? reject(this.fail('delete', path, err)) : resolve())));
  }

  setAcl(path: string, acl: readonly Acl[], version: number): Promise<Stat> {
    return this.call('setACL', path, (resolve, reject) =>
      this.client.setACL(path, toLibAcl(acl), version, (err, stat) => (err ? reject(this.fail('setACL', path, err)) : resolve(toStat(stat)))),
    );
  }

  /**
   * Runs the ops atomically (one multi request). On failure rejects with the
   * code of the op that failed and `details.index` its position.
   */
  multi(ops: readonly WriteOp[]): Promise<void> {
    const tx: LibTransaction & { ops: { version?: number }[] } = this.client.transaction() as LibTransaction & { ops: { version?: number }[] };
    for (const o of ops) {
      if ((o.op === 'create' || o.op === 'setData') && (o.data?.length ?? 0) > 1048576) {
        return Promise.reject(new SyncError('ZK_REQUEST_TOO_LARGE', `multi: data of ${o.path} is ${o.data!.length} bytes, over ZooKeeper's 1 MiB limit`, { path: o.path }));
      }
      if (o.op === 'create') tx.create(o.path, o.data ?? undefined, toLibAcl(o.acl), o.mode);
      else if (o.op === 'setData') tx.setData(o.path, o.data ?? undefined, o.version);
      else if (o.op === 'delete') tx.remove(o.path, o.version);
      else tx.check(o.path, o.version);
      // The library turns version 0 into -1 (`version || -1`): a conditional
      // write on a fresh znode would silently become unconditional.
      if (o.op !== 'create') tx.ops[tx.ops.length - 1]!.version = o.version;
    }
    return this.call('multi', ops[0]?.path ?? '/', (resolve, reject) =>
      tx.commit((err, results) => {
        if (!err) return resolve();
        if (err instanceof SyncError) return reject(err);
        const index = (results ?? []).findIndex((r) => r.err !== undefined && r.err !== 0 && r.err !== -2);
        const e = this.fail('multi', index >= 0 ? ops[index]!.path : `(${ops.length} ops)`, err);
        Object.assign(e.details, { index });
        reject(e);
      }),
    );
  }

  /**
   * Adds a persistent recursive watch on `path` (ZooKeeper 3.6+): every
   * create, delete and data change below it is emitted as a `watch` event
   * until the connection drops. Re-add after every reconnect.
   */
  addPersistentRecursiveWatch(path: string): Promise<void> {
    this.flushRaw();
    const cm = this.client.connectionManager;
    const full = cm.chrootPath ? (path === '/' ? cm.chrootPath : cm.chrootPath + path) : path;
    return new Promise((resolve, reject) =>
      cm.queue(new AddWatchRequest(full, AddWatchMode.PERSISTENT_RECURSIVE), (err) => {
        if (!err) return resolve();
        const e = this.fail('addWatch', path, err);
        reject(e.code === 'ZK_UNIMPLEMENTED' ? new SyncError('ZK_UNIMPLEMENTED', `${this.options.label} server does not support addWatch (ZooKeeper 3.6+ is required for continuous sync)`) : e);
      }),
    );
  }

  /**
   * One-shot watches (one-shot.ts), for servers without addWatch: getData,
   * getChildren and exists with the watch flag. Each fires once, as a `watch`
   * event, and must be set again. The library never learns of them, so it
   * never re-sends them; `restoreWatches` does, in chunks, after a reconnect.
   */
  watchData(path: string): Promise<NodeData> {
    return this.raw('getData', path, OP_ONE_SHOT.getData, encodePathWatch(this.full(path), true)).then(decodeData);
  }

  watchChildren(path: string): Promise<string[]> {
    return this.raw('getChildren', path, OP_ONE_SHOT.getChildren, encodePathWatch(this.full(path), true)).then(decodeChildren);
  }

  /** An exists watch: fires `created` when an absent znode appears. Null when absent. */
  watchExists(path: string): Promise<Stat | null> {
    return this.raw('exists', path, OP_ONE_SHOT.exists, encodePathWatch(this.full(path), true)).then(decodeExists, (err: unknown) =>
      err instanceof SyncError && err.code === 'ZK_NO_NODE' ? null : Promise.reject(err),
    );
  }

  /**
   * Re-registers one-shot watches on this connection (SetWatches, opcode 101),
   * split into packets far below jute.maxbuffer. The server fires at once the
   * watches of znodes changed since the last zxid this client saw. Resolves
   * with the number of packets sent.
   */
  async restoreWatches(watches: WatchSet): Promise<number> {
    const full = (l: readonly string[]): string[] => l.map((p) => this.full(p));
    const zxid = (this.client.connectionManager as unknown as { zxid?: Buffer }).zxid ?? Buffer.alloc(8);
    const bodies = encodeSetWatches(Buffer.from(zxid), { data: full(watches.data), exist: full(watches.exist), child: full(watches.child) });
    await Promise.all(bodies.map((b) => this.raw('setWatches', '/', OP_ONE_SHOT.setWatches, b)));
    return bodies.length;
  }

  /**
   * A server answers an opcode it does not know with UNIMPLEMENTED and then
   * closes the connection (its UnimplementedRequestProcessor); requests sent
   * meanwhile fail with CONNECTION_LOSS. Waits (at most 2 s) for that close,
   * then for the next connection, so that a fallback goes on over it.
   */
  async settleAfterUnimplemented(): Promise<void> {
    const next = (want: ConnectionState, ms: number): Promise<boolean> =>
      new Promise((resolve) => {
        if (this.current === want) return resolve(true);
        const timer = setTimeout(() => done(false), ms);
        const on = (s: ConnectionState): void => {
          if (s === want) done(true);
        };
        const done = (v: boolean): void => {
          clearTimeout(timer);
          this.off('state', on);
          resolve(v);
        };
        this.on('state', on);
      });
    if (this.current === 'connected' && !(await next('disconnected', 2000))) return;
    if (!(await next('connected', this.options.connectTimeoutMs ?? 10_000))) {
      throw new SyncError('ZK_CONNECTION_LOSS', `${this.options.label}: no new connection after the server closed one (it answered a request it does not know)`);
    }
  }

  /** Closes the session; resolves when the connection is gone (at most 2 s). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.readTimeout.stop();
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await pool.clients.then((cs) => Promise.all(cs.map((c) => c.close())));
    const wasConnected = this.current === 'connected';
    this.current = 'closed';
    if (!wasConnected) {
      // Stop the library's endless reconnect loop without a CloseSession round
      // trip: in CLOSING a closed socket is not retried, and a socket that a
      // pending retry opens later is closed as soon as it connects.
      const cm = this.client.connectionManager as unknown as { state: number; socket?: { destroy(): void }; onSocketConnected: () => void };
      cm.state = -1; // ConnectionManager.STATES.CLOSING
      cm.onSocketConnected = function (this: typeof cm) {
        this.socket?.destroy();
      };
      cm.socket?.destroy();
      // Requests queued while disconnected would otherwise wait forever for a
      // reconnect that will not come (a read session replaced mid-walk).
      const lost = (): LibException => lib.Exception.create(-4); // CONNECTION_LOSS
      const queued = (cm as unknown as { packetQueue?: { queue?: { callback?: (e: unknown) => void }[] } }).packetQueue;
      for (const p of queued?.queue?.splice(0) ?? []) p.callback?.(lost());
      const sent = (cm as unknown as { pendingQueue?: { callback?: (e: unknown) => void }[] }).pendingQueue;
      for (const p of sent?.splice(0) ?? []) p.callback?.(lost());
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.client.connectionManager.socket?.destroy();
        resolve();
      }, 2000);
      this.client.on('state', (s) => {
        if (s.name === 'DISCONNECTED') {
          clearTimeout(timer);
          resolve();
        }
      });
      this.client.close();
    });
  }
}
