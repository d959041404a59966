/**
 * Socket-loop fixes for node-zookeeper-client, installed per connection.
 * Without them the library cannot read a 100,000-znode tree quickly:
 *
 * - Framing: the library re-concatenates all unread bytes after every reply it
 *   decodes (`Buffer.concat([pending, empty])`), which is quadratic in the
 *   number of replies per socket read. We split the stream into whole frames
 *   ourselves and hand the library one exact frame at a time, which it decodes
 *   without copying. Bytes left over from a previous socket are dropped (the
 *   library keeps them across reconnects and would misparse the next reply).
 * - Notifications (xid -1) are decoded here too and handed to the
 *   connection's WatcherManager as the library would: its generic decoder
 *   takes about 8-10 µs per notification (two jute records built field by
 *   field), as much CPU as the rest of a streamed change's client work; this
 *   takes well under 1 µs.
 * - Write coalescing: the library writes each request with its own
 *   `socket.write` (one syscall and one TCP segment each, Nagle off). We cork
 *   the socket for the rest of the tick so that requests issued together leave
 *   in one write; latency grows by at most one tick.
 */
import { lib, type LibConnectionManager } from './library';
import { RawBatch, RawRequest } from './raw';

interface SocketLike {
  cork(): void;
  uncork(): void;
  writable?: boolean;
  /** node's net.Socket: true until the TCP connection is established. */
  connecting?: boolean;
}

type Cm = LibConnectionManager & {
  onSocketData(buffer: Buffer): void;
  socket?: SocketLike & { destroy(): void };
  pendingQueue?: { request: unknown; callback?: (err: unknown) => void }[];
  zxid?: Buffer;
};

/**
 * The library's exception for a ZooKeeper error code, or, for a code it does not know (its
 * `Exception.create` throws on those), an Error that still carries the code.
 */
export function zkException(code: number): Error {
  try {
    return lib.Exception.create(code) as Error;
  } catch {
    return Object.assign(new Error(`ZooKeeper error code ${code}`), { code });
  }
}

/** Frame layout of a reply: length, xid, zxid, err, then the body. */
const REPLY_BODY = 4 + 4 + 8 + 4;
const XID_NOTIFICATION = -1;

/**
 * A notification frame's WatcherEvent (type, state, path), the chroot
 * removed from the path as the library does; undefined when malformed (then
 * the library decodes it and handles the error its way).
 */
export function decodeNotification(frame: Buffer, chroot: string | undefined): { type: number; state: number; path: string } | undefined {
  if (frame.length < REPLY_BODY + 12) return undefined;
  const type = frame.readInt32BE(REPLY_BODY);
  const state = frame.readInt32BE(REPLY_BODY + 4);
  const n = frame.readInt32BE(REPLY_BODY + 8);
  if (n < 0 || REPLY_BODY + 12 + n > frame.length) return undefined;
  let path = frame.toString('utf8', REPLY_BODY + 12, REPLY_BODY + 12 + n);
  if (chroot) path = path === chroot ? '/' : path.substring(chroot.length);
  return { type, state, path };
}

