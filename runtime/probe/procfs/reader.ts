/**
 * Synchronous reads of small kernel files into one reused buffer.
 *
 * Measured on this machine kind (shared/notes/measured-anchors.md): for the
 * probe's thousands of tiny /proc reads per pass, open+read into one reused
 * buffer costs about a third of the CPU of fs/promises and less than
 * readFileSync, and allocates nothing per file, which is what keeps RSS flat.
 * A pass therefore never awaits between reads: the whole walk is one
 * synchronous slice of a few tens of milliseconds.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export class ProcReader {
  private buf: Buffer;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** The buffer holding the last file read (valid up to the length `read` returned, until the next read). */
  get bytes(): Buffer {
    return this.buf;
  }

  /**
   * Reads the whole file at `path`; returns its length in bytes. Throws the fs
   * error (see `errnoOf`). /proc files report size 0, so the buffer grows as
   * the content demands rather than from a stat.
   */
  read(path: string): number {
    const fd = openSync(path, 'r');
    try {
      return this.readRest(fd, 0);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Like `read`, for a file the kernel produces whole in one read() (a single
   * record such as /proc/<pid>/stat): when the first read does not fill the
   * buffer, that was the whole file, and the read() that would return 0 is
   * skipped. One syscall less per process and pass in the /proc walk (open,
   * read, close instead of open, read, read, close). Files of many records
   * (net/tcp) may come back short before their end, so they use `read`.
   */
  readWhole(path: string): number {
    const fd = openSync(path, 'r');
    try {
      const got = readSync(fd, this.buf, 0, this.buf.length, null);
      return got < this.buf.length ? got : this.readRest(fd, got);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Reads a whole single-record file (such as /proc/<pid>/stat) through an fd
   * kept open across passes: a read at offset 0 makes the kernel produce the
   * record afresh, so the open and close of `readWhole` are saved. Returns the
   * length; throws the fs error (ESRCH once the process the fd was opened on
   * is gone).
   */
  preadWhole(fd: number): number {
    for (;;) {
      const got = readSync(fd, this.buf, 0, this.buf.length, 0);
      if (got < this.buf.length) return got;
      this.buf = Buffer.allocUnsafe(this.buf.length * 2); // did not fit: read it again, whole
    }
  }

  /**
   * Reads a file of many lines in pieces of the buffer's size instead of
   * whole, so that a large table (a host's /proc/net/tcp: about 150 bytes per
   * socket, 1 MB for 7,000 sockets) does not grow the buffer to its size and
   * keep that memory for the rest of the process. After each read,
   * `consume(buf, end, atEnd)` parses what it can of buf[0, end) and returns
   * where the first byte it left is (the start of a line not yet complete);
   * those bytes are moved to the front and the next read appends to them.
   * With `atEnd` (the file is exhausted) it must take everything. The buffer
   * grows only when a single unfinished line fills it.
   */
  readPieces(path: string, consume: (buf: Buffer, end: number, atEnd: boolean) => number): void {
    const fd = openSync(path, 'r');
    try {
      let n = 0;
      for (;;) {
        const got = readSync(fd, this.buf, n, this.buf.length - n, null);
        n += got;
        const used = consume(this.buf, n, got === 0);
        if (got === 0) return;
        if (used > 0) {
          this.buf.copyWithin(0, used, n);
          n -= used;
        } else if (n === this.buf.length) {
          const bigger = Buffer.allocUnsafe(this.buf.length * 2);
          this.buf.copy(bigger, 0, 0, n);
          this.buf = bigger;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Reads `fd` to its end into the buffer after its first `n` bytes, growing it as needed; returns the total length. */
  private readRest(fd: number, n: number): number {
    for (;;) {
      if (n === this.buf.length) {
        const bigger = Buffer.allocUnsafe(this.buf.length * 2);
        this.buf.copy(bigger, 0, 0, n);
        this.buf = bigger;
      }
      const got = readSync(fd, this.buf, n, this.buf.length - n, null);
      if (got === 0) return n;
      n += got;
    }
  }

  /** Reads a file and returns it as a string (for the few files whose text is wanted whole). */
  readText(path: string, encoding: BufferEncoding = 'utf8'): string {
    const n = this.read(path);
    return this.buf.toString(encoding, 0, n);
  }
}

/** The errno code of an fs error ('ENOENT', 'EACCES', …), or '' for anything else. */
export function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * A process that exits between readdir and read leaves ENOENT (its directory
 * is gone) or ESRCH (the task is gone while its files are open): both are
 * normal in a /proc walk and mean "skip this pid".
 */
export function isVanished(err: unknown): boolean {
  const code = errnoOf(err);
  return code === 'ENOENT' || code === 'ESRCH';
}

export function isDenied(err: unknown): boolean {
  const code = errnoOf(err);
  return code === 'EACCES' || code === 'EPERM';
}

/** Parses an unsigned decimal integer from bytes [start, end). Returns -1 if there is none. */
export function parseUint(buf: Buffer, start: number, end: number): number {
  let v = 0;
  let i = start;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  return i === start ? -1 : v;
}

const u8IndexOf = Uint8Array.prototype.indexOf;
const u8LastIndexOf = Uint8Array.prototype.lastIndexOf;

/**
 * `buf.indexOf(byte, from)` for one byte value, through Uint8Array's own
 * indexOf. Why not Buffer's: in Node 20 it checks its arguments through
 * validators wrapped to hide their stack frames, whose rest parameters
 * allocate on every call (56 bytes, and twice the time under the probe's
 * interpreter-only flags, measured); the /proc walk calls it several times
 * per tcp line and per process. Same result for a byte value: a negative
 * `from` counts from the end, one past the end finds nothing.
 */
export function indexOfByte(buf: Uint8Array, byte: number, from: number): number {
  return u8IndexOf.call(buf, byte, from);
}

/** `buf.lastIndexOf(byte, from)` without Buffer's argument checks (see indexOfByte); `from` is required. */
export function lastIndexOfByte(buf: Uint8Array, byte: number, from: number): number {
  return u8LastIndexOf.call(buf, byte, from);
}
