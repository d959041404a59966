/**
 * One-shot watches, the only kind a ZooKeeper server older than 3.6 offers:
 * getData / getChildren / exists with the watch flag set, and SetWatches
 * (opcode 101) to re-register them on a new connection.
 *
 * We set them with our own requests (raw.ts) instead of the library's
 * watcher API on purpose: the library re-sends every watch it knows in one
 * SetWatches packet on reconnect, and past jute.maxbuffer (about 40k watches)
 * the server drops that connection, the library reconnects and sends the same
 * packet again, forever. Watches the library does not know are never
 * re-sent by it; `encodeSetWatches` splits ours into packets that each stay
 * far below the limit, and the caller sends them after every reconnect.
 */
import { JuteWriter, JuteReader } from './raw';
import type { Stat } from './types';

export const OP_ONE_SHOT = { exists: 3, getData: 4, getChildren: 8, setWatches: 101 } as const;

/** Bytes of paths per SetWatches packet: an eighth of jute.maxbuffer, so a packet never nears it. */
export const SET_WATCHES_CHUNK_BYTES = 128 * 1024;

/** GetDataRequest / GetChildrenRequest / ExistsRequest: path, then the watch flag. */
export function encodePathWatch(fullPath: string, watch: boolean): Buffer {
  return new JuteWriter().string(fullPath).bool(watch).done();
}

export function decodeData(body: Buffer): { data: Buffer | null; stat: Stat } {
  const r = new JuteReader(body);
  const data = r.buffer();
  // The reply is a view into the socket's bytes: copy, the data outlives it.
  return { data: data === null ? null : Buffer.from(data), stat: r.stat() };
}

export function decodeChildren(body: Buffer): string[] {
  return new JuteReader(body).strings();
}

export function decodeExists(body: Buffer): Stat {
  return new JuteReader(body).stat();
}

export interface WatchSet {
  data: readonly string[];
  exist: readonly string[];
  child: readonly string[];
}

/**
 * SetWatches bodies (relativeZxid, data, exist and child watch paths, paths
 * with the chroot), each holding at most `chunkBytes` of paths. The server
 * re-registers each watch, or fires it at once when the znode changed after
 * `relativeZxid` (the last zxid this client saw), so nothing changed while
 * disconnected goes unreported.
 */
export function encodeSetWatches(relativeZxid: Buffer, watches: WatchSet, chunkBytes = SET_WATCHES_CHUNK_BYTES): Buffer[] {
  const bodies: Buffer[] = [];
  let cur: { data: string[]; exist: string[]; child: string[] } = { data: [], exist: [], child: [] };
  let bytes = 0;
  const flush = (): void => {
    if (cur.data.length + cur.exist.length + cur.child.length === 0) return;
    const w = new JuteWriter();
    for (const list of [cur.data, cur.exist, cur.child]) {
      w.int(list.length);
      for (const p of list) w.string(p);
    }
    bodies.push(Buffer.concat([relativeZxid, w.done()]));
    cur = { data: [], exist: [], child: [] };
    bytes = 0;
  };
  for (const kind of ['data', 'exist', 'child'] as const) {
    for (const p of watches[kind]) {
      const n = 4 + Buffer.byteLength(p);
      if (bytes + n > chunkBytes) flush();
      cur[kind].push(p);
      bytes += n;
    }
  }
  flush();
  return bodies;
}