export function installFraming(connectionManager: LibConnectionManager, onBytes?: () => void): void {
  const cm = connectionManager as Cm;
  const decodeOne = cm.onSocketData.bind(cm);
  let owner: unknown;
  let chunks: Buffer[] = [];
  let buffered = 0;

  cm.onSocketData = function (chunk: Buffer): void {
    if (owner !== cm.socket) {
      owner = cm.socket;
      chunks = [];
      buffered = 0;
      (cm as unknown as { pendingBuffer: Buffer | null }).pendingBuffer = null;
    }
    if (chunk.length === 0) return;
    onBytes?.();
    chunks.push(chunk);
    buffered += chunk.length;
    while (buffered >= 4) {
      let head = chunks[0]!;
      if (head.length < 4) {
        head = Buffer.concat(chunks);
        chunks = [head];
      }
      const frame = 4 + head.readInt32BE(0);
      if (buffered < frame) break;
      if (head.length < frame) {
        head = Buffer.concat(chunks);
        chunks = [head];
      }
      const one = head.subarray(0, frame);
      if (head.length === frame) chunks.shift();
      else chunks[0] = head.subarray(frame);
      buffered -= frame;
      // Replies to our own requests (raw.ts) are completed here, as the
      // library would (pending queue in order, last zxid seen), without its
      // generic decoding: the body is handed to the request as it is.
      if (cm.state !== 1 /* CONNECTING: the connect response */ && frame >= REPLY_BODY && one.readInt32BE(4) === XID_NOTIFICATION) {
        const event = decodeNotification(one, cm.chrootPath);
        if (event !== undefined) {
          try {
            cm.watcherManager.emit(event);
          } catch {
            // As for a reply the library cannot decode (below): drop the connection, never the process.
            cm.socket?.destroy();
            return;
          }
          if (owner !== cm.socket) return; // a listener dropped the connection
          continue;
        }
      }
      if (cm.state !== 1 /* CONNECTING: the connect response */ && frame >= REPLY_BODY) {
        const head0 = cm.pendingQueue?.[0];
        const packet = head0?.request;
        const req = packet instanceof RawBatch ? packet.items[packet.next] : packet instanceof RawRequest ? packet : undefined;
        if (req !== undefined && one.readInt32BE(4) === req.header.xid) {
          if (packet instanceof RawBatch) {
            if (++packet.next === packet.items.length) cm.pendingQueue!.shift();
          } else cm.pendingQueue!.shift();
          const zxid = one.subarray(8, 16);
          if (cm.zxid === undefined || !cm.zxid.equals(zxid)) cm.zxid = Buffer.from(zxid);
          const err = one.readInt32BE(16);
          if (err === 0) req.done(null, one.subarray(REPLY_BODY));
          else req.done(zkException(err));
          continue;
        }
      }
      try {
        decodeOne(one);
      } catch {
        // The library throws from its socket handler on a reply it cannot decode (an error code
        // it does not know, such as -12 after a session was closed under us). Left alone that
        // would crash the process; dropping the connection instead makes the library reconnect
        // and fail what was in flight with CONNECTION_LOSS, which the engine already handles.
        cm.socket?.destroy();
        return;
      }
      if (owner !== cm.socket) return; // the reply made the library drop the socket
    }
  };
}

export function installWriteCoalescing(connectionManager: LibConnectionManager): void {
  const cm = connectionManager as Cm;
  const queue = cm.queue.bind(cm);
  let corked: SocketLike | undefined;
  cm.queue = (request, callback) => {
    const socket = cm.socket;
    if (socket !== undefined && corked === undefined && cm.state === 2 /* CONNECTED */) {
      corked = socket;
      socket.cork();
      process.nextTick(() => {
        corked = undefined;
        socket.uncork();
      });
    }
    queue(request, callback);
  };
}

/**
 * Read timeout, which the library lacks: it pings an idle connection every
 * third of the session timeout but never notices that nothing comes back, so
 * a request to a server that stopped answering (or a session closed under
 * us) waits forever. As ZooKeeper's Java client does, we drop a connection
 * that received nothing for two thirds of the session timeout; the library
 * then reconnects and fails what was in flight with CONNECTION_LOSS.
 * The same bound applies to the handshake: once TCP is up the library clears
 * its connect timer and waits for the ConnectResponse for ever, and a server
 * that is starting can take the connection and never answer it (seen when a
 * target ensemble restarted under the engine: the session stayed
 * disconnected until the test gave up). Returns a function that stops the timer.
 */
export function installReadTimeout(connectionManager: LibConnectionManager, sessionTimeoutMs: () => number): { touch: () => void; stop: () => void } {
  const cm = connectionManager as Cm;
  let lastRead = Date.now();
  let socket: unknown;
  const timer = setInterval(() => {
    if (cm.socket !== socket) {
      socket = cm.socket;
      lastRead = Date.now();
      return;
    }
    const handshaking = cm.state === 1 /* CONNECTING */ && cm.socket !== undefined && cm.socket.connecting === false;
    if ((cm.state === 2 /* CONNECTED */ || handshaking) && Date.now() - lastRead > (sessionTimeoutMs() * 2) / 3) {
      lastRead = Date.now();
      cm.socket?.destroy();
    }
  }, 250);
  timer.unref();
  return { touch: () => (lastRead = Date.now()), stop: () => clearInterval(timer) };
}
