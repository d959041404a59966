/**
 * /proc/<pid>/net/tcp and tcp6: the TCP sockets of one network namespace,
 * parsed from bytes.
 *
 * Line layout (after one header line):
 *   `sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …`
 * Addresses are hex: IPv4 as one 32-bit word, IPv6 as four, each word printed
 * in the host's byte order; ports are hex in network order.
 */
import { endianness } from 'node:os';
import { canonicalAddress } from '../../report';
import { indexOfByte, type ProcReader } from './reader';

export const TCP_LISTEN = 0x0a;
/** States of a socket that belongs to a live connection (ESTABLISHED … CLOSING, not TIME_WAIT/CLOSE). */
const CONNECTED_STATES = new Set([0x01, 0x02, 0x03, 0x04, 0x05, 0x08, 0x09, 0x0b]);

export interface TcpSocket {
  /** Canonical address text (see ids.ts canonicalAddress). */
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
  state: number;
  inode: number;
}

export function isListening(s: TcpSocket): boolean {
  return s.state === TCP_LISTEN;
}

export function isConnected(s: TcpSocket): boolean {
  return CONNECTED_STATES.has(s.state);
}

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Hex address → canonical text, cached: a host has few distinct addresses.
 * Looked up by the address's numeric value (parsed from the table's bytes), so
 * that a table of thousands of sockets makes no string per address; every
 * socket with the same address shares one string.
 */
export class AddressCache {
  private readonly cache = new Map<string, string>();
  private readonly v4 = new Map<number, string>();
  /** IPv6 by a hash of its four words; each bucket holds [w0, w1, w2, w3, text] records. */
  private readonly v6 = new Map<number, Array<[number, number, number, number, string]>>();
  private v6Size = 0;

  text(hex: string): string {
    let a = this.cache.get(hex);
    if (a === undefined) {
      a = hex.length === 8 ? ipv4FromHex(hex) : ipv6FromHex(hex);
      // Remote ephemeral peers make the set grow without bound on a busy host.
      if (this.cache.size > 50_000) this.cache.clear();
      this.cache.set(hex, a);
    }
    return a;
  }

  /** The IPv4 address whose 8 hex digits are at buf[at, at + 8). */
  ipv4At(buf: Buffer, at: number): string {
    const key = hexAt(buf, at, at + 8);
    let a = this.v4.get(key);
    if (a === undefined) {
      a = ipv4FromHex(buf.toString('latin1', at, at + 8));
      if (this.v4.size > 50_000) this.v4.clear();
      this.v4.set(key, a);
    }
    return a;
  }

  /** The IPv6 address whose 32 hex digits are at buf[at, at + 32). */
  ipv6At(buf: Buffer, at: number): string {
    const w0 = hexAt(buf, at, at + 8);
    const w1 = hexAt(buf, at + 8, at + 16);
    const w2 = hexAt(buf, at + 16, at + 24);
    const w3 = hexAt(buf, at + 24, at + 32);
    const key = (w0 ^ w1 ^ w2 ^ w3) >>> 0;
    let bucket = this.v6.get(key);
    if (bucket !== undefined) {
      for (const r of bucket) if (r[0] === w0 && r[1] === w1 && r[2] === w2 && r[3] === w3) return r[4];
    } else {
      if (this.v6Size > 50_000) {
        this.v6.clear();
        this.v6Size = 0;
      }
      bucket = [];
      this.v6.set(key, bucket);
    }
    const a = ipv6FromHex(buf.toString('latin1', at, at + 32));
    bucket.push([w0, w1, w2, w3, a]);
    this.v6Size++;
    return a;
  }
}

function wordBytes(hex: string, at: number): number[] {
  const w = parseInt(hex.slice(at, at + 8), 16) >>> 0;
  const b = [w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255];
  return LITTLE_ENDIAN ? b.reverse() : b;
}

export function ipv4FromHex(hex: string): string {
  return wordBytes(hex, 0).join('.');
}

export function ipv6FromHex(hex: string): string {
  const bytes = [...wordBytes(hex, 0), ...wordBytes(hex, 8), ...wordBytes(hex, 16), ...wordBytes(hex, 24)];
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return canonicalAddress(groups.join(':'));
}

function hexAt(buf: Buffer, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    v = v * 16 + (c <= 57 ? c - 48 : (c | 32) - 87);
  }
  return v;
}

function wanted(state: number): boolean {
  return state === TCP_LISTEN || CONNECTED_STATES.has(state);
}

/**
 * Parses a tcp/tcp6 table in buf[0, len), appending the sockets to `out` and
 * keeping only listening and connected ones with an inode.
 *
 * The kernel prints each line with fixed widths up to the uid
 * (`%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu`,
 * IPv6 addresses as 32 digits): so a line's state is read at its offset and a
 * line not wanted (TIME_WAIT, closing) is skipped without reading on, and the
 * inode is found by skipping two fields from a known offset. Most of a pass's
 * JavaScript time in this table went into walking every byte of every line.
 * A line that does not have that layout is read field by field.
 */
