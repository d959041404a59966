/**
 * Requests the library does not know, encoded and decoded by us:
 * multiRead (opcode 22, ZooKeeper 3.6+: many getData / getChildren in one
 * request), create2 (opcode 15: a create that returns the new znode's Stat),
 * setData (opcode 5: the library throws on null data, see encodeSetData)
 * and getACL (opcode 6, decoded here because the library's generic jute
 * decoder is several times slower than a straight reader).
 *
 * How it plugs into the library without patching its files: a RawRequest is
 * queued like any request (the library assigns the xid, writes it and fails
 * it on connection loss); our framing (io.ts) recognises its reply at the head
 * of the pending queue and completes it with the body, as the library would.
 * Its header type says SetWatches (a reply without body) in case the library
 * ever sees the reply itself.
 */
import { jute } from './library';
import type { Acl, Stat } from './types';

export const OP = { getData: 4, setData: 5, getACL: 6, getChildren: 8, create2: 15, multiRead: 22 } as const;
/** MultiHeader type of a failed op inside a multi reply. */
const OP_ERROR = -1;

type Done = (err: unknown, body?: Buffer) => void;

/** The library asks a request's header for its size; ours write their own header. */
function headerBytes(): number {
  return 8;
}
const header = (): { xid: number; type: number; byteLength(): number } => ({ xid: 0, type: jute.OP_CODES.SET_WATCHES!, byteLength: headerBytes });

/** A request object the library's ConnectionManager.queue accepts; completed by io.ts's framing. */
export class RawRequest {
  readonly header: { xid: number; type: number; byteLength(): number };
  readonly payload = null;
  /** Called once with the reply body (after the 16-byte reply header) or an error. */
  done: Done = () => undefined;

  private readonly size: number;

  /** `body`: the encoded request, or a path alone (getACL and the like: encoded straight into the packet). */
  constructor(
    readonly opcode: number,
    private readonly body: Buffer | string,
  ) {
    this.header = header();
    this.size = 8 + (typeof body === 'string' ? 4 + Buffer.byteLength(body) : body.length);
  }

  /** Packet size without the length prefix (guards.ts checks it against jute.maxbuffer). */
  byteSize(): number {
    return this.size;
  }

  /** Writes the whole packet (length prefix included) at `off`; returns the offset after it. */
  writeTo(buf: Buffer, off: number): number {
    off = buf.writeInt32BE(this.size, off);
    off = buf.writeInt32BE(this.header.xid, off); // assigned by the library just before writing
    off = buf.writeInt32BE(this.opcode, off);
    if (typeof this.body === 'string') {
      off = buf.writeInt32BE(this.size - 12, off);
      return off + buf.write(this.body, off, 'utf8');
    }
    return off + this.body.copy(buf, off);
  }

  toBuffer(): Buffer {
    const buf = Buffer.allocUnsafe(4 + this.size);
    this.writeTo(buf, 0);
    return buf;
  }
}

/**
 * Several RawRequests queued as one packet of the library: requests issued in
 * the same tick leave in one buffer, with one pass through the library's queue
 * (which costs more per request than encoding it). The library gives the
 * batch one xid; `toBuffer` (called right after) takes the following ones
 * from the connection, so the server sees ordinary consecutive requests and
 * answers each; io.ts's framing completes them one by one and drops the
 * batch from the pending queue after the last. A connection loss fails the
 * batch, hence every request not answered yet.
 */
export class RawBatch {
  readonly header: { xid: number; type: number; byteLength(): number };
  readonly payload = null;
  /** Index of the next request whose reply is expected. */
  next = 0;

  constructor(
    private readonly cm: { xid: number },
    readonly items: RawRequest[],
  ) {
    this.header = header();
  }

  /** The largest packet of the batch (guards.ts checks it against jute.maxbuffer). */
  byteSize(): number {
    let max = 0;
    for (const r of this.items) max = Math.max(max, r.byteSize());
    return max;
  }

  toBuffer(): Buffer {
    this.items[0]!.header.xid = this.header.xid;
    for (let i = 1; i < this.items.length; i++) {
      this.items[i]!.header.xid = this.cm.xid;
      this.cm.xid += 1; // guards.ts wraps it below 2^31
    }
    let total = 0;
    for (const r of this.items) total += 4 + r.byteSize();
    const buf = Buffer.allocUnsafe(total);
    let off = 0;
    for (const r of this.items) off = r.writeTo(buf, off);
    return buf;
  }

  /** Fails every request not answered yet. */
  fail(err: unknown): void {
    for (let i = this.next; i < this.items.length; i++) this.items[i]!.done(err);
    this.next = this.items.length;
  }
}

/** Jute encoder for request bodies. */
export class JuteWriter {
  private parts: Buffer[] = [];
  private cur = Buffer.allocUnsafe(256);
  private off = 0;

  private room(n: number): void {
    if (this.off + n <= this.cur.length) return;
    this.parts.push(this.cur.subarray(0, this.off));
    this.cur = Buffer.allocUnsafe(Math.max(256, n, this.cur.length * 2));
    this.off = 0;
  }
  int(v: number): this {
    this.room(4);
    this.off = this.cur.writeInt32BE(v, this.off);
    return this;
  }
  bool(v: boolean): this {
    this.room(1);
    this.cur[this.off++] = v ? 1 : 0;
    return this;
  }
  string(s: string): this {
    const n = Buffer.byteLength(s);
    this.room(4 + n);
    this.off = this.cur.writeInt32BE(n, this.off);
    this.off += this.cur.write(s, this.off, 'utf8');
    return this;
  }
  buffer(b: Buffer | null): this {
    if (b === null) return this.int(-1);
    this.room(4 + b.length);
    this.off = this.cur.writeInt32BE(b.length, this.off);
    this.off += b.copy(this.cur, this.off);
    return this;
  }
  acl(acl: readonly Acl[]): this {
    this.int(acl.length);
    for (const a of acl) this.int(a.perms).string(a.scheme).string(a.id);
    return this;
  }
  done(): Buffer {
    this.parts.push(this.cur.subarray(0, this.off));
    return this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
  }
}

