/**
 * The audit log of controls: one JSON object per line, appended to a file,
 * for every control a person asked for (allowed or not): who, what, on which
 * node, through which probe, the result, and when. Written synchronously
 * (controls are rare, and an entry must not be lost to a crash that follows).
 */
import { appendFileSync, closeSync, fsyncSync, openSync } from 'node:fs';

export interface AuditEntry {
  time: string;
  who: string;
  role: string;
  control: string;
  nodeId: string;
  probeId: string | null;
  /** `ok`, or the error code that ended the request. */
  result: string;
  message?: string;
  durationMs: number;
  remote: string;
}

export interface AuditLog {
  write(entry: AuditEntry): void;
  close(): void;
}

export class FileAuditLog implements AuditLog {
  private fd: number;

  constructor(readonly path: string) {
    // 0600: the log names people and nodes.
    this.fd = openSync(path, 'a', 0o600);
  }

  write(entry: AuditEntry): void {
    if (this.fd < 0) return;
    appendFileSync(this.fd, JSON.stringify(entry) + '\n');
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Without a file, audit entries go to the structured log (one line each, `audit: {...}`). */
export class LogAuditLog implements AuditLog {
  constructor(private readonly log: { info(obj: object, msg: string): void }) {}
  write(entry: AuditEntry): void {
    this.log.info({ audit: entry }, 'control');
  }
  close(): void {}
}
