/**
 * The probe's memory settings (runtime/probe/memory.ts, docs/probe.md
 * "Memory"), each in a fresh process: the V8 flags it sets on itself are
 * accepted and keep the young generation from growing under garbage and
 * TurboFan off; node accepts the deployed NODE_OPTIONS; the settling
 * collection after a full pass returns promoted garbage; the log time is
 * written without Date#toISOString and reads the same.
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

/**
 * Runs a hot loop in a fresh node, with or without the probe's flags applied at
 * run time, and returns what `probe` (a V8 natives expression over `hot`) says.
 */
function hotFunction(apply: boolean, probe: string, length: number, nodeFlags: string[]): string {
  const script = `
    const { applyProbeV8Flags } = require(${JSON.stringify(COMMAND)});
    if (${apply}) applyProbeV8Flags();
    function hot(a) { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * 2; return s; }
    const a = Array.from({ length: ${length} }, (_, i) => i);
    for (let r = 0; r < 20000; r++) hot(a);
    process.stdout.write(String(${probe}));
  `;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', ...nodeFlags, '--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

t.test('with the probe flags a hot function stays unoptimized (--no-opt set at run time works); without them TurboFan optimizes it', async (t) => {
  // Bit 4 of the status: optimized. Synchronous recompilation: whether it got optimized does not depend on a background thread's timing.
  const optimized = (apply: boolean): boolean => hotFunction(apply, '(%GetOptimizationStatus(hot) & 16) !== 0', 1000, ['--no-concurrent-recompilation']) === 'true';
  t.equal(optimized(true), false, 'not optimized under the probe flags');
  t.equal(optimized(false), true, 'control: optimized without them');
});

const MEMORY = join(__dirname, '..', '..', 'runtime', 'probe', 'memory.ts');

t.test('the deployed environment (PROBE_PROCESS_ENV): node accepts every NODE_OPTIONS entry and exposes gc', async (t) => {
  const { PROBE_PROCESS_ENV } = await import('../../runtime/probe/memory');
  // A flag NODE_OPTIONS refuses would stop the DaemonSet's node before it runs anything.
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(typeof gc + " " + process.env.UV_THREADPOOL_SIZE)'], { encoding: 'utf8', env: { ...process.env, ...PROBE_PROCESS_ENV } });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, `function ${PROBE_PROCESS_ENV['UV_THREADPOOL_SIZE']}`);
});

/** Old-space bytes in use just before and 300 ms after a full pass whose promoted garbage was just let go. */
function oldSpaceAroundSettle(settle: boolean | 'now', exposeGc: boolean): { before: number; after: number } {
  const script = `
    const v8 = require('node:v8');
    const { HeapSettler } = require(${JSON.stringify(MEMORY)});
    const oldUsed = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_used_size;
    // Kept through many scavenges, so promoted to the old generation (like a pass's tables), then let go.
    let keep = [];
    for (let r = 0; r < 40; r++) keep.push(Array.from({ length: 20000 }, (_, i) => ({ i, s: 'p' + i })));
    keep = null;
    const before = oldUsed();
    if (${JSON.stringify(settle)} === 'now') new HeapSettler().settleNow();
    else if (${JSON.stringify(settle)}) new HeapSettler(20).afterPass();
    setTimeout(() => process.stdout.write(JSON.stringify({ before, after: oldUsed() })), 300);
  `;
  const r = spawnSync(process.execPath, [...(exposeGc ? ['--expose-gc'] : []), '--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { before: number; after: number };
}

t.test('HeapSettler: a major collection after a full pass (or at once) returns the promoted garbage, with or without --expose-gc', async (t) => {
  for (const exposeGc of [true, false]) {
    const s = oldSpaceAroundSettle(true, exposeGc);
    t.ok(s.after < s.before / 2, `${exposeGc ? 'gc exposed' : 'gc through a new context'}: old space in use ${(s.before / 1e6).toFixed(1)} → ${(s.after / 1e6).toFixed(1)} MB`);
  }
  const now = oldSpaceAroundSettle('now', false);
  t.ok(now.after < now.before / 2, `settleNow (the probe's start): ${(now.before / 1e6).toFixed(1)} → ${(now.after / 1e6).toFixed(1)} MB`);
  const control = oldSpaceAroundSettle(false, true);
  t.ok(control.after > control.before * 0.9, `control, no settler: the garbage stays (${(control.before / 1e6).toFixed(1)} → ${(control.after / 1e6).toFixed(1)} MB)`);
});

t.test('isoTimeUtc writes what Date#toISOString writes', async (t) => {
  const { isoTimeUtc, probeLogTime } = await import('../../runtime/probe/memory');
  const times = [0, 1, 999, 951_782_400_000, 951_868_799_999, 1_704_067_199_999, 1_704_067_200_000, 4_102_444_800_007, Date.UTC(2024, 1, 29, 23, 59, 59, 99)];
  for (let i = 0; i < 200; i++) times.push(Math.floor((i * 7_919_876_543_211) % 4_102_444_800_000));
  const wrong = times.filter((ms) => isoTimeUtc(ms) !== new Date(ms).toISOString());
  t.same(wrong.map((ms) => [ms, isoTimeUtc(ms)]), [], `${times.length} times`);
  t.match(probeLogTime(), /^,"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"$/);
});

t.test('with the probe flags a hot function stays in the interpreter (--no-sparkplug set at run time works); without them Sparkplug compiles it', async (t) => {
  const sparkplug = (apply: boolean): boolean => hotFunction(apply, '%ActiveTierIsSparkplug(hot)', 100, ['--no-opt']) === 'true';
  t.equal(sparkplug(true), false, 'interpreted under the probe flags');
  t.equal(sparkplug(false), true, 'control: baseline code without them');
});

t.test('--predictable is set at run time only in a process started with PROBE_NODE_FLAGS', async (t) => {
  const { PROBE_NODE_FLAGS, PROBE_RUNTIME_PREDICTABLE, PROBE_V8_FLAGS, probeV8Flags } = await import('../../runtime/probe/memory');
  t.same(probeV8Flags([...PROBE_NODE_FLAGS]), [...PROBE_V8_FLAGS, PROBE_RUNTIME_PREDICTABLE], 'all of them: set');
  t.same(probeV8Flags(['--inspect', ...PROBE_NODE_FLAGS]), [...PROBE_V8_FLAGS, PROBE_RUNTIME_PREDICTABLE], 'among other flags: set');
  for (const f of PROBE_NODE_FLAGS) {
    t.same(probeV8Flags(PROBE_NODE_FLAGS.filter((x) => x !== f)), [...PROBE_V8_FLAGS], `without ${f}: not set (what --predictable implies must hold before it is set)`);
  }
  t.same(probeV8Flags([]), [...PROBE_V8_FLAGS], 'a probe started by hand: not set');
});

t.test('started as deployed, the probe sets --predictable, collects garbage, and its random draws stay random', async (t) => {
  const { PROBE_NODE_FLAGS, PROBE_PROCESS_ENV } = await import('../../runtime/probe/memory');
  const script = `
    const { applyProbeV8Flags, HeapSettler } = require(${JSON.stringify(MEMORY)});
    const flags = applyProbeV8Flags();
    // Passes' worth of garbage, scavenges and settling collections, as the probe makes them.
    let keep = [];
    for (let r = 0; r < 30; r++) {
      keep.push(Array.from({ length: 20000 }, (_, i) => ({ i, s: 'p' + i })));
      if (keep.length > 3) keep.shift();
      if (r % 10 === 9) new HeapSettler().settleNow();
    }
    process.stdout.write(JSON.stringify({ flags, random: Math.random() }));
  `;
  const run = (): { flags: string[]; random: number } => {
    const r = spawnSync(process.execPath, [...PROBE_NODE_FLAGS, '--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8', env: { ...process.env, ...PROBE_PROCESS_ENV } });
    if (r.status !== 0) throw new Error(`exit ${r.status} ${r.signal ?? ''}: ${r.stderr.slice(-2000)}`);
    return JSON.parse(r.stdout) as { flags: string[]; random: number };
  };
  const a = run();
  const b = run();
  t.ok(a.flags.includes('--predictable'), `flags set: ${a.flags.join(' ')}`);
  // Given at start, --predictable would fix V8's random seed: every probe the same draws (and hash seed).
  t.not(a.random, b.random, 'two probes draw different random numbers');
});
