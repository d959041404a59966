/**
 * The layout runs in a Web Worker, not on the page's main thread: the build
 * keeps the layout's code out of the page's bundle, the page starts the worker
 * from its own same-origin asset (allowed by the CSP's worker-src), the worker
 * holds every node of the view, and the positions the page draws are exactly
 * the ones the worker computed (sent as float32). A delta that only changes
 * a node's state repaints that node on screen (read back from a screenshot)
 * without moving anything. A malformed request is refused by the worker with
 * a code, and the page says so. Real app, real Chromium; no timing assertion.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page, Worker } from 'playwright-core';
import { request } from 'undici';
import { buildUi } from '../../runtime/ui/build';
import { postReport } from '../app/helpers';
import { loadTemplates, SimProbe, type FleetShape } from '../app/fleet';
import { openPage, startHarness, TOKENS, ui, waitDrawn, type Harness } from './harness';

let h: Harness;
const shape: FleetShape = { probes: 4, containersPerProbe: 5, processesPerProbe: 10, connectionsPerProbe: 2 };
let fleet: SimProbe[] = [];

t.before(async () => {
  h = await startHarness();
  const templates = await loadTemplates();
  fleet = Array.from({ length: shape.probes + 1 }, (_, i) => new SimProbe(i, shape, templates));
  for (const p of fleet.slice(0, shape.probes)) {
    const r = await postReport(h.app, p.full(Date.now()));
    if (r.status !== 202) throw new Error(`report refused: ${r.text}`);
  }
});

t.teardown(async () => {
  await h?.close();
});

type LayoutHook = { orchestratorLayout: { placed(): number; requests(): number; position(id: string): [number, number] | null } };

async function layoutWorker(workers: Worker[]): Promise<Worker> {
  const found = workers.filter((w) => /\/assets\/layout-[0-9a-f]{12}\.js$/.test(w.url()));
  if (found.length !== 1) throw new Error(`expected one layout worker, found: ${workers.map((w) => w.url()).join(', ') || 'none'}`);
  return found[0]!;
}

t.test('the build keeps the layout out of the page bundle and ships it as the worker asset', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ui-build-'));
  try {
    const b = await buildUi(dir);
    t.notOk(b.pageInputs.includes('runtime/ui/layout.ts'), 'layout.ts is not bundled into the page');
    t.notOk(b.pageInputs.includes('runtime/ui/layout-worker.ts'), 'the worker entry is not bundled into the page');
    t.ok(b.pageInputs.includes('runtime/ui/layout-client.ts'), 'the page bundles the worker client');
    const workerFile = b.files.find((f) => /^assets\/layout-[0-9a-f]{12}\.js$/.test(f));
    t.ok(workerFile, `a worker asset is written: ${b.files.join(', ')}`);
    const pageFile = b.files.find((f) => /^assets\/app-[0-9a-f]{12}\.js$/.test(f))!;
    const pageJs = readFileSync(join(dir, pageFile), 'utf8');
    // The sunflower's golden angle is the layout's signature: in the worker's code, not the page's.
    t.match(readFileSync(join(dir, workerFile!), 'utf8'), /Math\.sqrt\(5\)/, 'the worker holds the layout code');
    t.notMatch(pageJs, /Math\.sqrt\(5\)/, 'the page does not');
    t.match(pageJs, new RegExp(`/${workerFile!.replace('.', '\\.')}`), "the page names the worker's hashed URL");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

t.test('the page lays out in a worker: the worker holds every node, the page draws the positions it sent', async (t) => {
  const page0 = await request(`${h.app.url}/`);
  t.match(String(page0.headers['content-security-policy']), /worker-src 'self'/, 'the CSP allows same-origin workers');
  await page0.body.dump();
  const { page, context, errors } = await openPage(h, TOKENS.viewer, 'view=containers&group=host');
  const total = shape.probes * shape.containersPerProbe;
  t.equal(await waitDrawn(page, total), total);
  const worker = await layoutWorker(page.workers());
  const worker0 = await request(worker.url());
  t.equal(worker0.statusCode, 200, 'the worker script is served');
  t.match(String(worker0.headers['content-type']), /^text\/javascript/);
  await worker0.body.dump();
  t.equal(await worker.evaluate(() => (self as unknown as LayoutHook).orchestratorLayout.placed()), total, 'the worker placed every node of the view');

  /** How many drawn nodes sit exactly where the worker put them (float32, so equality is exact). */
  const drawnAsComputed = async (ids: string[]): Promise<number> => {
    let same = 0;
    for (const id of ids) {
      const drawn = await page.evaluate((x) => (window as unknown as { orchestratorUi: { graphPosition(id: string): { x: number; y: number } | null } }).orchestratorUi.graphPosition(x), id);
      const computed = await worker.evaluate((x) => (self as unknown as LayoutHook).orchestratorLayout.position(x), id);
      if (drawn && computed && drawn.x === computed[0] && drawn.y === computed[1]) same++;
    }
    return same;
  };
  const ids = await ui<string[]>(page, 'nodes');
  t.equal(ids.length, total);
  t.equal(await drawnAsComputed(ids), total, 'every node is drawn exactly where the worker put it');

  // A new host's containers: the worker gets a request and places only what is new.
  const before = await worker.evaluate(() => (self as unknown as LayoutHook).orchestratorLayout.requests());
  t.equal((await postReport(h.app, fleet[shape.probes]!.full(Date.now()))).status, 202);
  const grown = total + shape.containersPerProbe;
  await page.waitForFunction((n) => (window as unknown as { orchestratorUi: { nodes(): string[] } }).orchestratorUi.nodes().length === n, grown, { timeout: 5000 });
  t.ok((await worker.evaluate(() => (self as unknown as LayoutHook).orchestratorLayout.requests())) > before, 'the delta went to the worker');
  t.equal(await worker.evaluate(() => (self as unknown as LayoutHook).orchestratorLayout.placed()), grown, 'the worker placed the new nodes');
  // A new group makes the worker repack the groups: the page moves every node to the new positions, not only the delta's.
  const now = await ui<string[]>(page, 'nodes');
  t.equal(await drawnAsComputed(now), grown, 'after the delta, every node (old and new) is where the worker put it');
  t.same(errors, [], 'no console errors (CSP violations included)');
  await context.close();
});

