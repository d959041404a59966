/**
 * A probe's current picture is updated in place by its deltas (LiveModel
 * currentWithDelta). After any sequence of fulls and deltas, with nodes
 * added, changed, removed and put back, probes going stale and coming back,
 * the merged picture and every change set equal those of a model that is
 * given each delta already applied to its base (runtime/report applyDelta) as
 * a full report: the copy-per-delta way, which compares whole pictures.
 */
import t from 'tap';
import { LiveModel, type ChangeSet } from '../../runtime/app/model';
import { applyDelta, diffReports, type DeltaReport, type FullReport, type Report, type ReportNode } from '../../runtime/report';
import { SimProbe, loadTemplates, seededRandom as rng } from './fleet';

/** `r` with some nodes dropped, changed or (re)added at random: deltas that remove and put back ids. */
function edit(r: FullReport, rand: () => number, pool: Map<string, ReportNode>): FullReport {
  const topologies = { ...r.topologies } as Record<string, { nodes: Record<string, ReportNode> }>;
  for (const name of ['process', 'container', 'endpoint'] as const) {
    const nodes = { ...topologies[name]!.nodes };
    for (const id of Object.keys(nodes)) {
      pool.set(`${name}\n${id}`, nodes[id]!);
      const x = rand();
      if (x < 0.15) delete nodes[id];
      else if (x < 0.3) nodes[id] = { ...nodes[id]!, latest: { ...nodes[id]!.latest, name: { ts: 3, v: `v${Math.floor(rand() * 3)}` } } };
    }
    // Put back some ids seen before (dropped by an earlier report).
    for (const [key, n] of pool) {
      const [t2, id] = key.split('\n') as [string, string];
      if (t2 === name && !(id in nodes) && rand() < 0.2) nodes[id] = n;
    }
    topologies[name] = { nodes };
  }
  return { ...r, topologies: topologies as unknown as FullReport['topologies'] };
}

const nodePart = (m: LiveModel): string =>
  m
    .fingerprint()
    .split('\n')
    .filter((l) => !l.startsWith('probe|'))
    .join('\n');

const changed = (c: ChangeSet): string =>
  Object.entries(c.changed)
    .map(([t, ids]) => `${t}:${[...ids].sort().join(',')}`)
    .join(' ');

t.test('deltas applied in place give the same pictures and change sets as deltas applied to a copy', async (t) => {
  const tpl = await loadTemplates();
  let compared = 0;
  for (let seed = 1; seed <= 10; seed++) {
    const rand = rng(seed * 104729);
    let clock = 1_700_000_000_000;
    const inPlace = new LiveModel({ intervalMs: 1000, now: () => clock });
    const copied = new LiveModel({ intervalMs: 1000, now: () => clock });
    const seenA: string[] = [];
    const seenB: string[] = [];
    inPlace.onChange((c) => seenA.push(changed(c)));
    copied.onChange((c) => seenB.push(changed(c)));
    const sims = Array.from({ length: 3 }, (_, i) => new SimProbe(i, { probes: 3, containersPerProbe: 3, processesPerProbe: 6, connectionsPerProbe: 2, ring: 3 }, tpl));
    const bases = new Map<string, FullReport>();
    const pools = sims.map(() => new Map<string, ReportNode>());
    for (let round = 0; round < 30; round++) {
      clock += 1000;
      for (let i = 0; i < sims.length; i++) {
        const sim = sims[i]!;
        if (rand() < 0.3) sim.flip(Math.floor(rand() * 3));
        // The simulator's full picture, edited, then sent as a full (every 4th) or as a delta on the last full.
        const f = edit(sim.full(clock), rand, pools[i]!);
        const base = bases.get(f.probeId);
        let report: Report;
        if (base === undefined || rand() < 0.25) {
          report = f;
          bases.set(f.probeId, f);
        } else {
          report = diffReports(base, f) as DeltaReport;
        }
        // Now and then a probe misses reports and goes stale before it reports again.
        if (rand() < 0.05) {
          clock += 3_500;
          inPlace.sweep();
          copied.sweep();
        }
        inPlace.ingest(report, 'p');
        copied.ingest(report.kind === 'delta' ? { ...applyDelta(bases.get(report.probeId)!, report), seq: report.seq } : report, 'p');
        t.equal(nodePart(inPlace), nodePart(copied), `seed ${seed}, round ${round}, probe ${i}: same merged picture`, { diagnostic: false });
        compared++;
      }
    }
    t.same(seenA, seenB, `seed ${seed}: the same change sets, report by report (${seenA.length})`);
  }
  t.ok(compared >= 900, `${compared} pictures compared`);
});