/** Jute decoder for reply bodies. Buffers returned are views into the reply. */
export class JuteReader {
  off = 0;
  constructor(private readonly b: Buffer) {}
  int(): number {
    const v = this.b.readInt32BE(this.off);
    this.off += 4;
    return v;
  }
  long(): bigint {
    const v = this.b.readBigInt64BE(this.off);
    this.off += 8;
    return v;
  }
  bool(): boolean {
    return this.b[this.off++] !== 0;
  }
  string(): string {
    const n = this.int();
    if (n < 0) return '';
    const s = this.b.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }
  buffer(): Buffer | null {
    const n = this.int();
    if (n < 0) return null;
    const v = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  /** A long read without a BigInt (times in ms fit a double exactly). */
  private longNumber(): number {
    const v = this.b.readInt32BE(this.off) * 4294967296 + this.b.readUInt32BE(this.off + 4);
    this.off += 8;
    return v;
  }
  stat(): Stat {
    this.off += 8; // czxid
    const mzxid = this.long();
    const ctime = this.longNumber();
    const mtime = this.longNumber();
    const version = this.int();
    const cversion = this.int();
    const aversion = this.int();
    // Most znodes are persistent: no BigInt allocated for their owner.
    const persistent = this.b.readInt32BE(this.off) === 0 && this.b.readInt32BE(this.off + 4) === 0;
    const ephemeralOwner = persistent ? 0n : this.b.readBigInt64BE(this.off);
    this.off += 8;
    const dataLength = this.int();
    const numChildren = this.int();
    this.off += 8; // pzxid
    return { version, cversion, aversion, ephemeralOwner, mtime, ctime, mzxid, dataLength, numChildren };
  }
  acl(): Acl[] {
    const n = this.int();
    const out: Acl[] = [];
    for (let i = 0; i < n; i++) {
      const perms = this.int();
      const scheme = this.string();
      const id = this.string();
      out.push({ perms, scheme, id });
    }
    return out;
  }
  strings(): string[] {
    const n = this.int();
    const out: string[] = new Array<string>(Math.max(0, n));
    for (let i = 0; i < n; i++) out[i] = this.string();
    return n < 0 ? [] : out;
  }
}

/** One read inside a multiRead. */
export interface ReadOp {
  op: 'getData' | 'getChildren';
  path: string;
}

export type ReadResult =
  | { op: 'getData'; data: Buffer | null; stat: Stat }
  | { op: 'getChildren'; children: string[] }
  | { op: 'error'; zkCode: number };

/** Body of a multiRead: each op's MultiHeader and request, then the closing header. Paths already carry the chroot. */
export function encodeMultiRead(fullPaths: readonly string[], ops: readonly ReadOp[]): Buffer {
  const w = new JuteWriter();
  for (let i = 0; i < ops.length; i++) {
    w.int(OP[ops[i]!.op]).bool(false).int(-1);
    w.string(fullPaths[i]!).bool(false); // path, watch
  }
  return w.int(-1).bool(true).int(-1).done();
}

export function decodeMultiRead(body: Buffer): ReadResult[] {
  const r = new JuteReader(body);
  const out: ReadResult[] = [];
  for (;;) {
    const type = r.int();
    const done = r.bool();
    const err = r.int();
    if (done) break;
    if (type === OP.getData) {
      const data = r.buffer();
      out.push({ op: 'getData', data, stat: r.stat() });
    } else if (type === OP.getChildren) out.push({ op: 'getChildren', children: r.strings() });
    else if (type === OP_ERROR) {
      r.int(); // ErrorResponse repeats the code
      out.push({ op: 'error', zkCode: err });
    } else throw new Error(`multiRead reply: unexpected op type ${type}`);
  }
  return out;
}

export function encodeCreate(fullPath: string, data: Buffer | null, acl: readonly Acl[], mode: number): Buffer {
  return new JuteWriter().string(fullPath).buffer(data).acl(acl).int(mode).done();
}

/**
 * SetDataRequest: path, data, version. `null` data is sent as ZooKeeper's null
 * buffer (length -1) and an empty Buffer as length 0, so each is stored as it
 * was read (the library's setData throws on null and would need a Buffer).
 */
export function encodeSetData(fullPath: string, data: Buffer | null, version: number): Buffer {
  return new JuteWriter().string(fullPath).buffer(data).int(version).done();
}

/** A reply that is a Stat alone (SetDataResponse). */
export function decodeStat(body: Buffer): Stat {
  return new JuteReader(body).stat();
}

/** Create2Response: the created path (with the chroot) and the new znode's Stat. */
export function decodeCreate2(body: Buffer): { path: string; stat: Stat } {
  const r = new JuteReader(body);
  const path = r.string();
  return { path, stat: r.stat() };
}

/** The ACL alone (the walk has the stat from getData). */
export function decodeAclOnly(body: Buffer): Acl[] {
  return new JuteReader(body).acl();
}

export function decodeGetAcl(body: Buffer): { acl: Acl[]; stat: Stat } {
  const r = new JuteReader(body);
  const acl = r.acl();
  return { acl, stat: r.stat() };
}
