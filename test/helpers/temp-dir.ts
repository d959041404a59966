/**
 * Temporary directories for tests that write files for a child process or a
 * server (tokens, certificates, audit logs): each is removed when the test
 * file ends, so repeated runs leave nothing behind in the OS temp directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const made: string[] = [];
let cleanupRegistered = false;

/** A new directory `<tmpdir>/<prefix>XXXXXX`, removed with its contents at the end of the test file. */
export function tempDir(prefix: string): string {
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    t.teardown(() => {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
    });
  }
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
