/**
 * Heap after GC of the app's parts at a fleet size, in process: the model, the
 * search index, the watched views, the watched views after every view was
 * counted (what a /metrics scrape or the list of views does), every view
 * rendered (what REST answers of every view hold until they are released). Reports go through JSON (as they
 * do over HTTP: a parsed report shares no object or string with the simulator).
 * Each part is measured in a process of its own (`--stage`), as the difference
 * with a process that holds only the simulators.
 *
 *     node --expose-gc --import tsx bench/app-mem.ts --probes 1000
 */
import { spawnSync } from 'node:child_process';
import { LiveModel } from '../runtime/app/model';
import { indexOnThread } from '../runtime/app/search-docs';
import { ViewHub } from '../runtime/app/views/hub';
import { VIEW_IDS } from '../runtime/app/views/catalog';
import type { Report } from '../runtime/report';
import { SimProbe, loadTemplates, type FleetShape } from '../test/app/fleet';
import { flag } from './lib/args';

const STAGES = ['sim', 'model', 'search', 'watched', 'counted', 'all'] as const;
type Stage = (typeof STAGES)[number];

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    global.gc!();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

async function stage(stage: Stage, probesN: number, rounds: number): Promise<number> {
  const shape: FleetShape = { probes: probesN, containersPerProbe: 10, processesPerProbe: 40, connectionsPerProbe: 3 };
  const tpl = await loadTemplates();
  const probes = Array.from({ length: probesN }, (_, i) => new SimProbe(i, shape, tpl));
  const model = new LiveModel({ intervalMs: 15_000 });
  const hub = stage === 'sim' || stage === 'model' || stage === 'search' ? null : new ViewHub(model, { minIntervalMs: 1e9, publish: () => {} });
  const search = stage === 'sim' || stage === 'model' ? null : indexOnThread(model);
  if (hub && stage !== 'all') for (const v of ['containers', 'hosts', 'containers-by-image'] as const) hub.subscribe(v, {});
  let now = Date.now();
  // Every probe: one full report, then `rounds` more (deltas on it, a full every 4th), as over HTTP.
  for (let r = 0; r <= rounds; r++) {
    for (const p of probes) {
      now += 15_000 / probesN;
      if ((r + p.index) % 7 === 0) p.flip(r % 10);
      const rep = p.next(now);
      if (stage !== 'sim') model.ingest(JSON.parse(JSON.stringify(rep)) as Report, 'bench', now);
    }
    if (hub) hub.tick();
  }
  let counted = 0;
  if (hub && stage === 'counted') for (const v of VIEW_IDS) counted += hub.nodeCount(v);
  if (hub && stage === 'counted' && VIEW_IDS.some((v) => hub.holds(v) && !['containers', 'hosts', 'containers-by-image'].includes(v))) throw new Error('counting rendered a view');
  if (hub && stage === 'all') for (const v of VIEW_IDS) hub.current(v);
  const heap = await heapAfterGc();
  void search?.size;
  hub?.close();
  return heap;
}

async function main(): Promise<void> {
  const probesN = Number(flag('probes', '1000'));
  const rounds = Number(flag('rounds', '3'));
  const only = process.argv.indexOf('--stage') >= 0 ? (flag('stage', 'sim') as Stage) : null;
  if (only !== null) {
    console.log(JSON.stringify({ stage: only, heap: await stage(only, probesN, rounds) }));
    return;
  }
  const heaps: Partial<Record<Stage, number>> = {};
  for (const s of STAGES) {
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, '--stage', s, '--probes', String(probesN), '--rounds', String(rounds)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`stage ${s} failed: ${r.stderr}`);
    heaps[s] = (JSON.parse(r.stdout.trim().split('\n').pop()!) as { heap: number }).heap;
  }
  const mb = (x: number): number => Math.round(x / 1e5) / 10;
  console.log(
    JSON.stringify({
      bench: 'app-mem',
      probes: probesN,
      rounds,
      simulatorsMb: mb(heaps.sim!),
      modelMb: mb(heaps.model! - heaps.sim!),
      searchMb: mb(heaps.search! - heaps.model!),
      watchedViewsMb: mb(heaps.watched! - heaps.search!),
      watchedAfterCountMb: mb(heaps.counted! - heaps.search!),
      allViewsMb: mb(heaps.all! - heaps.search!),
      totalMb: mb(heaps.all! - heaps.sim!),
    }),
  );
}
main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
