/**
 * In-process micro-benchmark of the app's views and search (no HTTP, no WebSocket):
 * a synthetic fleet is loaded into a LiveModel, then reports are replayed and each
 * watched view is rendered per tick; prints render time per tick, delta bytes, node
 * sizes and search latency. Used to find where bench/app.ts's time goes.
 *
 *     npx tsx bench/app-render.ts --probes 1000 --reports 300 --per-tick 5
 */
import { LiveModel } from '../runtime/app/model';
import { indexOnThread } from '../runtime/app/search-docs';
import { ViewHub } from '../runtime/app/views/hub';
import { VIEW_IDS } from '../runtime/app/views/catalog';
import { SimProbe, loadTemplates, type FleetShape } from '../test/app/fleet';
import { flag } from './lib/args';

const pct = (s: number[], p: number): number => (s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))]! : NaN);
const r2 = (x: number): number => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const probesN = Number(flag('probes', '100'));
  const reportsN = Number(flag('reports', '200'));
  const perTick = Number(flag('per-tick', '5'));
  const shape: FleetShape = { probes: probesN, containersPerProbe: 10, processesPerProbe: 40, connectionsPerProbe: 3 };
  const tpl = await loadTemplates();
  const probes = Array.from({ length: probesN }, (_, i) => new SimProbe(i, shape, tpl));
  const model = new LiveModel({ intervalMs: 15_000 });
  const bytes = new Map<string, number>();
  const nodesSent = new Map<string, number>();
  let messages = 0;
  const hub = new ViewHub(model, {
    minIntervalMs: 1e9,
    publish: (topic, msg) => {
      messages++;
      bytes.set(topic, (bytes.get(topic) ?? 0) + msg.length);
      const m = JSON.parse(msg) as { add: unknown[]; update: unknown[]; remove: unknown[] };
      nodesSent.set(topic, (nodesSent.get(topic) ?? 0) + m.add.length + m.update.length + m.remove.length);
    },
  });
  const search = indexOnThread(model);
  let now = Date.now();
  const t0 = performance.now();
  for (const p of probes) model.ingest(p.next(now), 'bench', now);
  const loadMs = performance.now() - t0;
  for (const v of ['containers', 'hosts', 'containers-by-image'] as const) hub.subscribe(v, {});
  hub.subscribe('containers', { namespace: 'shop' });
  const f0 = performance.now();
  for (const v of VIEW_IDS) hub.current(v);
  const firstRenderMs = performance.now() - f0;
  const sizes: Record<string, number> = {};
  for (const v of VIEW_IDS) {
    const r = hub.current(v);
    let total = 0;
    for (const n of r.nodes.values()) total += n.json.length;
    sizes[v] = r.nodes.size ? Math.round(total / r.nodes.size) : 0;
  }
  hub.tick();
  bytes.clear();
  nodesSent.clear();
  messages = 0;
  const tickMs: number[] = [];
  const ingestMs: number[] = [];
  let k = 0;
  for (let i = 0; i < reportsN; i++) {
    now += 15_000 / probesN;
    const p = probes[k % probesN]!;
    if (k % 7 === 0) p.flip(k % 10);
    const rep = p.next(now);
    const i0 = performance.now();
    model.ingest(rep, 'bench', now);
    ingestMs.push(performance.now() - i0);
    k++;
    if (k % perTick === 0) {
      const s = performance.now();
      hub.tick();
      tickMs.push(performance.now() - s);
    }
  }
  tickMs.sort((a, b) => a - b);
  ingestMs.sort((a, b) => a - b);
  const queries = ['nginx', 'image:redis', `host-${String(Math.floor(probesN / 2)).padStart(4, '0')}`, 'name:postgres', 'serve', 'namespace:shop api', 'cmdline:8003', 'p'];
  const perQuery: Record<string, number> = {};
  const all: number[] = [];
  for (const q of queries) {
    const ts: number[] = [];
    for (let i = 0; i < 20; i++) {
      const s = performance.now();
      search.search(q, 50);
      ts.push(performance.now() - s);
    }
    ts.sort((a, b) => a - b);
    perQuery[q] = r2(pct(ts, 0.5));
    all.push(...ts);
  }
  all.sort((a, b) => a - b);
  global.gc?.();
  const mem = process.memoryUsage();
  console.log(
    JSON.stringify({
      bench: 'app-render',
      probes: probesN,
      loadMs: r2(loadMs),
      firstRenderAllViewsMs: r2(firstRenderMs),
      ingestMsP50: r2(pct(ingestMs, 0.5)),
      ingestMsP99: r2(pct(ingestMs, 0.99)),
      reportsPerTick: perTick,
      tickMsP50: r2(pct(tickMs, 0.5)),
      tickMsP99: r2(pct(tickMs, 0.99)),
      messages,
      deltaNodesPerReport: Object.fromEntries([...nodesSent].map(([t, b]) => [t, r2(b / reportsN)])),
      deltaKbPerReport: Object.fromEntries([...bytes].map(([t, b]) => [t, r2(b / 1024 / reportsN)])),
      nodeJsonBytes: sizes,
      searchMsP50ByQuery: perQuery,
      searchMsP99: r2(pct(all, 0.99)),
      heapMb: r2(mem.heapUsed / 1e6),
      rssMb: r2(mem.rss / 1e6),
    }),
  );
  hub.close();
}
main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
