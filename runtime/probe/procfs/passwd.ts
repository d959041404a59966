/**
 * User names by uid from /etc/passwd, re-read only when the file changes (one
 * stat per pass). Processes in containers have uids of the container's own
 * passwd; the host's name for that uid (or the bare uid) is what the host sees.
 */
import { readFileSync, statSync } from 'node:fs';

export class UserNames {
  private names = new Map<number, string>();
  private mtimeMs = -1;
  private size = -1;

  constructor(private readonly path = '/etc/passwd') {}

  /** Re-reads the file if it changed since the last call. Never throws: no file, no names. */
  refresh(): void {
    try {
      const st = statSync(this.path);
      if (st.mtimeMs === this.mtimeMs && st.size === this.size) return;
      const next = new Map<number, string>();
      for (const line of readFileSync(this.path, 'utf8').split('\n')) {
        const f = line.split(':');
        const uid = Number(f[2]);
        if (f.length >= 3 && f[0] && Number.isInteger(uid) && !next.has(uid)) next.set(uid, f[0]);
      }
      this.names = next;
      this.mtimeMs = st.mtimeMs;
      this.size = st.size;
    } catch {
      this.names = new Map();
      this.mtimeMs = -1;
      this.size = -1;
    }
  }

  /** The name of `uid`, or the uid as text when it has none. */
  nameOf(uid: number): string {
    return this.names.get(uid) ?? String(uid);
  }
}
