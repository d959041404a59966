/**
 * `addWatch` (opcode 106, ZooKeeper 3.6+): persistent and persistent recursive
 * watches, which node-zookeeper-client 1.1.3 lacks.
 *
 * One persistent recursive watch on a prefix reports every create, delete and
 * data change below it, without re-arming and without one watch per znode (so
 * the library's single, unbounded SetWatches packet on reconnect never grows).
 * The server forgets the watch when the connection drops; the library does not
 * re-send it (it knows only SetWatches, opcode 101), so the caller re-adds it
 * after every reconnect, and must re-diff anyway since ZooKeeper never replays
 * events missed while disconnected.
 *
 * How it plugs into the library without patching its files:
 * - The request writes opcode 106 on the wire, but presents itself to the
 *   library's reply decoder as SetWatches: the library picks the reply decoder
 *   by the request's header type and drops the connection on opcodes it does
 *   not know; addWatch's reply has no body, exactly like SetWatches'.
 * - Notifications arrive as ordinary watcher events (xid -1); we wrap the
 *   connection's WatcherManager.emit to hand them to our listeners first.
 */
import { jute, type LibConnectionManager, type LibWatcherEvent } from './library';

export const OP_ADD_WATCH = 106;
export const AddWatchMode = { PERSISTENT: 0, PERSISTENT_RECURSIVE: 1 } as const;

/** A request object the library's ConnectionManager.queue accepts. */
export class AddWatchRequest {
  readonly header: { xid: number; type: number; byteLength(): number };
  readonly payload = null;
  private readonly pathBytes: Buffer;

  constructor(
    fullPath: string,
    private readonly mode: number,
  ) {
    this.pathBytes = Buffer.from(fullPath, 'utf8');
    this.header = { xid: 0, type: jute.OP_CODES.SET_WATCHES!, byteLength: () => 8 };
  }

  /** Packet size without the length prefix: header (xid, type) + path + mode. */
  byteSize(): number {
    return 8 + 4 + this.pathBytes.length + 4;
  }

  toBuffer(): Buffer {
    const size = this.byteSize();
    const buf = Buffer.alloc(4 + size);
    let o = buf.writeInt32BE(size, 0);
    o = buf.writeInt32BE(this.header.xid, o); // assigned by the library just before writing
    o = buf.writeInt32BE(OP_ADD_WATCH, o);
    o = buf.writeInt32BE(this.pathBytes.length, o);
    o += this.pathBytes.copy(buf, o);
    buf.writeInt32BE(this.mode, o);
    return buf;
  }
}

export type RawWatchListener = (event: LibWatcherEvent) => void;

const hooked = new WeakMap<LibConnectionManager, Set<RawWatchListener>>();

/**
 * Routes every notification of this connection to `listener` (paths already
 * relative to the chroot). Returns a function that removes the listener.
 */
export function onNotification(cm: LibConnectionManager, listener: RawWatchListener): () => void {
  let listeners = hooked.get(cm);
  if (listeners === undefined) {
    const set = new Set<RawWatchListener>();
    listeners = set;
    hooked.set(cm, set);
    const wm = cm.watcherManager;
    const original = wm.emit.bind(wm);
    wm.emit = (event: LibWatcherEvent) => {
      for (const l of set) l(event);
      // The library throws on event types it does not know (3.6+ adds some);
      // only the four it knows can belong to one of its one-shot watches.
      if (event.type >= 1 && event.type <= 4) original(event);
    };
  }
  listeners.add(listener);
  const set = listeners;
  return () => {
    set.delete(listener);
  };
}
