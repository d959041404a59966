/**
 * Guards installed on one node-zookeeper-client connection against defects of
 * the library that would otherwise break a long-running engine:
 *
 * - Request ids: the library increments `xid` forever; past 2^31-1 its
 *   `writeInt32BE` throws inside the socket loop and the session is wedged.
 *   We wrap to 1 as ZooKeeper's Java client does. Wrapping is safe because
 *   replies are matched in FIFO order against the pending queue.
 * - Oversize requests: the server closes the connection on a packet over
 *   jute.maxbuffer, failing every in-flight request with CONNECTION_LOSS. We
 *   refuse such a request before it is queued, failing only that request.
 */
import { SyncError } from '../errors';
import type { LibConnectionManager, LibRequest } from './library';

/** ZooKeeper's default jute.maxbuffer (0xfffff): the largest packet a server accepts. */
export const JUTE_MAX_BUFFER = 0xfffff;
/** The largest xid before wrapping (Integer.MAX_VALUE is never used, as in the Java client). */
export const MAX_XID = 0x7fffffff - 1;

export interface GuardOptions {
  /** Packet size limit in bytes (the server's jute.maxbuffer). @default JUTE_MAX_BUFFER */
  maxPacketBytes?: number;
}

/** Serialized size of a request as the library will write it, without the 4-byte length prefix. */
export function requestBytes(request: LibRequest): number {
  return (request.header?.byteLength() ?? 0) + (request.payload?.byteLength() ?? 0);
}

export function installGuards(cm: LibConnectionManager, options: GuardOptions = {}): void {
  const limit = options.maxPacketBytes ?? JUTE_MAX_BUFFER;

  let xid = cm.xid;
  Object.defineProperty(cm, 'xid', {
    configurable: true,
    enumerable: true,
    get: () => xid,
    set: (v: number) => {
      xid = v > MAX_XID ? 1 : v;
    },
  });

  const queue = cm.queue.bind(cm);
  cm.queue = (request, callback) => {
    const req = request as LibRequest;
    // Our own requests (add-watch.ts) compute their size the same way.
    const size = typeof (req as { byteSize?: () => number }).byteSize === 'function' ? (req as unknown as { byteSize(): number }).byteSize() : requestBytes(req);
    if (size > limit) {
      const err = new SyncError('ZK_REQUEST_TOO_LARGE', `request of ${size} bytes is over the server's limit of ${limit} (jute.maxbuffer); not sent`, { size, limit });
      // The library's callbacks expect an exception with getCode(); ours carries
      // it so that callers can tell it from server errors.
      (callback ?? (() => undefined))(Object.assign(err, { getCode: () => -9999 }));
      return;
    }
    queue(request, callback);
  };
}
