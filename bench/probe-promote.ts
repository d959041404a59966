/**
 * What one full pass leaves in the old generation, part by part, in process,
 * on a load held elsewhere (bench/lib/probe-load-hold.ts): the probe's
 * collectors (host, processes, connections; no engine) run under the heap
 * layout the probe is deployed with (1 MB young generation, no growth, the
 * probe's V8 flags), and per pass this prints the growth of the old
 * generation (old + large-object space, bytes used) from a major collection
 * before the pass until after it, which is what the pass promoted (a pass
 * with a major collection inside it is marked and left out of the median).
 *
 * The passes run in the probe's own loop (`Probe.start`, a 1.5 s interval so
 * that a run is short): its sink encodes each report as the publisher does
 * and says when it is done with it, so that with `--reuse` (the probe
 * command's `reuseNodes`) a pass may update the last pass's nodes in place.
 * `--only processes` runs that collector alone.
 *
 *     npx tsx --expose-gc --max-semi-space-size=1 bench/probe-promote.ts [--passes 8] [--reuse] [--only processes] [--snapshot FILE]
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { encodeReport } from '../runtime/report';
import { defaultCollectors } from '../runtime/probe/collectors';
import { probeIdentity } from '../runtime/probe/identity';
import { applyProbeV8Flags } from '../runtime/probe/memory';
import { Probe } from '../runtime/probe/probe';
import { flag, numberFlag } from './lib/args';

const PASSES = numberFlag('passes', 8);
const REUSE = process.argv.includes('--reuse');
const ONLY = flag('only', '');
const INTERVAL_MS = 1_500;
/** `--snapshot FILE`: a heap snapshot after the last pass's settling collection (what the probe holds between passes). */
const SNAPSHOT = flag('snapshot', '');

function oldUsed(): number {
  let n = 0;
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'old_space' || s.space_name === 'large_object_space') n += s.space_used_size;
  return n;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  applyProbeV8Flags();
  let majors = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as unknown as { detail?: { kind?: number } }).detail?.kind !== 1) majors++;
  }).observe({ entryTypes: ['gc'] });
  const identity = probeIdentity();
  const all = defaultCollectors({ identity });
  const collectors = ONLY ? all.filter((c) => c.name === ONLY) : all;
  const out: number[] = [];
  let before = 0;
  let m0 = 0;
  let n = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const probe = new Probe({
    identity,
    collectors,
    intervalMs: INTERVAL_MS,
    reuseNodes: REUSE,
    sink: (r) => encodeReport(r),
    onPass: (stats) => {
      if (stats.kind !== 'full') return;
      const pass = ++n;
      // After the report's encoding (a few ms), before the settling collection.
      setTimeout(() => {
        const grown = oldUsed() - before;
        const clean = majors === m0;
        if (pass > 2 && clean) out.push(grown);
        console.log(JSON.stringify({ pass, ms: Math.round(stats.durationMs), cpuMs: Math.round(stats.cpuMs), oldGrowthKb: Math.round(grown / 1024), majorGcInside: !clean, liveBeforeKb: Math.round(before / 1024) }));
        gc();
        setTimeout(() => {
          before = oldUsed();
          m0 = majors;
          if (pass >= PASSES) {
            if (SNAPSHOT) writeHeapSnapshot(SNAPSHOT);
            done();
          }
        }, 100);
      }, 500);
    },
  });
  gc();
  before = oldUsed();
  probe.start();
  await finished;
  await probe.stop();
  out.sort((a, b) => a - b);
  console.log(JSON.stringify({ summary: 'probe-promote', reuse: REUSE, only: ONLY || 'all', passes: PASSES, medianOldGrowthKb: out.length ? Math.round(out[Math.floor(out.length / 2)]! / 1024) : null }));
  await sleep(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
