/**
 * The topology page end to end: the real app (in-process) serving a fresh UI
 * build, fed by recorded probe reports (test/fixtures/reports) and by a
 * synthetic fleet made from them, driven in headless Chromium. Screenshots go
 * to docs/images/ for docs/user-guide.md when run by `npm run screenshots`. Every wait is bounded.
 */
import t from 'tap';
import { join } from 'node:path';
import { request as rawRequest } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { request } from 'undici';
import { readRecording } from '../../runtime/report';
import { UI_CSP } from '../../runtime/app/static';
import { postReport } from '../app/helpers';
import { loadTemplates, RECORDING, SimProbe, type FleetShape } from '../app/fleet';
import { SCREENSHOTS, clickNode, drawnLabels, nextFrames, openPage, startHarness, TOKENS, ui, waitDrawn, type Harness } from './harness';


let h: Harness;
const shape: FleetShape = { probes: 6, containersPerProbe: 6, processesPerProbe: 14, connectionsPerProbe: 2 };
let fleet: SimProbe[] = [];

t.before(async () => {
  h = await startHarness();
  const templates = await loadTemplates();
  fleet = Array.from({ length: shape.probes }, (_, i) => new SimProbe(i, shape, templates));
  for (const p of fleet) {
    const r = await postReport(h.app, p.full(Date.now()));
    if (r.status !== 202) throw new Error(`report refused: ${r.text}`);
  }
});

t.teardown(async () => {
  await h?.close();
});

