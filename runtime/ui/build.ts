/**
 * Bundles the UI into the app's static assets:
 *
 *     tsx runtime/ui/build.ts [OUT_DIR]        (default build/ui; `npm run build` runs it)
 *
 * Writes OUT_DIR/index.html and OUT_DIR/assets/<name>-<hash>.{js,css,svg}: app.js
 * (the page), layout.js (the layout worker, runtime/ui/layout-worker.ts, whose
 * URL is written into app.js), app.css and the icon. Asset
 * names carry a hash of their content, so the app serves them as immutable;
 * index.html is the one file a browser revalidates. No inline script or style
 * anywhere, so the page runs under a Content-Security-Policy without
 * 'unsafe-inline'.
 */
import { build, type BuildOptions } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
export const DEFAULT_UI_DIR = join(ROOT, 'build', 'ui');

const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="9" cy="9" r="5" fill="#2563eb"/><circle cx="23" cy="11" r="4" fill="#4f46e5"/><circle cx="15" cy="24" r="5" fill="#0e7490"/><path d="M9 9L23 11L15 24Z" fill="none" stroke="#94a3b8" stroke-width="1.5"/></svg>`;

export interface UiBuild {
  dir: string;
  files: string[];
  ms: number;
  /** The source files bundled into the page's script (the layout is not among them: it runs in the worker). */
  pageInputs: string[];
}

/** The layout's code belongs in the worker only; the build fails if the page's bundle pulls it in. */
const WORKER_ONLY = ['runtime/ui/layout.ts', 'runtime/ui/layout-worker.ts'];

function hashed(name: string, ext: string, body: Buffer | string): string {
  return `${name}-${createHash('sha256').update(body).digest('hex').slice(0, 12)}.${ext}`;
}

export async function buildUi(outDir = DEFAULT_UI_DIR, opts: { minify?: boolean } = {}): Promise<UiBuild> {
  const t0 = performance.now();
  const minify = opts.minify ?? true;
  const common = {
    bundle: true as const,
    write: false as const,
    format: 'iife' as const,
    platform: 'browser' as const,
    target: ['chrome110', 'firefox110', 'safari16'],
    minify,
    sourcemap: false,
    legalComments: 'none' as const,
    logLevel: 'silent' as const,
    absWorkingDir: ROOT,
  } satisfies BuildOptions;
  const worker = await build({ ...common, entryPoints: [join(__dirname, 'layout-worker.ts')] });
  const workerText = worker.outputFiles![0]!.contents;
  const workerName = hashed('layout', 'js', Buffer.from(workerText));
  const js = await build({
    ...common,
    entryPoints: [join(__dirname, 'main.ts')],
    metafile: true as const,
    define: { 'process.env.NODE_ENV': '"production"', LAYOUT_WORKER_URL: JSON.stringify(`/assets/${workerName}`) },
  });
  const pageInputs = Object.keys(js.metafile!.inputs).sort();
  const leaked = pageInputs.filter((f) => WORKER_ONLY.includes(f));
  if (leaked.length > 0) throw new Error(`UI_BUILD_LAYOUT_ON_PAGE: the page's bundle includes ${leaked.join(', ')}; the layout must run in the worker only`);
  const css = await build({ entryPoints: [join(__dirname, 'styles.css')], bundle: true, write: false, minify, logLevel: 'silent' });
  const jsText = js.outputFiles![0]!.contents;
  const cssText = css.outputFiles[0]!.contents;
  const assets = new Map<string, Buffer | Uint8Array | string>([
    [hashed('app', 'js', Buffer.from(jsText)), jsText],
    [hashed('app', 'css', Buffer.from(cssText)), cssText],
    [hashed('favicon', 'svg', FAVICON), FAVICON],
    [workerName, workerText],
  ]);
  const names = [...assets.keys()];
  const [jsName, cssName, iconName] = names as [string, string, string, string];
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    '<title>Topology · orchestrator</title>',
    `<link rel="icon" href="/assets/${iconName}" type="image/svg+xml">`,
    `<link rel="stylesheet" href="/assets/${cssName}">`,
    `<script defer src="/assets/${jsName}"></script>`,
    '</head>',
    '<body><noscript>This page needs JavaScript.</noscript></body>',
    '</html>',
    '',
  ].join('\n');
  const assetDir = join(outDir, 'assets');
  mkdirSync(assetDir, { recursive: true });
  // Only this script writes here: drop assets of earlier builds, then write this one.
  for (const f of readdirSync(assetDir)) if (!assets.has(f) && /^(app|favicon|layout)-[0-9a-f]{12}\.(js|css|svg)$/.test(f)) rmSync(join(assetDir, f));
  for (const [name, body] of assets) writeFileSync(join(assetDir, name), body);
  writeFileSync(join(outDir, 'index.html'), html);
  return { dir: outDir, files: ['index.html', ...names.map((n) => `assets/${n}`)], ms: performance.now() - t0, pageInputs };
}

if (require.main === module) {
  buildUi(process.argv[2] ? resolve(process.argv[2]) : DEFAULT_UI_DIR)
    .then((r) => {
      console.log(`ui: ${r.files.join(', ')} → ${r.dir} (${Math.round(r.ms)} ms)`);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
