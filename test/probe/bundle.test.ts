/**
 * The probe's bundle (runtime/probe/bundle/build.ts), which `npm run build`
 * writes over build/runtime/probe/command.js and the image runs: built here
 * into a scratch directory and run as a separate process.
 *
 * - It loads nothing from node_modules but commander (shared with
 *   runtime/cli.ts): undici and prom-client come in through the parts files,
 *   not their indexes; and not `node:http2` (left out, see ABSENT_MODULES).
 * - Through its undici parts it talks to an engine socket (a missing one gives
 *   the report error ENGINE_UNREACHABLE, mapped from undici's error classes).
 * - Through its prom-client parts it serves /metrics with the probe's own
 *   series and the default process metrics.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { buildProbeBundle } from '../../runtime/probe/bundle/build';
import { validateReport, type FullReport } from '../../runtime/report';

const ROOT = join(__dirname, '..', '..');

t.test('the probe bundle', async (t) => {
  // Inside the repository, so that `commander` (external) resolves from node_modules.
  mkdirSync(join(ROOT, 'build'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, 'build', 'probe-bundle-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = await buildProbeBundle(join(dir, 'command.js'));
  t.ok(bundle.bytes > 0 && bundle.inputs > 0, `built: ${bundle.bytes} bytes from ${bundle.inputs} modules`);

  const run = (code: string, args: string[] = []): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, ['-e', code, bundle.file, ...args], { encoding: 'utf8', timeout: 60_000 });

  t.test('loads only commander from node_modules', async (t) => {
    // Only what the bundle loads: tap preloads its own hooks into child processes.
    const r = run(`const before = new Set(Object.keys(require.cache)); require(process.argv[1]); process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((f) => !before.has(f))))`);
    t.equal(r.status, 0, String(r.stderr));
    const fromPackages = (JSON.parse(String(r.stdout)) as string[]).filter((f) => f.includes('node_modules'));
    t.same(
      fromPackages.filter((f) => !f.includes('/node_modules/commander/')),
      [],
      `modules from node_modules: ${fromPackages.length}, all commander's`,
    );
  });

  t.test('leaves out node:http2 (ABSENT_MODULES) and still loads undici', async (t) => {
    const r = run(
      `require(process.argv[1]); process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => /^NativeModule (http2|net|zlib)$/.test(m))))`,
    );
    t.equal(r.status, 0, String(r.stderr));
    t.same(JSON.parse(String(r.stdout)).sort(), ['NativeModule net', 'NativeModule zlib'], 'net and zlib loaded, http2 not');
  });

  t.test('--once through the bundle: a valid report; undici parts reach (and miss) the engine socket', async (t) => {
    const socket = join(dir, 'no-engine.sock');
    const r = run(`require(process.argv[1]).probeCommand().parseAsync(process.argv.slice(2), { from: 'user' })`, ['--once', '--engine-socket', socket]);
    t.equal(r.status, 0, String(r.stderr));
    const report = JSON.parse(String(r.stdout)) as FullReport;
    const v = validateReport(report);
    t.ok(v.ok, v.ok ? 'valid' : v.error.message);
    t.ok(Object.values(report.topologies.process.nodes).some((n) => n.latest.pid?.v !== undefined), 'processes from the /proc walk');
    const engine = report.errors.find((e) => e.collector === 'containers');
    t.equal(engine?.code, 'ENGINE_UNREACHABLE', engine?.message ?? 'no containers error');
  });

  t.test('/metrics through the prom-client parts', async (t) => {
    const proc = spawn(
      process.execPath,
      ['-e', `require(process.argv[1]).probeCommand().parseAsync(process.argv.slice(2), { from: 'user' })`, bundle.file, '--no-engine', '--interval', '1s', '--metrics-listen', '127.0.0.1:0'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    t.teardown(() => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    });
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const deadline = Date.now() + 30_000;
    let port = 0;
    while (port === 0 && Date.now() < deadline && proc.exitCode === null) {
      const m = /\(port (\d+)\)/.exec(stderr);
      if (m) port = Number(m[1]);
      else await new Promise((r) => setTimeout(r, 50));
    }
    t.ok(port > 0, `metrics port from the startup log ${port === 0 ? stderr.slice(-500) : ''}`);
    // The first pass starts with the loop: wait until /metrics has counted one.
    let text = '';
    while (Date.now() < deadline && !/monitoring_probe_pass_duration_seconds_count\{kind="full"\} [1-9]/.test(text)) {
      text = await new Promise<string>((resolve, reject) =>
        request({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve(body));
        })
          .on('error', reject)
          .end(),
      );
      if (!text.includes('kind="full"} 1')) await new Promise((r) => setTimeout(r, 200));
    }
    t.match(text, /monitoring_probe_pass_duration_seconds_count\{kind="full"\} [1-9]/, 'a full pass counted');
    t.match(text, /^process_cpu_seconds_total \d/m, 'default process metrics');
    t.match(text, /^process_resident_memory_bytes \d/m);
    // Only the default metric sets the probe loads (runtime/probe/metrics.ts): no event-loop histogram, no GC observer.
    t.notMatch(text, /^nodejs_eventloop_lag|^nodejs_gc_duration/m, 'no event-loop delay or GC metrics');
    t.match(stderr, /"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/, 'log lines carry ISO time');
    proc.kill('SIGTERM');
    const [code] = (await once(proc, 'exit')) as [number | null];
    t.equal(code, 0, 'clean exit on SIGTERM');
  });
});
