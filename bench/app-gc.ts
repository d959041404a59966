/**
 * Young-generation GC of the app's parts at a fleet size, in process: how many scavenges, how long
 * they took in all and at p50/p99, while the fleet's reports are applied (as JSON, as over HTTP) at
 * the real mix (one report per probe per interval, a full every 4th, a view tick every
 * `--reports-per-tick` reports, 3-4 at 1,000 probes as the hub's 50 ms ticks see them). A search
 * is blocked behind a scavenge: this attributes the scavenges to the parts that cause them, without
 * the 100 WebSocket clients of bench/app.ts. Each `--stage` adds a part: `sim` (the simulated
 * probes and the JSON round trip alone: subtract it), `model`, `search` (the index), `watched` (the views the bench's clients watch, rendered and published as deltas).
 *
 * A/B: `--app-build DIR` takes the app's parts from a compiled copy of build/ (e.g. made before a
 * change) instead of the sources.
 *
 *     node --max-semi-space-size=16 --import tsx bench/app-gc.ts --probes 1000 --rounds 4 --stage watched
 *     node --max-semi-space-size=16 --import tsx bench/app-gc.ts --probes 1000 --rounds 1 --stage model --live
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as modelSource from '../runtime/app/model';
import * as searchSource from '../runtime/app/search-docs';
import * as hubSource from '../runtime/app/views/hub';
import type { Report } from '../runtime/report';
import { SimProbe, loadTemplates, type FleetShape } from '../test/app/fleet';
import { flag } from './lib/args';

const STAGES = ['sim', 'model', 'search', 'watched'] as const;
/** `--live`: after the run, the live heap per space (after full GCs), in MiB. */
const LIVE = process.argv.includes('--live');
if (LIVE) setFlagsFromString('--expose-gc');
type Stage = (typeof STAGES)[number];

async function main(): Promise<void> {
  const build = flag('app-build', '');
  const load = <T>(source: T, path: string): T => (build === '' ? source : (require(join(build, path)) as T));
  const { LiveModel } = load(modelSource, 'runtime/app/model.js');
  // Builds from before the model thread have no search-docs.js: their SearchIndex took the model.
  const indexOnThread =
    build === '' || existsSync(join(build, 'runtime/app/search-docs.js'))
      ? load(searchSource, 'runtime/app/search-docs.js').indexOnThread
      : (model: unknown): { size: number } => new (require(join(build, 'runtime/app/search.js')) as { SearchIndex: new (m: unknown) => { size: number } }).SearchIndex(model);
  const { ViewHub } = load(hubSource, 'runtime/app/views/hub.js');
  const probesN = Number(flag('probes', '1000'));
  const rounds = Number(flag('rounds', '4'));
  const stage = flag('stage', 'watched') as Stage;
  if (!STAGES.includes(stage)) throw new Error(`--stage must be one of ${STAGES.join(', ')}`);
  const rings = flag('rings', 'sliding');
  const perTick = Number(flag('reports-per-tick', '3'));
  const shape: FleetShape = { probes: probesN, containersPerProbe: 10, processesPerProbe: 40, connectionsPerProbe: 3, slidingRings: rings === 'sliding' };
  const tpl = await loadTemplates();
  const probes = Array.from({ length: probesN }, (_, i) => new SimProbe(i, shape, tpl));
  const model = new LiveModel({ intervalMs: 15_000 });
  const search = stage === 'model' || stage === 'sim' ? null : indexOnThread(model);
  let published = 0;
  const hub = stage === 'watched' ? new ViewHub(model, { minIntervalMs: 1e9, publish: (_t, m) => (published += m.length) }) : null;
  if (hub) {
    for (const v of ['containers', 'hosts', 'containers-by-image'] as const) hub.subscribe(v, {});
  }
  let now = Date.now();
  const step = (r: number, p: SimProbe): void => {
    // The replay's timer is not exact: a few ms either way, as in bench/app.ts.
    now += 15_000 / probesN + ((p.index * 7919 + r) % 5) - 2;
    if ((r + p.index) % 7 === 0) p.flip(r % 10);
    const report = JSON.parse(JSON.stringify(p.next(now))) as Report;
    if (stage !== 'sim') model.ingest(report, 'bench', now);
  };
  // Load: one full report each, then one round to settle (views rendered, old generation grown).
  for (const p of probes) step(0, p);
  hub?.tick();
  for (const p of probes) step(1, p);
  hub?.tick();

  const pauses: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) pauses.push(e.duration);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const t0 = performance.now();
  // The process's CPU (V8's GC helper threads included) over the timed reports: what the parts cost, collections and all.
  const cpu0 = process.cpuUsage();
  let n = 0;
  for (let r = 2; r < rounds + 2; r++) {
    for (const p of probes) {
      step(r, p);
      if (hub && ++n % perTick === 0) hub.tick();
      // Let the observer's callbacks and V8's GC tasks run between reports, as between requests.
      if (n % 64 === 0) await new Promise((res) => setImmediate(res));
    }
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMsPerReport = Math.round(((cpu.user + cpu.system) / 1000 / (rounds * probesN)) * 1000) / 1000;
  await new Promise((res) => setTimeout(res, 50));
  obs.disconnect();
  pauses.sort((a, b) => a - b);
  const q = (p: number): number => Math.round((pauses[Math.min(pauses.length - 1, Math.floor(pauses.length * p))] ?? NaN) * 100) / 100;
  const sum = pauses.reduce((a, b) => a + b, 0);
  process.stdout.write(
    JSON.stringify({ bench: 'app-gc', app: build || 'source', stage, rings, probes: probesN, reports: rounds * probesN, ms: Math.round(ms), cpuMsPerReport, scavenges: pauses.length, scavengeMsSum: Math.round(sum), scavengeMsPerReport: Math.round((sum / (rounds * probesN)) * 1000) / 1000, scavengeMsP50: q(0.5), scavengeMsP99: q(0.99), scavengeMsMax: q(1), publishedMb: Math.round(published / 1e4) / 100 }) + '\n',
  );
  process.stdout.write(`app-gc [${stage}, ${rings} rings, ${probesN} probes, ${rounds * probesN} reports]: ${pauses.length} scavenges, ${Math.round(sum)} ms in all (${Math.round((sum / (rounds * probesN)) * 1000) / 1000} ms per report), CPU ${cpuMsPerReport} ms per report, p50 ${q(0.5)} / p99 ${q(0.99)} / max ${q(1)} ms\n`);
  if (LIVE) {
    // What the parts keep: the old generation after two full GCs (the sim's own state is in the
    // `sim` stage's figure; subtract it). A scavenge walks every old-generation page, so its pause
    // grows with the heap's size, not only with what survives it.
    const gc = runInNewContext('gc') as () => void;
    gc();
    gc();
    const spaces = Object.fromEntries(getHeapSpaceStatistics().filter((sp) => sp.space_used_size > 0).map((sp) => [sp.space_name, Math.round(sp.space_used_size / 1048576)]));
    process.stdout.write(JSON.stringify({ bench: 'app-gc', stage, liveMibBySpace: spaces }) + '\n');
  }
  hub?.close();
  void search?.size;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
