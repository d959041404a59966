/**
 * The topology page against real parts only: `orchestrator app` serving a
 * fresh build of the UI and `orchestrator probe` as two separate processes
 * (test/helpers/stack.ts), real Podman containers (test/helpers/podman.ts),
 * and headless Chromium driven by playwright-core (test/ui/harness.ts).
 *
 * - The containers view draws a container that was running before the page
 *   loaded.
 * - A container started on the engine after the page loaded appears in the
 *   graph without a reload (timed from `podman run` returning).
 * - Its details, Pause (confirmed in the dialog): the page shows it paused and
 *   `podman inspect` agrees; Unpause (no confirmation) brings it back to
 *   running, in the page and on the engine.
 * - The paused container's details are the screenshot docs/images/ui-paused.png (`npm run screenshots`)
 *   (docs/user-guide.md).
 *
 * Every wait is bounded; containers, processes, the browser and the build are
 * cleaned up in teardown.
 */
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { containerNodeId } from '../../runtime/report';
import { buildUi } from '../../runtime/ui/build';
import { ensureBusyboxImage, podmanCli, podmanSkipReason, removeContainer, runContainer, startPodmanEngine, uniqueContainerName } from '../helpers/podman';
import { startStack } from '../helpers/stack';
import { CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, clickNode, ui, waitDrawn } from './harness';

/** Bound on each step in the page (a node appearing, a state changing). */
const STEP_MS = 10_000;

const skip = podmanSkipReason() ?? (existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);

/** Whether the page's graph holds node `id` (read from the renderer). */
const drawnHas = (id: string) => (window as unknown as { orchestratorUi: { nodes(): string[] } }).orchestratorUi.nodes().includes(id);

/** The value of the `state` row in the details panel's metadata, or null. */
function detailsState(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    for (const tr of Array.from(document.querySelectorAll('#details section[aria-label="Metadata"] tr'))) {
      if (tr.querySelector('th')?.textContent === 'state') return tr.querySelector('td')?.textContent ?? null;
    }
    return null;
  });
}

async function waitDetailsState(page: Page, state: string, ms = STEP_MS): Promise<void> {
  await page.waitForFunction(
    (s) => {
      for (const tr of Array.from(document.querySelectorAll('#details section[aria-label="Metadata"] tr'))) {
        if (tr.querySelector('th')?.textContent === 'state') return tr.querySelector('td')?.textContent === s;
      }
      return false;
    },
    state,
    { timeout: ms, polling: 50 },
  );
}

/**
 * The node's state as the page's store has it from the WebSocket feed (the
 * table's State column), independent of the details panel's REST fetch.
 * Switches to the table and back.
 */
async function waitTableState(page: Page, id: string, state: string, ms = STEP_MS): Promise<void> {
  await page.click('#mode');
  await page.waitForFunction(
    ([i, s]) => Array.from(document.querySelectorAll<HTMLElement>('.trow[data-id]')).some((r) => r.dataset.id === i && r.querySelector(`.state.state-${s}`) !== null),
    [id, state] as const,
    { timeout: ms, polling: 50 },
  );
  await page.click('#mode');
}

