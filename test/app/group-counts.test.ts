/**
 * Grouped views' node counts are kept from the model's change sets (views/counts.ts), so a
 * /metrics scrape does not walk the model. Checked against a full count (countViewNodes, the
 * renderer's node-selection step) after each kind of change: probes joining, containers
 * changing image and processes changing name (nodes moving between groups, groups emptied and
 * made), a probe removed, probes going stale and being dropped by the sweep.
 */
import t from 'tap';
import type { FullReport } from '../../runtime/report';
import { LiveModel } from '../../runtime/app/model';
import { VIEW_IDS, VIEWS } from '../../runtime/app/views/catalog';
import { GroupCounts } from '../../runtime/app/views/counts';
import { ViewHub } from '../../runtime/app/views/hub';
import { countViewNodes } from '../../runtime/app/views/render';
import { SimProbe, loadTemplates, type FleetShape } from './fleet';

/** A probe's full report with every container's image and every process's name renamed by `tag`. */
function renamed(r: FullReport, tag: string): FullReport {
  for (const n of Object.values(r.topologies.container.nodes)) n.latest = { ...n.latest, image: { ts: 2, v: `registry.local/${tag}:1` } };
  for (const n of Object.values(r.topologies.process.nodes)) n.latest = { ...n.latest, name: { ts: 2, v: `${tag}-${String(n.latest.name?.v)}` } };
  return r;
}

t.test('grouped views count their groups from change sets, equal to a full count', async (t) => {
  const tpl = await loadTemplates();
  const shape: FleetShape = { probes: 5, containersPerProbe: 4, processesPerProbe: 12, connectionsPerProbe: 1, ring: 3 };
  let clock = 1_700_000_000_000;
  const model = new LiveModel({ intervalMs: 1000, now: () => clock });
  const probes = Array.from({ length: shape.probes }, (_, i) => new SimProbe(i, shape, tpl));
  // One probe before the hub exists: the counts start from what the model already holds.
  model.ingest(probes[0]!.next(clock), 'tok', clock);
  const hub = new ViewHub(model, { publish: () => undefined });
  t.teardown(() => hub.close());

  const check = (when: string): void => {
    for (const v of VIEW_IDS) t.equal(hub.nodeCount(v), countViewNodes(model, VIEWS[v]), `${v} after ${when}`);
  };
  check('the first probe');
  for (const p of probes.slice(1)) model.ingest(p.next(clock), 'tok', clock);
  check('every probe joined');
  const before = hub.nodeCount('containers-by-image');

  clock += 100;
  model.ingest(renamed(probes[1]!.full(clock), 'moved'), 'tok', clock);
  check('one probe renamed its images and processes');
  t.equal(hub.nodeCount('containers-by-image'), before + 1, 'the renamed containers make one new group');

  clock += 100;
  model.ingest(probes[1]!.full(clock), 'tok', clock);
  check('the names back');
  t.equal(hub.nodeCount('containers-by-image'), before, 'the emptied group is gone');

  t.ok(model.removeProbe(probes[2]!.probeId));
  check('a probe removed');

  // Two probes go silent: stale after 3 intervals, removed after 10.
  clock += 3500;
  for (const p of probes.slice(0, 3)) model.ingest(p.full(clock), 'tok', clock);
  model.sweep();
  check('the stale sweep');
  clock += 7000;
  for (const p of probes.slice(0, 3)) model.ingest(p.full(clock), 'tok', clock);
  model.sweep();
  check('the removing sweep');
  t.ok(hub.nodeCount('processes-by-name') > 0);
});

t.test('a plain view has no group counts', async (t) => {
  t.throws(() => new GroupCounts(new LiveModel(), VIEWS.containers), RangeError);
});
