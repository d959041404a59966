/**
 * Bundles `orchestrator probe` into one file for its resident memory:
 *
 *     tsx runtime/probe/bundle/build.ts [OUT_FILE]   (default build/runtime/probe/command.js; `npm run build` runs it)
 *
 * The output replaces what tsc emitted for runtime/probe/command.ts, so
 * runtime/cli.ts (which requires `./probe/command` only for `orchestrator
 * probe`) and the image's entry point load the bundle with no change. Why a
 * bundle (measured, docs/probe.md "Memory"):
 *
 * - `undici` and `prom-client` resolve to undici-parts.ts and
 *   prom-client-parts.ts here, which load only the modules the probe uses
 *   instead of the packages' indexes (undici's loads 110 modules: fetch,
 *   mocks, cache stores, every dispatcher);
 * - minified, one script: V8 keeps every script's source text for lazy
 *   compilation, and the compiled sources with their comments were 4.5 MB of
 *   heap;
 * - `commander` stays external: runtime/cli.ts builds its program with the
 *   same copy, and it adds the probe's Command to it.
 *
 * The build fails if a package index that the parts files exist to avoid
 * ends up in the bundle anyway.
 */
import { build, type Plugin } from 'esbuild';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
export const DEFAULT_PROBE_BUNDLE = join(ROOT, 'build', 'runtime', 'probe', 'command.js');

/** Package name → the file that loads only the parts of it the probe uses. */
const PARTS: Readonly<Record<string, string>> = {
  undici: join(__dirname, 'undici-parts.ts'),
  'prom-client': join(__dirname, 'prom-client-parts.ts'),
};

/** Inputs that must not be in the bundle: the indexes PARTS stands in for. */
const FORBIDDEN = ['node_modules/undici/index.js', 'node_modules/prom-client/index.js'];

const parts: Plugin = {
  name: 'probe-parts',
  setup(b) {
    b.onResolve({ filter: /^(undici|prom-client)$/ }, (args) => ({ path: PARTS[args.path]! }));
  },
};

export interface ProbeBundle {
  file: string;
  bytes: number;
  inputs: number;
  ms: number;
}

export async function buildProbeBundle(outFile = DEFAULT_PROBE_BUNDLE): Promise<ProbeBundle> {
  const t0 = performance.now();
  const result = await build({
    entryPoints: [join(ROOT, 'runtime', 'probe', 'command.ts')],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    // Names stay: error classes and codes are matched by name (`err.name`) in places, and stack traces stay readable.
    keepNames: true,
    sourcemap: true,
    legalComments: 'none',
    external: ['commander'],
    plugins: [parts],
    metafile: true,
    logLevel: 'warning',
  });
  const out = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined)!;
  const inputs = Object.keys(out.inputs);
  const bad = FORBIDDEN.filter((f) => inputs.includes(f));
  if (bad.length > 0) throw new Error(`probe bundle: ${bad.join(', ')} got into the bundle (an import of the whole package slipped past the parts files)`);
  return { file: outFile, bytes: out.bytes, inputs: inputs.length, ms: Math.round(performance.now() - t0) };
}

if (require.main === module) {
  buildProbeBundle(process.argv[2] ? resolve(process.argv[2]) : undefined).then(
    (b) => process.stdout.write(`probe bundle: ${b.file} (${Math.round(b.bytes / 1024)} KB from ${b.inputs} modules, ${b.ms} ms)\n`),
    (err: unknown) => {
      process.stderr.write(`probe bundle failed: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