t.test('the app serves the bundle: content types, immutable assets, CSP, no traversal', async (t) => {
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const r = await request(h.app.url + path, { headers });
    return { status: r.statusCode, headers: r.headers, body: await r.body.text() };
  };
  const page = await get('/');
  t.equal(page.status, 200);
  t.match(page.headers['content-type'], /^text\/html/);
  t.equal(page.headers['content-security-policy'], UI_CSP);
  t.equal(page.headers['cache-control'], 'no-cache');
  t.equal(page.headers['x-frame-options'], 'DENY');
  t.notMatch(page.body, /<script>|style=/, 'no inline script or style');
  const js = /src="(\/assets\/app-[0-9a-f]{12}\.js)"/.exec(page.body)![1]!;
  const css = /href="(\/assets\/app-[0-9a-f]{12}\.css)"/.exec(page.body)![1]!;
  const a = await get(js, { 'accept-encoding': 'gzip' });
  t.equal(a.status, 200);
  t.match(a.headers['content-type'], /^text\/javascript/);
  t.equal(a.headers['cache-control'], 'public, max-age=31536000, immutable');
  t.equal(a.headers['content-encoding'], 'gzip');
  t.match((await get(css)).headers['content-type'], /^text\/css/);
  const again = await get('/', { 'if-none-match': String(page.headers.etag) });
  t.equal(again.status, 304, 'index.html revalidates by ETag');
  // Raw paths, not normalised by a URL parser on the way.
  const raw = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = rawRequest({ host: '127.0.0.1', port: h.app.port, path, method: 'GET' }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  for (const bad of ['/assets/../index.html', '/assets/../../package.json', '/assets/..%2f..%2fpackage.json', '/assets/%2e%2e/%2e%2e/package.json', '/assets//etc/passwd']) {
    const r = await raw(bad);
    t.not(r.status, 200, `raw ${bad} → ${r.status}`);
    t.notMatch(r.body, /"name": "orchestrator"|root:x:0/);
  }
  for (const bad of [ '/assets/%2e%2e%2fpackage.json', '/assets/..%2F..%2Fpackage.json', '/../package.json', '/assets/app.js', '/assets/', '/etc/passwd', '/assets/app-000000000000.js']) {
    const r = await get(bad);
    t.equal(r.status, 404, `${bad} → 404`);
    t.notMatch(r.body, /"name": "orchestrator"|root:x:0/);
  }
  const who = async (token?: string) => {
    const r = await request(h.app.url + '/api/whoami', { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: r.statusCode, json: (await r.body.json()) as { name?: string; role?: string } };
  };
  t.same((await who(TOKENS.viewer)).json, { name: 'alice', role: 'viewer' });
  t.same((await who(TOKENS.admin)).json, { name: 'root', role: 'admin' });
  t.equal((await who()).status, 401);
  t.equal((await who(TOKENS.probe)).status, 403);
});

t.test('recorded reports: the graph draws the expected nodes, and a node added by a new report appears without reload', async (t) => {
  const reports = await readRecording(RECORDING);
  t.equal(reports.length, 3);
  // A second app-level identity: the recorded probe reports under probe-b's token.
  const r1 = await postReport(h.app, reports[0]!, TOKENS.probe2);
  t.equal(r1.status, 202, r1.text);
  const { page, context, errors } = await openPage(h, TOKENS.viewer, 'view=processes&group=host');
  const rest = await request(`${h.app.url}/api/topology/processes`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
  const expected = ((await rest.body.json()) as { nodes: Array<{ label: string }> }).nodes.map((n) => n.label).sort();
  t.equal(await waitDrawn(page, expected.length), expected.length, 'first complete drawing has every node of the view');
  t.same(await drawnLabels(page), expected, 'the nodes drawn are the view REST returns');
  const host = reports[0]!.hostId.split(';')[1]!;
  const captions = await page.locator('.caption').allTextContents();
  t.ok(captions.includes(host), `grouped by host: a caption names ${host}`);
  // The view counts and the filter bar arrive with GET /api/topology and move the graph's box
  // down a little; positions on the page are compared once the page has settled.
  await page.waitForSelector('.views .count', { timeout: 5000 });
  await page.waitForFunction(() => (document.querySelector('.filters')?.children.length ?? 0) > 0, undefined, { timeout: 5000 });
  // The box's new size reaches the renderer at the next frame (graph.ts, fitBox).
  await nextFrames(page);
  const before = new Set(await ui<string[]>(page, 'nodes'));
  const positions = new Map<string, { x: number; y: number }>();
  for (const id of before) positions.set(id, (await ui<{ x: number; y: number }>(page, 'position', id))!);
  // For the failure message: where the graph's box is on the page, and each node in graph coordinates.
  const box = () => page.evaluate(() => JSON.stringify(document.getElementById('graph')!.getBoundingClientRect()));
  const boxBefore = await box();
  const graphPositions = new Map<string, unknown>();
  for (const id of before) graphPositions.set(id, await ui(page, 'graphPosition', id));

  // Report #2 (a delta) adds the client process and its connection.
  const r2 = await postReport(h.app, reports[1]!, TOKENS.probe2);
  t.equal(r2.status, 202, r2.text);
  await page.waitForFunction((n) => (window as unknown as { orchestratorUi: { nodes(): string[] } }).orchestratorUi.nodes().length > n, before.size, { timeout: 5000 });
  const after = await ui<string[]>(page, 'nodes');
  const added = after.filter((id) => !before.has(id));
  t.ok(added.length >= 1, `new node(s) drawn without reload: ${added.join(', ')}`);
  let moved = 0;
  let example = '';
  for (const [id, p] of positions) {
    const q = await ui<{ x: number; y: number } | null>(page, 'position', id);
    if (!q || Math.abs(q.x - p.x) > 1 || Math.abs(q.y - p.y) > 1) {
      moved++;
      example ||= `${id}: on the page ${JSON.stringify(p)} → ${JSON.stringify(q)}, in the graph ${JSON.stringify(graphPositions.get(id))} → ${JSON.stringify(await ui(page, 'graphPosition', id))}`;
    }
  }
  // Tells a layout that moved nodes (graph coordinates changed) from a camera or page that moved.
  if (moved > 0) t.comment(`${example}; graph box ${boxBefore} → ${await box()}`);
  t.equal(moved, 0, 'nodes already drawn kept their place');
  await page.screenshot({ path: join(SCREENSHOTS, 'ui-processes-live.png') });

  // Report #3 (full, client gone): the node leaves, the others stay put.
  t.equal((await postReport(h.app, reports[2]!, TOKENS.probe2)).status, 202);
  await page.waitForFunction((n) => (window as unknown as { orchestratorUi: { nodes(): string[] } }).orchestratorUi.nodes().length < n, after.length, { timeout: 5000 });
  t.same(errors, [], 'no console errors (CSP violations included)');
  await context.close();
});

t.test('search narrows and highlights; clicking a node opens its details; admin sees controls', async (t) => {
  const { page, context, errors } = await openPage(h, TOKENS.admin, 'view=containers');
  const total = shape.probes * shape.containersPerProbe;
  t.equal(await waitDrawn(page, total), total);
  await page.screenshot({ path: join(SCREENSHOTS, 'ui-containers.png') });

  await page.keyboard.press('/');
  t.equal(await page.evaluate(() => document.activeElement?.id), 'search', '/ focuses the search box');
  await page.keyboard.type('image:redis');
  await page.waitForFunction(() => (window as unknown as { orchestratorUi: { highlighted(): string[] | null } }).orchestratorUi.highlighted()?.length === 6, undefined, { timeout: 5000 });
  const hl = await ui<string[]>(page, 'highlighted');
  const labels = await Promise.all(hl.map((id) => ui<string>(page, 'label', id)));
  t.ok(labels.every((l) => l.startsWith('redis-')), `highlighted: ${labels.join(', ')}`);
  t.equal(await page.locator('#search-results .hit').count(), 6, 'results list the matches');
  t.match(await page.locator('#search-results .hit mark').first().textContent(), /redis/i, 'matches are marked');
  t.match(page.url(), /q=image%3Aredis/, 'the search is in the URL');
  await page.screenshot({ path: join(SCREENSHOTS, 'ui-search.png') });

  // The table narrows to the matches.
  await page.keyboard.press('Escape'); // closes the results, keeps nothing typed? (Escape in the box clears it)
  await page.fill('#search', 'image:redis');
  await page.locator('#search').blur();
  await page.click('#mode');
  await page.waitForFunction(() => document.querySelectorAll('.trow[data-id]').length === 6, undefined, { timeout: 5000 });
  t.equal(await page.locator('.trow[data-id]').count(), 6, 'table shows only the 6 matches');
  await page.screenshot({ path: join(SCREENSHOTS, 'ui-table.png') });
  await page.click('#mode');

  // Click a node on the canvas.
  const target = hl[0]!;
  await clickNode(page, target);
  await page.waitForSelector('#details h2', { timeout: 5000 });
  t.equal(await page.locator('#details h2').textContent(), await ui<string>(page, 'label', target));
  t.ok((await page.locator('#details svg.spark').count()) >= 1, 'metric sparklines');
  t.match(await page.locator('#details').textContent(), /Metadata[\s\S]*image[\s\S]*Connections[\s\S]*Outgoing[\s\S]*Incoming[\s\S]*Parents[\s\S]*host/);
  t.match(page.url(), new RegExp(`node=${encodeURIComponent(target).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'the selected node is in the URL');
  const buttons = await page.locator('#details button.control').allTextContents();
  t.same(buttons.sort(), ['Logs', 'Pause', 'Restart', 'Stop'], 'admin sees the node controls');
  await page.screenshot({ path: join(SCREENSHOTS, 'ui-details.png') });

  // A destructive control asks first; cancelling sends nothing.
  await page.click('#details button[data-control="pause"]');
  await page.waitForSelector('#confirm[open]', { timeout: 5000 });
  t.match(await page.locator('#confirm').textContent(), /Pause redis-/);
  await page.screenshot({ path: join(SCREENSHOTS, 'ui-confirm.png') });
  await page.click('#confirm button[value="no"]');
  t.equal(await page.locator('#details .cstatus').textContent(), '', 'cancelled: nothing ran');
  // Confirmed, with no probe control channel connected: the failure is shown plainly.
  await page.click('#details button[data-control="pause"]');
  await page.click('#confirm-yes');
  await page.waitForSelector('#details .cstatus .banner.error', { timeout: 8000 });
  t.match(await page.locator('#details .cstatus').textContent(), /Pause failed: .*PROBE_UNREACHABLE/);

  // A shared link opens the same state.
  // (sessionStorage is per tab: the person the link is shared with brings their own token.)
  const link = page.url();
  const other = await context.newPage();
  await other.goto(`${link}#token=${TOKENS.viewer}`);
  await other.waitForSelector('#details h2', { timeout: 8000 });
  t.equal(await other.locator('#details h2').textContent(), await ui<string>(page, 'label', target), 'the link reopens the node');
  t.equal(await other.inputValue('#search'), 'image:redis');
  t.same(errors.filter((e) => !/Failed to load resource: .* 503/.test(e)), [], 'no console errors but the refused control (503)');
  await context.close();
});

t.test('the drawing follows its box when the box changes size, with the window or without it', async (t) => {
  const { page, context, errors } = await openPage(h, TOKENS.viewer, 'view=containers');
  const total = shape.probes * shape.containersPerProbe;
  t.equal(await waitDrawn(page, total), total);
  await nextFrames(page);
  const sizes = (): Promise<{ box: number[]; drawing: number[]; left: number }> =>
    page.evaluate(() => {
      const box = document.getElementById('graph')!.getBoundingClientRect();
      const canvas = document.querySelector('#graph canvas') as HTMLCanvasElement;
      return { box: [Math.round(box.width), Math.round(box.height)], drawing: [canvas.clientWidth, canvas.clientHeight], left: box.left };
    });
  const before = await sizes();
  t.same(before.drawing, before.box, 'the drawing fills its box');
  const id = (await ui<string[]>(page, 'nodes'))[0]!;
  const p0 = (await ui<{ x: number; y: number }>(page, 'position', id))!;
  // What a details panel does: the box narrows, the window keeps its size.
  await page.evaluate(() => {
    document.getElementById('graph')!.style.flex = '0 0 600px';
  });
  await nextFrames(page);
  const after = await sizes();
  t.equal(after.box[0], 600, 'the box is narrower');
  t.same(after.drawing, after.box, 'the drawing fills its new box, at once');
  const p1 = (await ui<{ x: number; y: number }>(page, 'position', id))!;
  // The frame is centred in the box: a node moves by half the width lost, scaled with the frame.
  t.ok(Math.abs(p1.x - p0.x) > 1, `the node is placed for the new box (${JSON.stringify(p0)} → ${JSON.stringify(p1)})`);
  t.ok(p1.x > after.left && p1.x < after.left + 600, 'the node is inside the new box');
  // And with the window: the same observer (there is no window listener of its own).
  await page.setViewportSize({ width: 1000, height: 700 });
  await nextFrames(page);
  const smaller = await sizes();
  t.not(smaller.box[1], after.box[1], 'the window made the box shorter');
  t.same(smaller.drawing, smaller.box, 'the drawing fills the box the window left it');
  t.same(errors, [], 'no console errors');
  await context.close();
});

t.test('a viewer token shows no control buttons', async (t) => {
  const reps = await request(`${h.app.url}/api/topology/containers`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
  const node = ((await reps.body.json()) as { nodes: Array<{ id: string; controls: unknown[] }> }).nodes.find((n) => n.controls.length > 0)!;
  const { page, context } = await openPage(h, TOKENS.viewer, `view=containers&node=${encodeURIComponent(node.id)}`);
  await waitDrawn(page, 1);
  await page.waitForSelector('#details h2', { timeout: 5000 });
  await page.waitForFunction(() => document.documentElement.dataset.role === 'viewer', undefined, { timeout: 5000 });
  t.equal(await page.locator('#details button.control').count(), 0, 'no control buttons');
  t.notMatch(await page.locator('#details').textContent(), /Controls/);
  await context.close();
});

t.test('grouping collapses and expands; keyboard moves; dark theme', async (t) => {
  const { page, context } = await openPage(h, TOKENS.admin, 'view=containers&group=host', { width: 1280, height: 800 }, 'dark');
  await waitDrawn(page, shape.probes * shape.containersPerProbe);
  t.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark', 'follows the system theme');
  await page.click('#collapse-all');
  await page.waitForFunction((n) => (window as unknown as { orchestratorUi: { groups(): string[] } }).orchestratorUi.groups().length === n, shape.probes, { timeout: 5000 });
  t.equal((await ui<string[]>(page, 'nodes')).length, 0, 'collapsed: one node per host');
  t.match(page.url(), /collapsed=host-0000/);
  await page.screenshot({ path: join(SCREENSHOTS, 'ui-collapsed-dark.png') });
  // Clicking a group node expands it.
  const groupId = 'group:host-0001';
  await clickNode(page, groupId);
  await page.waitForFunction((n) => (window as unknown as { orchestratorUi: { nodes(): string[] } }).orchestratorUi.nodes().length === n, shape.containersPerProbe, { timeout: 5000 });
  t.pass('a clicked group expands');
  await page.click('#expand-all');
  await page.waitForFunction((n) => (window as unknown as { orchestratorUi: { nodes(): string[] } }).orchestratorUi.nodes().length === n, shape.probes * shape.containersPerProbe, { timeout: 5000 });
  // Grouping by image.
  await page.selectOption('#group', 'image');
  await page.waitForFunction(() => document.querySelectorAll('.caption').length === 6, undefined, { timeout: 5000 });
  t.ok((await page.locator('.caption').allTextContents()).includes('docker.io/library/redis:7.2'), 'grouped by image');
  // Keyboard: an arrow selects a node, Escape closes the details.
  await page.locator('#graph').focus();
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector('#details h2', { timeout: 5000 });
  const first = await page.locator('#details h2').textContent();
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction((f) => document.querySelector('#details h2')?.textContent !== f, first, { timeout: 5000 });
  t.pass('arrow keys move between nodes');
  await page.keyboard.press('Escape');
  t.equal(await page.locator('#details').isHidden(), true, 'Escape closes the details');
  await page.keyboard.press('d');
  t.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light', 'd switches the theme');
  await context.close();
});

/** A TCP proxy in front of the app that can drop every connection and refuse new ones (a lost network). */
async function flakyProxy(target: number): Promise<{ url: string; down(): void; up(): void; close(): Promise<void> }> {
  let isUp = true;
  const sockets = new Set<Socket>();
  const server = createServer((c) => {
    if (!isUp) {
      c.destroy();
      return;
    }
    const u = connect(target, '127.0.0.1');
    sockets.add(c).add(u);
    const end = () => {
      c.destroy();
      u.destroy();
      sockets.delete(c);
      sockets.delete(u);
    };
    c.on('error', end).on('close', end);
    u.on('error', end).on('close', end);
    c.pipe(u).pipe(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    down() {
      isUp = false;
      for (const s of sockets) s.destroy();
    },
    up() {
      isUp = true;
    },
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

t.test('errors are plain and recover: refused token, lost connection', async (t) => {
  const proxy = await flakyProxy(h.app.port);
  const context = await h.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${proxy.url}/?view=containers#token=not-a-valid-token-0000000000`);
  await page.waitForSelector('.banner.error[data-key="auth"]', { timeout: 8000 });
  t.match(await page.locator('.banner[data-key="auth"]').textContent(), /token was refused/);
  await page.screenshot({ path: join(SCREENSHOTS, 'ui-token-refused.png') });
  // Entering a good token recovers without a reload.
  await page.click('.banner[data-key="auth"] button');
  await page.fill('#token-input', TOKENS.viewer);
  await page.click('#token-dialog button[value="ok"]');
  await waitDrawn(page, shape.probes * shape.containersPerProbe);
  await page.waitForSelector('.banner[data-key="auth"]', { state: 'detached', timeout: 8000 });
  t.pass('a good token recovers the page');

  // The network to the app goes away: the page says so, keeps what it has, and recovers by itself.
  proxy.down();
  await page.waitForSelector('.banner.error[data-key="feed"]', { timeout: 8000 });
  t.match(await page.locator('.banner[data-key="feed"]').textContent(), /lost|cannot be reached/);
  t.equal((await ui<string[]>(page, 'nodes')).length, shape.probes * shape.containersPerProbe, 'the last view stays on screen');
  await page.screenshot({ path: join(SCREENSHOTS, 'ui-connection-lost.png') });
  proxy.up();
  // A change made while the page was cut off arrives with the fresh full view.
  fleet[0]!.flip(0);
  t.equal((await postReport(h.app, fleet[0]!.full(Date.now()))).status, 202);
  await page.waitForSelector('.banner[data-key="feed"]', { state: 'detached', timeout: 20_000 });
  await page.waitForFunction(() => /live/.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 5000 });
  t.pass('reconnected by itself');
  await context.close();
  await proxy.close();
});

/**
 * A TCP proxy in front of the app that lets the first `silenced` view feeds complete their
 * WebSocket handshake and then drops everything the app sends on them: an app that accepts a
 * feed and never sends the view. Everything else passes through.
 */
async function silentFeedProxy(target: number, silenced: number): Promise<{ url: string; close(): Promise<void> }> {
  let left = silenced;
  const sockets = new Set<Socket>();
  const server = createServer((c) => {
    const u = connect(target, '127.0.0.1');
    sockets.add(c).add(u);
    let mute = false;
    let headersDone = false;
    let head = '';
    const end = () => {
      c.destroy();
      u.destroy();
    };
    c.on('error', end).on('close', end);
    u.on('error', end).on('close', end);
    c.on('data', (b: Buffer) => {
      if (!mute && left > 0 && /^GET \/api\/topology\/[^ ]*\/ws/.test(b.toString('latin1')) && /upgrade: websocket/i.test(b.toString('latin1'))) {
        mute = true;
        left--;
      }
      u.write(b);
    });
    u.on('data', (b: Buffer) => {
      if (!mute) return void c.write(b);
      if (headersDone) return; // the feed's messages: dropped
      // Pass the handshake's response headers, nothing after them.
      const sent = head.length;
      head += b.toString('latin1');
      const i = head.indexOf('\r\n\r\n');
      if (i === -1) return void c.write(b);
      headersDone = true;
      c.write(Buffer.from(head.slice(sent, i + 4), 'latin1'));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const x of sockets) x.destroy();
        server.close(() => r());
      }),
  };
}

t.test('a feed that opens but brings no view is given up, said so, and reconnected', async (t) => {
  const proxy = await silentFeedProxy(h.app.port, 1);
  const context = await h.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${proxy.url}/?view=containers#token=${TOKENS.viewer}`);
  // The bar may show for less than a frame (the next feed answers at once): record every bar shown.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { bannersSeen: string[] }).bannersSeen = seen;
    new MutationObserver(() => {
      for (const b of Array.from(document.querySelectorAll('.banner'))) seen.push(b.textContent ?? '');
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  // FULL_VIEW_WAIT_MS (15 s) after the silent feed opened, the page gives it up and reconnects.
  const total = shape.probes * shape.containersPerProbe;
  t.equal(await waitDrawn(page, total, 25_000), total, 'the next feed brings the view');
  const stalled = await page.evaluate(() => performance.getEntriesByName('topology-feed-stalled').map((m) => (m as PerformanceMark).detail as { opened: boolean }));
  t.same(stalled, [{ opened: true }], 'the page gave up one feed, which had opened');
  const seen = await page.evaluate(() => (window as unknown as { bannersSeen: string[] }).bannersSeen);
  t.ok(seen.some((x) => /The app sent no view within 15 s; reconnecting/.test(x)), `the page said so: ${JSON.stringify([...new Set(seen)])}`);
  await page.waitForSelector('.banner[data-key="feed"]', { state: 'detached', timeout: 5000 });
  t.pass('no bar once the view is in');
  await context.close();
  await proxy.close();
});
