/**
 * dist/ is what ArgoCD deploys, so it must be exactly what the code synthesizes: two fresh
 * syntheses agree byte for byte (determinism), and both agree with the committed dist/ (drift).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import t from 'tap';
import { DIST, REPO_ROOT } from '../lib/platform';

function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

function synthInto(dir: string): void {
  execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), join(REPO_ROOT, 'main.ts'), '--out', dir], { cwd: REPO_ROOT, stdio: 'pipe' });
}

t.test('synth is deterministic and matches the committed dist/', async (t) => {
  const a = mkdtempSync(join(tmpdir(), 'synth-a-'));
  const b = mkdtempSync(join(tmpdir(), 'synth-b-'));
  t.teardown(() => { rmSync(a, { recursive: true, force: true }); rmSync(b, { recursive: true, force: true }); });
  synthInto(a);
  synthInto(b);
  const first = filesUnder(a);
  const second = filesUnder(b);
  const committed = filesUnder(DIST);
  t.ok(first.size >= 15, `synthesized ${first.size} files`);
  t.same([...second.keys()].sort(), [...first.keys()].sort(), 'same files on a second run');
  for (const [file, bytes] of first) t.ok(bytes.equals(second.get(file)!), `${file} identical on a second run`);
  t.same([...committed.keys()].sort(), [...first.keys()].sort(), 'dist/ holds exactly the synthesized files (run npm run synth and commit)');
  for (const [file, bytes] of first) {
    t.ok(committed.get(file)?.equals(bytes), `dist/${file} is up to date (run npm run synth and commit)`);
  }
});
