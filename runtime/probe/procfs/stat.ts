/**
 * /proc/<pid>/stat, parsed from bytes without splitting into strings.
 *
 * Layout (proc(5)): `pid (comm) state ppid pgrp … utime(14) stime(15) …
 * num_threads(20) … starttime(22) vsize(23) rss(24) …`. comm may hold spaces and
 * parentheses, so fields are counted from the LAST ')'.
 */

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

/** Parses the stat bytes in buf[0, len); null when they are not a stat line. */
export function parsePidStat(buf: Buffer, len: number): PidStat | null {
  const open = buf.indexOf(40 /* ( */);
  let close = -1;
  for (let i = len - 1; i > open; i--) {
    if (buf[i] === 41 /* ) */) {
      close = i;
      break;
    }
  }
  if (open < 0 || close < 0 || close + 2 >= len) return null;
  const comm = buf.toString('utf8', open + 1, close);
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
  return { comm, state, ppid, flags, cpuTicks: utime + stime, threads, startTicks: start, rssPages: rss };
}
