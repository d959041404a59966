/**
 * /proc/<pid>/stat, parsed from bytes without splitting into strings.
 *
 * Layout (proc(5)): `pid (comm) state ppid pgrp … utime(14) stime(15) …
 * num_threads(20) … starttime(22) vsize(23) rss(24) …`. comm may hold spaces and
 * parentheses, so fields are counted from the LAST ')'.
 */
import { indexOfByte, lastIndexOfByte } from './reader';

/** Kernel threads carry PF_KTHREAD in field 9 (flags). */
export const PF_KTHREAD = 0x00200000;

export interface PidStat {
  comm: string;
  state: string;
  ppid: number;
  flags: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  threads: number;
  /** Field 22: clock ticks after boot; with the pid, the process's identity. */
  startTicks: number;
  rssPages: number;
}

/**
 * Parses the stat bytes in buf[0, len); null when they are not a stat line.
 * With `into`, fills and returns that record instead of a new one (the /proc
 * walk parses a thousand of these per pass and keeps none of them), and keeps
 * its `comm` string when the bytes spell the same name.
 */
export function parsePidStat(buf: Buffer, len: number, into?: PidStat): PidStat | null {
  const open = indexOfByte(buf, 40 /* ( */, 0);
  // The last ')' (searched natively: the line's tail is 200-odd bytes of numbers).
  const close = len > 0 ? lastIndexOfByte(buf, 41 /* ) */, len - 1) : -1;
  if (open < 0 || close <= open || close + 2 >= len) return null;
  const comm = into !== undefined && sameAscii(buf, open + 1, close, into.comm) ? into.comm : buf.toString('utf8', open + 1, close);
  const state = String.fromCharCode(buf[close + 2]!);
  // Walk the space-separated fields after the state (field 3), keeping the ones we use.
  let field = 3;
  let i = close + 3;
  let ppid = 0;
  let flags = 0;
  let utime = 0;
  let stime = 0;
  let threads = 0;
  let start = -1;
  let rss = 0;
  while (i < len && field < 24) {
    // at a space: the next field starts after it
    i++;
    field++;
    let neg = false;
    if (buf[i] === 45 /* - */) {
      neg = true;
      i++;
    }
    let v = 0;
    while (i < len) {
      const c = buf[i]!;
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    if (neg) v = -v;
    switch (field) {
      case 4: ppid = v; break;
      case 9: flags = v; break;
      case 14: utime = v; break;
      case 15: stime = v; break;
      case 20: threads = v; break;
      case 22: start = v; break;
      case 24: rss = v; break;
    }
    while (i < len && buf[i] !== 32) i++;
  }
  if (start < 0 || field < 24) return null;
  if (into === undefined) return { comm, state, ppid, flags, cpuTicks: utime + stime, threads, startTicks: start, rssPages: rss };
  into.comm = comm;
  into.state = state;
  into.ppid = ppid;
  into.flags = flags;
  into.cpuTicks = utime + stime;
  into.threads = threads;
  into.startTicks = start;
  into.rssPages = rss;
  return into;
}

/** Whether buf[from, to) is the ASCII text `s` (a non-ASCII name is decoded again: the rare case). */
function sameAscii(buf: Buffer, from: number, to: number, s: string): boolean {
  if (to - from !== s.length) return false;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c >= 128 || c !== s.charCodeAt(i - from)) return false;
  }
  return true;
}
