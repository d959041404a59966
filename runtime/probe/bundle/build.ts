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
 *   same copy, and it adds the probe's Command to it;
 * - `node:http2` is left out (ABSENT_MODULES): loading it cost the probe
 *   0.5-0.6 MB of resident memory (2.3 MB in a bare `node`), and only
 *   undici's HTTP/2 client needs it, which runs only when a dispatcher sets
 *   `allowH2` (the probe's never do); so are `ws`'s optional native addons
 *   (`bufferutil`, `utf-8-validate`): the control channel's few small
 *   messages do not need them, and a native addon loaded is resident memory.
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

/**
 * Modules the bundle leaves out, with the one importer allowed to ask for
 * them and why that importer can do without. The importer gets a module that
 * throws ERR_PROBE_BUNDLE_ABSENT when loaded; each importer loads it in a
 * try/catch with a fallback of its own: undici's client-h2.js (its path for
 * runtimes without HTTP/2; h2 is used only with `allowH2: true`), and `ws`
 * (its JavaScript masking and UTF-8 validation). Any other importer of these
 * fails the build.
 */
export const ABSENT_MODULES: Readonly<Record<string, { importer: string; why: string }>> = {
  'node:http2': {
    importer: 'node_modules/undici/lib/dispatcher/client-h2.js',
    why: "undici's HTTP/2 client, used only with allowH2, which no dispatcher of the probe sets",
  },
  bufferutil: {
    importer: 'node_modules/ws/lib/buffer-util.js',
    why: "ws's native frame masking; its JavaScript version is used",
  },
  'utf-8-validate': {
    importer: 'node_modules/ws/lib/validation.js',
    why: "ws's native UTF-8 check; its JavaScript version (or Node's buffer.isUtf8) is used",
  },
};

const escapeRegExp = (text: string): string => text.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');
const ABSENT_FILTER = new RegExp(`^(?:${Object.keys(ABSENT_MODULES).map(escapeRegExp).join('|')})$`);

const absent: Plugin = {
  name: 'probe-absent-builtins',
  setup(b) {
    b.onResolve({ filter: ABSENT_FILTER }, (args) => {
      const entry = ABSENT_MODULES[args.path];
      if (!entry) return undefined;
      if (!args.importer.replace(/\\/g, '/').endsWith(entry.importer)) {
        return { errors: [{ text: `${args.path} is left out of the probe bundle (ABSENT_MODULES) but ${args.importer} imports it; allow that importer there or keep the module` }] };
      }
      return { path: args.path, namespace: 'probe-absent' };
    });
    b.onLoad({ filter: /.*/, namespace: 'probe-absent' }, (args) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`${args.path} is not in the probe bundle: ${ABSENT_MODULES[args.path]!.why}`)}), { code: 'ERR_PROBE_BUNDLE_ABSENT' });`,
      loader: 'js',
    }));
  },
};

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
    plugins: [parts, absent],
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