t.test('real app + real probe + Podman in Chromium: containers drawn live, pause and unpause from the details panel', { skip: skip ?? false, timeout: 90_000 }, async (t) => {
  const began = performance.now();
  const uiDir = mkdtempSync(join(tmpdir(), 'orchestrator-ui-podman-'));
  t.teardown(() => rmSync(uiDir, { recursive: true, force: true }));

  // Engine, image and UI bundle in parallel; then app + probe, the first container and Chromium.
  const [, engine] = await Promise.all([ensureBusyboxImage(), startPodmanEngine(), buildUi(uiDir)]);
  t.teardown(() => engine.stop());
  const first = uniqueContainerName('ui-first');
  t.teardown(() => removeContainer(first));
  const second = uniqueContainerName('ui-live');
  t.teardown(() => removeContainer(second));
  const [stackR, firstR, browserR] = await Promise.allSettled([
    startStack({ engineSocket: engine.socketPath, env: { ORCHESTRATOR_UI_DIR: uiDir } }),
    runContainer(first, ['sleep', '300']),
    chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 }),
  ]);
  // Whatever started is stopped, even when another part failed.
  if (stackR.status === 'fulfilled') {
    const stack = stackR.value;
    t.teardown(() => stack.stop());
    t.teardown(() => {
      if (!t.passing()) process.stderr.write(stack.output());
    });
  }
  if (browserR.status === 'fulfilled') t.teardown(() => browserR.value.close().catch(() => undefined));
  for (const r of [stackR, firstR, browserR]) if (r.status === 'rejected') throw r.reason;
  const stack = (stackR as PromiseFulfilledResult<Awaited<ReturnType<typeof startStack>>>).value;
  const firstId = (firstR as PromiseFulfilledResult<string>).value;
  const browser = (browserR as PromiseFulfilledResult<Browser>).value;
  t.comment(`engine, image, UI bundle, app, probe and Chromium up in ${Math.round(performance.now() - began)} ms`);
  const firstNode = containerNodeId(firstId);

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  let loads = 0;
  page.on('load', () => loads++);

  // 1. The containers view shows the container that was already running.
  const opened = performance.now();
  await page.goto(`${stack.base}/?view=containers#token=${encodeURIComponent(stack.tokens.admin)}`);
  await waitDrawn(page, 1, STEP_MS);
  await page.waitForFunction(drawnHas, firstNode, { timeout: STEP_MS });
  t.comment(`page drawn with the first container ${Math.round(performance.now() - opened)} ms after navigation`);
  t.equal(await ui<string | null>(page, 'label', firstNode), first, 'the containers view draws the running container, by name');
  await page.evaluate(() => ((window as unknown as { loadedOnce: boolean }).loadedOnce = true));

  // 2. A container started on the engine after the page loaded appears without reload.
  const invoked = performance.now();
  const secondId = await runContainer(second, ['sleep', '300']);
  const confirmed = performance.now();
  const secondNode = containerNodeId(secondId);
  await page.waitForFunction(drawnHas, secondNode, { timeout: STEP_MS, polling: 20 });
  const seen = performance.now();
  t.comment(`new container drawn ${Math.round(seen - confirmed)} ms after podman run returned (${Math.round(seen - invoked)} ms after it was invoked)`);
  t.equal(await ui<string | null>(page, 'label', secondNode), second, 'the new container is drawn, by name');
  t.equal(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce === true), true, 'the same document: no reload');
  t.equal(loads, 1, 'one page load in all');
  t.ok(await ui<string[]>(page, 'nodes').then((n) => n.includes(firstNode)), 'the first container is still drawn');

  // 3. Its details, by a real click on the canvas where the renderer draws it.
  await page.waitForFunction((id) => (window as unknown as { orchestratorUi: { position(id: string): unknown } }).orchestratorUi.position(id) !== null, secondNode, { timeout: STEP_MS });
  await clickNode(page, secondNode);
  await page.waitForFunction((name) => document.querySelector('#details h2')?.textContent === name, second, { timeout: STEP_MS });
  await waitDetailsState(page, 'running');
  t.pass('clicking the node opens its details: state running');
  const inspectState = async (): Promise<string> => (await podmanCli(['inspect', '--format', '{{.State.Status}}', second])).trim();

  // 4. Pause asks first; confirmed, the page and the engine say paused.
  await page.click('#details button[data-control="pause"]');
  await page.waitForSelector('#confirm[open]', { timeout: STEP_MS });
  t.match(await page.locator('#confirm').textContent(), new RegExp(`Pause ${second}\\?`), 'the confirmation names the control and the container');
  t.equal(await inspectState(), 'running', 'nothing ran before confirming');
  const pauseClicked = performance.now();
  await page.click('#confirm-yes');
  await waitDetailsState(page, 'paused');
  const pausedInPage = performance.now();
  t.comment(`pause: page says paused ${Math.round(pausedInPage - pauseClicked)} ms after confirming`);
  t.equal(await detailsState(page), 'paused', 'the details panel says paused');
  t.equal(await inspectState(), 'paused', 'podman inspect agrees: paused');
  await page.waitForSelector('#details button[data-control="unpause"]', { timeout: STEP_MS });
  t.same((await page.locator('#details button.control').allTextContents()).sort(), ['Logs', 'Remove', 'Stop', 'Unpause'], 'a paused container offers Unpause');
  t.equal(await page.locator('#details .cstatus .banner.error').count(), 0, 'no error shown');
  await page.screenshot({ path: join(SCREENSHOTS, 'ui-paused.png') });
  await waitTableState(page, secondNode, 'paused');
  t.pass('the view fed over the WebSocket has it paused too (table State column)');

  // 5. Unpause is not destructive: no confirmation; the page and the engine say running.
  const unpauseClicked = performance.now();
  await page.click('#details button[data-control="unpause"]');
  t.equal(await page.locator('#confirm[open]').count(), 0, 'unpause does not ask');
  await waitDetailsState(page, 'running');
  t.comment(`unpause: page says running ${Math.round(performance.now() - unpauseClicked)} ms after the click`);
  t.equal(await inspectState(), 'running', 'podman inspect agrees: running');
  await page.waitForSelector('#details button[data-control="pause"]', { timeout: STEP_MS });
  t.pass('Pause is offered again');
  await waitTableState(page, secondNode, 'running');
  t.pass('and the fed view has it running (table State column)');

  t.same(errors, [], 'no console errors');
  await context.close();
  t.comment(`whole test ${Math.round(performance.now() - began)} ms before teardown`);
});