t.test('a malformed request is refused by the worker with a code, and the page shows it', async (t) => {
  const { page, context } = await openPage(h, TOKENS.viewer, 'view=containers&group=host');
  await waitDrawn(page, 1);
  const worker = await layoutWorker(page.workers());
  // Delivered to the worker's own handler, as if the page had posted it.
  await worker.evaluate(() => {
    const s = self as unknown as { onmessage(e: { data: unknown }): void };
    s.onmessage({ data: { seq: 1, clear: false, place: [['only-an-id']], remove: [] } });
  });
  await page.waitForSelector('.banner.error[data-key="layout"]', { timeout: 5000 });
  t.match(await page.locator('.banner[data-key="layout"]').textContent(), /LAYOUT_BAD_REQUEST.*place must be \[id, group\] string pairs/);
  await context.close();
});

/** The colour of one pixel of the page, as #rrggbb (from a 1x1 PNG screenshot; filters are no-ops on a lone pixel). */
async function pixel(page: Page, x: number, y: number): Promise<string> {
  const png = await page.screenshot({ clip: { x: Math.round(x), y: Math.round(y), width: 1, height: 1 } });
  const idat: Buffer[] = [];
  let colorType = -1;
  for (let off = 8; off < png.length; ) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    if (type === 'IHDR') colorType = png[off + 8 + 9]!;
    if (type === 'IDAT') idat.push(png.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  if (colorType !== 2 && colorType !== 6) throw new Error(`unexpected PNG colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  return `#${[raw[1]!, raw[2]!, raw[3]!].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

t.test('a state change repaints the node in place (colour-only delta, no re-layout)', async (t) => {
  const { page, context, errors } = await openPage(h, TOKENS.viewer, 'view=containers&group=host');
  // What the page's feed received (type and seq), for the failure message below.
  const frames: string[] = [];
  page.on('websocket', (ws) => {
    frames.push('open');
    ws.on('framereceived', (f) => frames.push(String(f.payload).slice(0, 90).replace(/,"(nodes|add|update|remove)":.*/, '')));
    ws.on('close', () => frames.push('close'));
  });
  await waitDrawn(page, 1);
  const worker = await layoutWorker(page.workers());
  const colours = await page.evaluate(() => {
    const cs = getComputedStyle(document.documentElement);
    return { running: cs.getPropertyValue('--n-container').trim().toLowerCase(), paused: cs.getPropertyValue('--n-paused').trim().toLowerCase() };
  });
  const view = async () => {
    const r = await request(`${h.app.url}/api/topology/containers`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    return ((await r.body.json()) as { nodes: Array<{ id: string; label: string; metadata: Array<{ id: string; value: unknown }> }> }).nodes;
  };
  const stateOf = (n: { metadata: Array<{ id: string; value: unknown }> }) => n.metadata.find((m) => m.id === 'state')?.value;
  // The fleet names containers <image>-<host index>-<container index>: host 1's container 2 is the one flipped.
  const target = (await view()).find((n) => n.label.endsWith('-1-2'))!;
  t.equal(stateOf(target), 'running');
  const id = target.id;
  type P = { x: number; y: number };
  const graphPos = () => page.evaluate((x) => (window as unknown as { orchestratorUi: { graphPosition(id: string): P | null } }).orchestratorUi.graphPosition(x), id);
  // Read where the node is now on the page each time (a banner above the graph shifts the page, not the graph).
  const paint = async () => {
    const p = (await ui<P | null>(page, 'position', id))!;
    return pixel(page, p.x, p.y);
  };
  const where = await graphPos();
  let seen = await paint();
  t.equal(seen, colours.running, `before: the node is painted running (${colours.running}), so the pixel read is the node`);
  const requests = await worker.evaluate(() => (self as unknown as LayoutHook).orchestratorLayout.requests());
  fleet[1]!.flip(2);
  t.equal((await postReport(h.app, fleet[1]!.full(Date.now()))).status, 202);
  t.equal(stateOf((await view()).find((n) => n.id === id)!), 'paused', 'the report paused it');
  for (let i = 0; i < 100 && seen !== colours.paused; i++) {
    seen = await paint();
    if (seen !== colours.paused) await page.waitForTimeout(50);
  }
  if (seen !== colours.paused) {
    // Received (the page holds it paused) but not painted, or never received.
    t.comment(`page: state ${await ui(page, 'state', id)}, graph colour ${await ui(page, 'colour', id)}; feed: ${frames.join(' | ')}`);
  }
  t.equal(seen, colours.paused, `the node is painted paused (${colours.paused})`);
  t.equal(await ui(page, 'state', id), 'paused', 'the page holds it paused');
  t.equal((await ui<string | null>(page, 'colour', id))?.toLowerCase(), colours.paused, 'and the graph colours it so');
  t.same(await graphPos(), where, 'it did not move (graph coordinates)');
  t.equal(await worker.evaluate(() => (self as unknown as LayoutHook).orchestratorLayout.requests()), requests, 'a state change sends nothing to the layout worker');
  fleet[1]!.flip(2);
  t.equal((await postReport(h.app, fleet[1]!.full(Date.now()))).status, 202);
  for (let i = 0; i < 100 && seen !== colours.running; i++) {
    seen = await paint();
    if (seen !== colours.running) await page.waitForTimeout(50);
  }
  t.equal(seen, colours.running, 'and back to running');
  t.same(errors, []);
  await context.close();
});
