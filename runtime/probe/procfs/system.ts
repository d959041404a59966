/**
 * Constants of the running kernel that /proc values are expressed in.
 */
import { readFileSync } from 'node:fs';

/**
 * USER_HZ: the unit of the tick counts in /proc/<pid>/stat. It is part of the
 * kernel's user-space ABI and is 100 on every architecture Linux supports for
 * containers (x86-64, arm64, ppc64le, s390x); Node offers no sysconf to ask.
 */
export const CLOCK_TICKS_PER_SECOND = 100;

let pageSize = 0;

/**
 * The page size that /proc/<pid>/stat's rss is counted in (4 KiB on x86-64,
 * 4/16/64 KiB on arm64). Found once by comparing our own resident pages with
 * the resident bytes Node reports, rounded to a power of two.
 */
export function systemPageSize(): number {
  if (pageSize > 0) return pageSize;
  try {
    const pages = Number(readFileSync('/proc/self/statm', 'latin1').split(' ')[1]);
    const bytes = process.memoryUsage.rss();
    const ratio = bytes / pages;
    pageSize = 2 ** Math.round(Math.log2(ratio));
    if (!(pageSize >= 4096 && pageSize <= 65536)) pageSize = 4096;
  } catch {
    pageSize = 4096;
  }
  return pageSize;
}