export function parseTcpTable(buf: Buffer, len: number, addresses: AddressCache, out: TcpSocket[]): void {
  const i = indexOfByte(buf, 10, 0) + 1; // skip the header line
  if (i <= 0 || i > len) return;
  parseTcpLines(buf, i, len, addresses, out, true);
}

/**
 * Parses the table's lines in buf[from, len) (no header line) like
 * parseTcpTable. Unless `final`, a last line without its newline is left for
 * the next piece: returns the offset where it starts (len when none is left).
 */
export function parseTcpLines(buf: Buffer, from: number, len: number, addresses: AddressCache, out: TcpSocket[], final: boolean): number {
  let i = from;
  while (i < len) {
    let eol = indexOfByte(buf, 10, i);
    if (eol < 0 || eol >= len) {
      if (!final) return i;
      eol = len;
    }
    if (!parseFixedLine(buf, i, eol, addresses, out)) parseLineByFields(buf, i, eol, addresses, out);
    i = eol + 1;
  }
  return len;
}

/**
 * Reads and parses the tcp/tcp6 table at `path` in pieces of the reader's
 * buffer (ProcReader.readPieces): the same sockets as parseTcpTable over the
 * whole file, without a buffer the size of the table. Throws the fs error.
 */
export function readTcpTable(reader: ProcReader, path: string, addresses: AddressCache, out: TcpSocket[]): void {
  let header = true;
  reader.readPieces(path, (buf, end, atEnd) => {
    let from = 0;
    if (header) {
      const nl = indexOfByte(buf, 10, 0);
      if (nl < 0 || nl >= end) return atEnd ? end : 0; // the header line is not complete yet
      from = nl + 1;
      header = false;
    }
    return parseTcpLines(buf, from, end, addresses, out, atEnd);
  });
}

/** One line in the kernel's fixed layout; false when the line does not have it. */
function parseFixedLine(buf: Buffer, from: number, eol: number, addresses: AddressCache, out: TcpSocket[]): boolean {
  const colon = indexOfByte(buf, 58 /* : */, from); // after the slot number
  if (colon < 0 || colon >= eol || buf[colon + 1] !== 32) return false;
  const a = colon + 2;
  const w = buf[a + 8] === 58 ? 8 : buf[a + 32] === 58 ? 32 : 0; // address digits
  if (w === 0) return false;
  const r = a + w + 6; // remote address
  const st = r + w + 6; // state
  // tx:rx (17) tr:when (11) retrnsmt (8), each after a space: then uid, timeout, inode.
  const uid = st + 2 + 1 + 17 + 1 + 11 + 1 + 8;
  if (uid >= eol || buf[r - 1] !== 32 || buf[r + w] !== 58 || buf[st - 1] !== 32 || buf[st + 2] !== 32 || buf[uid] !== 32) return false;
  const state = hexAt(buf, st, st + 2);
  if (!wanted(state)) return true;
  let j = uid;
  for (let field = 0; field < 2; field++) {
    while (j < eol && buf[j] === 32) j++;
    while (j < eol && buf[j] !== 32) j++;
  }
  while (j < eol && buf[j] === 32) j++;
  let inode = 0;
  for (; j < eol; j++) {
    const c = buf[j]!;
    if (c < 48 || c > 57) break;
    inode = inode * 10 + (c - 48);
  }
  if (inode <= 0) return true;
  out.push({
    local: w === 8 ? addresses.ipv4At(buf, a) : addresses.ipv6At(buf, a),
    localPort: hexAt(buf, a + w + 1, a + w + 5),
    remote: w === 8 ? addresses.ipv4At(buf, r) : addresses.ipv6At(buf, r),
    remotePort: hexAt(buf, r + w + 1, r + w + 5),
    state,
    inode,
  });
  return true;
}

/** One line read token by token (the first ten fields). */
function parseLineByFields(buf: Buffer, from: number, eol: number, addresses: AddressCache, out: TcpSocket[]): void {
  let field = 0;
  let j = from;
  let local = '';
  let localPort = 0;
  let remote = '';
  let remotePort = 0;
  let state = 0;
  let inode = 0;
  while (j < eol && field < 10) {
    while (j < eol && buf[j] === 32) j++;
    const start = j;
    while (j < eol && buf[j] !== 32) j++;
    if (field === 1 || field === 2) {
      const colon = indexOfByte(buf, 58, start);
      const addr = addresses.text(buf.toString('latin1', start, colon));
      const port = hexAt(buf, colon + 1, j);
      if (field === 1) {
        local = addr;
        localPort = port;
      } else {
        remote = addr;
        remotePort = port;
      }
    } else if (field === 3) {
      state = hexAt(buf, start, j);
    } else if (field === 9) {
      for (let k = start; k < j; k++) inode = inode * 10 + (buf[k]! - 48);
    }
    field++;
  }
  if (field === 10 && inode > 0 && wanted(state)) out.push({ local, localPort, remote, remotePort, state, inode });
}
