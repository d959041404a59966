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

/** Hex address → canonical text, cached: a host has few distinct addresses. */
export class AddressCache {
  private readonly cache = new Map<string, string>();

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

/**
 * Parses a tcp/tcp6 table in buf[0, len), appending the sockets to `out` and
 * keeping only listening and connected ones with an inode.
 */
export function parseTcpTable(buf: Buffer, len: number, addresses: AddressCache, out: TcpSocket[]): void {
  let i = buf.indexOf(10) + 1; // skip the header line
  if (i <= 0) return;
  while (i < len) {
    let eol = buf.indexOf(10, i);
    if (eol < 0 || eol > len) eol = len;
    // token boundaries of the first ten fields
    let field = 0;
    let j = i;
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
        const colon = buf.indexOf(58, start);
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
    if (field === 10 && inode > 0 && (state === TCP_LISTEN || CONNECTED_STATES.has(state))) {
      out.push({ local, localPort, remote, remotePort, state, inode });
    }
    i = eol + 1;
  }
}
