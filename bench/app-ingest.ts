/**
 * What one report costs the app to take in, in process: `JSON.parse` of its text and
 * `LiveModel.ingest` (sharing with the probe's previous picture, merging, change sets; no views,
 * no search), at the fleet's shape (test/app/fleet.ts, sliding rings, a full report every 4th).
 * The reports' texts are made before each timed round, so the simulator is not timed.
 *
 * Each variant runs in a process of its own (its own heap: the model's size sets the GC's cost),
 * `--runs` times, alternated with the baseline when there is one. Per run: the median over the
 * timed rounds (after two to load and settle) of the wall time and the process's CPU time
 * (`process.cpuUsage`, which counts V8's GC helper threads too) per report, and the heap after
 * two full collections at the end (the model, and the last round's texts).
 *
 * A/B: `--baseline DIR` runs the model from a copy of build/ made before a change (e.g. a git
 * worktree's build/), with `--baseline-ring N` samples per metric in its reports (what probes sent
 * then: 8 before round 9, when the app began keeping the history); `--ring N` for this build
 * (default the probe's `DEFAULT_RING`). `--deltas whole|patches` and `--baseline-deltas`: how the
 * deltas carry a changed node (test/app/fleet.ts `wholeDeltas`; default patches); `--baseline
 * source` runs the baseline from this tree, e.g. to compare the two forms:
 *
 *     npx tsx bench/app-ingest.ts --probes 1000 --rounds 12 --runs 3 --baseline /tmp/wt/build --baseline-ring 8
 *     npx tsx bench/app-ingest.ts --probes 1000 --runs 3 --baseline source --baseline-deltas whole
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as modelSource from '../runtime/app/model';
import { DEFAULT_RING } from '../runtime/probe/nodes';
import { SimProbe, loadTemplates, type FleetShape } from '../test/app/fleet';
import { choiceFlag, flag, numberFlag } from './lib/args';

interface RunResult {
  bench: 'app-ingest';
  variant: string;
  build: string;
  ring: number;
  deltas: 'patches' | 'whole';
  probes: number;
  reports: number;
  textKbMean: number;
  wallMsPerReport: number;
  cpuMsPerReport: number;
  /** The heap after two full collections at the end: the model's own size (and the last round's texts). */
  heapLiveMb: number;
}

function liveHeapMb(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the run needs --expose-gc');
  gc();
  gc();
  return Math.round(process.memoryUsage().heapUsed / 1e6);
}

const median = (a: readonly number[]): number => a.slice().sort((x, y) => x - y)[a.length >> 1]!;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** One variant in this process: prints its RunResult as the last line. */
async function runOne(): Promise<void> {
  const build = flag('build', '');
  const ring = numberFlag('ring', DEFAULT_RING);
  const deltas = deltasFlag('deltas');
  const probesN = numberFlag('probes', 1000);
  const rounds = numberFlag('rounds', 12);
  if (rounds < 3) throw new Error('--rounds must be at least 3 (two load and settle the model)');
  const { LiveModel } = build === '' ? modelSource : (require(join(build, 'runtime/app/model.js')) as typeof modelSource);
  const tpl = await loadTemplates();
  const shape: FleetShape = { probes: probesN, containersPerProbe: 10, processesPerProbe: 40, connectionsPerProbe: 3, slidingRings: true, ring, wholeDeltas: deltas === 'whole' };
  const probes = Array.from({ length: probesN }, (_, i) => new SimProbe(i, shape, tpl));
  let now = 1_800_000_000_000;
  const model = new LiveModel({ intervalMs: 15_000, now: () => now });
  const walls: number[] = [];
  const cpus: number[] = [];
  let bytes = 0;
  let texts = 0;
  for (let r = 0; r < rounds; r++) {
    const round = probes.map((p) => {
      now += 15_000 / probesN;
      return JSON.stringify(p.next(now));
    });
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const text of round) model.ingest(JSON.parse(text), 'bench');
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    if (r < 2) continue;
    walls.push(wall / probesN);
    cpus.push((cpu.user + cpu.system) / 1000 / probesN);
    for (const text of round) bytes += text.length;
    texts += round.length;
  }
  const result: RunResult = {
    bench: 'app-ingest',
    variant: flag('variant', 'this build'),
    build: build || 'source',
    ring,
    deltas,
    probes: probesN,
    reports: texts,
    textKbMean: Math.round(bytes / texts / 100) / 10,
    wallMsPerReport: r3(median(walls)),
    cpuMsPerReport: r3(median(cpus)),
    heapLiveMb: liveHeapMb(),
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

function deltasFlag(name: string): 'patches' | 'whole' {
  return choiceFlag(name, ['patches', 'whole']);
}

function spawnRun(variant: string, build: string, ring: string, deltas: 'patches' | 'whole'): RunResult {
  const args = ['--max-semi-space-size=16', '--expose-gc', '--import', 'tsx', __filename, '--role', 'run', '--variant', variant, '--probes', flag('probes', '1000'), '--rounds', flag('rounds', '12')];
  if (build !== '') args.push('--build', build);
  if (ring !== '') args.push('--ring', ring);
  args.push('--deltas', deltas);
  const r = spawnSync(process.execPath, args, { cwd: join(__dirname, '..'), encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${variant} run failed (${r.status}): ${r.stderr}`);
  const last = r.stdout.trim().split('\n').at(-1)!;
  return JSON.parse(last) as RunResult;
}

async function main(): Promise<void> {
  if (flag('role', 'driver') === 'run') return runOne();
  const runs = numberFlag('runs', 3);
  const baseline = flag('baseline', '');
  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternated, the baseline first in odd runs: a slow spell of the machine falls on both.
    const order = baseline === '' ? ['this'] : i % 2 === 0 ? ['baseline', 'this'] : ['this', 'baseline'];
    for (const v of order) {
      const res =
        v === 'baseline'
          ? spawnRun('baseline', baseline === 'source' ? '' : baseline, flag('baseline-ring', ''), deltasFlag('baseline-deltas'))
          : spawnRun('this build', '', flag('ring', ''), deltasFlag('deltas'));
      process.stdout.write(JSON.stringify({ ...res, run: i + 1 }) + '\n');
      results.push(res);
    }
  }
  const of = (variant: string) => results.filter((r) => r.variant === variant);
  const summary = (rs: RunResult[]) =>
    rs.length === 0 ? null : { ring: rs[0]!.ring, deltas: rs[0]!.deltas, textKbMean: rs[0]!.textKbMean, wallMsPerReport: rs.map((r) => r.wallMsPerReport), cpuMsPerReport: rs.map((r) => r.cpuMsPerReport), cpuMsMedian: median(rs.map((r) => r.cpuMsPerReport)) };
  const mine = summary(of('this build'))!;
  const base = summary(of('baseline'));
  process.stdout.write(JSON.stringify({ bench: 'app-ingest', summary: true, probes: Number(flag('probes', '1000')), thisBuild: mine, baseline: base, cpuRatio: base ? r3(mine.cpuMsMedian / base.cpuMsMedian) : null }) + '\n');
  process.stdout.write(
    `app-ingest: this build ${mine.cpuMsMedian} ms of CPU per report (${mine.textKbMean} KB of JSON, ring ${mine.ring}, deltas ${mine.deltas})` +
      (base ? `, baseline ${base.cpuMsMedian} ms (${base.textKbMean} KB, ring ${base.ring}, deltas ${base.deltas}): ${r3(mine.cpuMsMedian / base.cpuMsMedian)} of it` : '') +
      '\n',
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
