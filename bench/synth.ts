/**
 * Synth time: the whole platform for dev, staging and prod into a temp folder, against a
 * baseline measured in the same run (cdk8s writing one empty chart per environment: the
 * framework's floor). Prints one JSON line per measurement, then a summary line.
 *
 *   npx tsx bench/synth.ts [--runs 20]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Chart, YamlOutputType } from 'cdk8s';
import { ENVIRONMENTS, ENVIRONMENT_NAMES } from '../constructs/environments';
import { Platform } from '../constructs/platform';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function measure(name: string, runs: number, once: (out: string) => void): { p50: number; p95: number } {
  const times: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const out = mkdtempSync(join(tmpdir(), 'bench-synth-'));
    const start = process.hrtime.bigint();
    once(out);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    rmSync(out, { recursive: true, force: true });
    if (i >= 2) times.push(ms); // the first two warm up the module cache and the JIT
  }
  times.sort((a, b) => a - b);
  const r = { p50: percentile(times, 50), p95: percentile(times, 95) };
  process.stdout.write(JSON.stringify({ bench: 'synth', case: name, runs, p50_ms: +r.p50.toFixed(1), p95_ms: +r.p95.toFixed(1) }) + '\n');
  return r;
}

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg === -1 ? 20 : Number(process.argv[runsArg + 1]);

const floor = measure('baseline: empty chart per environment', runs, (out) => {
  for (const env of ENVIRONMENT_NAMES) {
    const app = new App({ outdir: join(out, env), yamlOutputType: YamlOutputType.FILE_PER_CHART });
    new Chart(app, 'empty');
    app.synth();
  }
});
let objects = 0;
const full = measure('platform: dev + staging + prod', runs, (out) => {
  objects = 0;
  for (const env of ENVIRONMENT_NAMES) {
    const app = new App({ outdir: join(out, env), yamlOutputType: YamlOutputType.FILE_PER_CHART });
    new Platform(app, ENVIRONMENTS[env]);
    app.synth();
    objects += app.charts.reduce((n, c) => n + c.toJson().length, 0);
  }
});
// What a person waits for: `npm run synth` as a process (Node start, TypeScript transpile, synth, write).
const cli = measure('end to end: tsx main.ts --out DIR', Math.max(3, Math.floor(runs / 4)), (out) => {
  execFileSync(process.execPath, [join(__dirname, '../node_modules/tsx/dist/cli.mjs'), join(__dirname, '../main.ts'), '--out', out]);
});
process.stdout.write(`summary: end to end ${cli.p50.toFixed(0)} ms p50; in-process synth of ${objects} objects in 3 environments p50 ${full.p50.toFixed(1)} ms, p95 ${full.p95.toFixed(1)} ms (baseline ${floor.p50.toFixed(1)} ms, ${(full.p50 / floor.p50).toFixed(1)}x)\n`);
