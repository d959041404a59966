/**
 * The V8 settings `orchestrator probe` applies to itself for resident memory
 * (runtime/probe/command.ts, docs/probe.md "Memory"): in a fresh process they
 * are accepted and keep the young generation from growing under garbage.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const COMMAND = join(__dirname, '..', '..', 'runtime', 'probe', 'command.ts');

function newSpaceAfterGarbage(apply: boolean): number {
  const script = `
    const v8 = require('node:v8');
    const { applyProbeV8Flags } = require(${JSON.stringify(COMMAND)});
    if (${apply}) applyProbeV8Flags();
    const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    const before = newSpace();
    let keep = [];
    for (let r = 0; r < 300; r++) {
      const a = [];
      for (let i = 0; i < 20000; i++) a.push({ i, s: 'x' + i });
      keep.push(a);
      if (keep.length > 3) keep.shift();
    }
    process.stdout.write(JSON.stringify({ before, after: newSpace() }));
  `;
  const r = spawnSync(process.execPath, ['--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const { before, after } = JSON.parse(r.stdout) as { before: number; after: number };
  return after / Math.max(before, 1);
}

t.test('the probe flags stop the young generation from growing; without them it grows', async (t) => {
  t.ok(newSpaceAfterGarbage(true) <= 1, 'new space no larger than when the flags were set');
  t.ok(newSpaceAfterGarbage(false) > 1, 'control: without the flags the new space grows under the same garbage');
});

t.test('with the probe flags a hot function stays unoptimized (--no-opt set at run time works); without them TurboFan optimizes it', async (t) => {
  const optimized = (apply: boolean): boolean => {
    const script = `
      const { applyProbeV8Flags } = require(${JSON.stringify(COMMAND)});
      if (${apply}) applyProbeV8Flags();
      function hot(a) { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * 2; return s; }
      const a = Array.from({ length: 1000 }, (_, i) => i);
      for (let r = 0; r < 20000; r++) hot(a);
      process.stdout.write(String((%GetOptimizationStatus(hot) & 16) !== 0)); // bit 4: optimized
    `;
    // Synchronous recompilation: whether it got optimized does not depend on a background thread's timing.
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--no-concurrent-recompilation', '--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout === 'true';
  };
  t.equal(optimized(true), false, 'not optimized under the probe flags');
  t.equal(optimized(false), true, 'control: optimized without them');
});
