/**
 * The UI tests' and bench's harness: the real app (in-process) serving a fresh
 * build of the UI, fed by reports through POST /api/report, and a headless
 * Chromium driven by playwright-core (Debian's chromium; no browser download;
 * playwright gives each launch a fresh temporary profile).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildUi } from '../../runtime/ui/build';
import type { MonitoringApp } from '../../runtime/app/server';
import { startApp, TOKENS } from '../app/helpers';

export { TOKENS };

/**
 * Where the tests' screenshots go: docs/images/ (the user guide's pictures) when
 * ORCHESTRATOR_SCREENSHOTS=docs (`npm run screenshots`), otherwise a temporary folder, so that
 * an ordinary test run does not rewrite tracked files.
 */
export const SCREENSHOTS: string = process.env.ORCHESTRATOR_SCREENSHOTS === 'docs'
  ? join(__dirname, '../../docs/images')
  : mkdtempSync(join(tmpdir(), 'ui-shots-'));
if (process.env.ORCHESTRATOR_SCREENSHOTS !== 'docs') process.on('exit', () => rmSync(SCREENSHOTS, { recursive: true, force: true }));

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-swiftshader',
];

export interface Harness {
  app: MonitoringApp;
  browser: Browser;
  uiDir: string;
  close(): Promise<void>;
}

/** Builds the UI into a temporary directory, starts the app serving it, and launches Chromium. */
export async function startHarness(appOpts: Parameters<typeof startApp>[0] = {}): Promise<Harness> {
  const uiDir = mkdtempSync(join(tmpdir(), 'orchestrator-ui-'));
  await buildUi(uiDir);
  process.env.ORCHESTRATOR_UI_DIR = uiDir;
  const app = await startApp(appOpts);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
  const harness: Harness = {
    app,
    browser,
    uiDir,
    async close() {
      await browser.close().catch(() => undefined);
      await harness.app.stop(500).catch(() => undefined);
      delete process.env.ORCHESTRATOR_UI_DIR;
      rmSync(uiDir, { recursive: true, force: true });
    },
  };
  return harness;
}

export interface OpenPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors seen so far (CSP violations show up here). */
  errors: string[];
}

/** Opens the page with `token` in the URL fragment, as the app prints it. */
export async function openPage(h: Harness, token: string, query = '', viewport = { width: 1280, height: 800 }, colorScheme: 'light' | 'dark' = 'light'): Promise<OpenPage> {
  const context = await h.browser.newContext({ viewport, colorScheme });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${h.app.url}/${query ? `?${query}` : ''}#token=${encodeURIComponent(token)}`);
  return { context, page, errors };
}

/** Waits until the page has drawn a full view with at least `min` nodes on screen. */
export async function waitDrawn(page: Page, min = 1, ms = 10_000): Promise<number> {
  await page.waitForFunction((n) => Number(document.documentElement.dataset.drawn ?? '-1') >= n, min, { timeout: ms });
  return Number(await page.evaluate(() => document.documentElement.dataset.drawn));
}

type UiHook = {
  nodes(): string[];
  groups(): string[];
  displayed(): number;
  position(id: string): { x: number; y: number } | null;
  highlighted(): string[] | null;
  label(id: string): string | null;
  idByLabel(label: string): string | null;
};

/** Labels of the nodes drawn in the graph (read from the page's renderer). */
export function drawnLabels(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const ui = (window as unknown as { orchestratorUi: UiHook }).orchestratorUi;
    return ui.nodes().map((id) => ui.label(id) ?? id).sort();
  });
}

export function ui<T>(page: Page, fn: string, arg?: string): Promise<T> {
  return page.evaluate(
    ([f, a]) => {
      const hook = (window as unknown as { orchestratorUi: Record<string, (x?: string) => unknown> }).orchestratorUi;
      return hook[f!]!(a) as T;
    },
    [fn, arg] as const,
  );
}

/** Waits for two of the page's animation frames: what a change of the page's layout sets off (a resize observed, a render) has run. */
export function nextFrames(page: Page): Promise<void> {
  return page.evaluate(() => new Promise<void>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done()))));
}

/** Clicks a node where the renderer draws it (a real mouse click on the WebGL canvas). */
export async function clickNode(page: Page, id: string): Promise<void> {
  // Where the node is once it stays there: right after the graph is shown again (the table mode
  // toggled back) the camera may still be moving, and a click at a position read then landed on
  // another node in one CI run.
  let p = await ui<{ x: number; y: number } | null>(page, 'position', id);
  for (let tries = 0; tries < 60; tries++) {
    await page.waitForTimeout(50);
    const q = await ui<{ x: number; y: number } | null>(page, 'position', id);
    const still = p !== null && q !== null && Math.abs(p.x - q.x) < 0.5 && Math.abs(p.y - q.y) < 0.5;
    p = q;
    if (still) break;
  }
  if (!p) throw new Error(`node ${id} is not drawn`);
  await page.mouse.click(p.x, p.y);
}
