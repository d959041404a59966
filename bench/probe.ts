/**
 * The probe as it runs in production, on a loaded host, for minutes:
 *
 *   - load: 1,000 extra sleeping processes, 2,000 loopback TCP connections
 *     (4,000 sockets), 20 running Podman containers (busybox, idle), all
 *     started here and removed at the end;
 *   - the probe: compiled JS (`npm run build`, which bundles the probe into
 *     build/runtime/probe/command.js; then `node build/runtime/cli.js probe`)
 *     at its default 15 s interval, publishing to a small HTTP sink in this
 *     process (202 for every report; it also accepts and holds the probe's
 *     control channel, as the app does), with the container engine and
 *     `--metrics-listen` on, for `--seconds` (default 150, at least 120: the
 *     issue asks for two minutes at the default interval) per variant;
 *   - variants: `default` (plain `node`) unless `--variants` says otherwise.
 *
 * Measured from outside the probe: CPU as % of one core from utime+stime of
 * /proc/<pid>/stat over the steady part of the run (after the first 10 s) and
 * over the whole run; peak RSS as VmHWM from /proc/<pid>/status. From the
 * probe's own pass log (`LOG_LEVEL=debug`: one line per pass): every full
 * collection's wall time, from the pass's start until its report is assembled
 * (all collectors included, waits for the engine included), and the probe's
 * CPU time over the same span; p50/p95/mean/max over the full passes after the
 * first (the first reads every process's static facts once), the first
 * reported apart. Per collector: means from its /metrics. The machine's load
 * average at the start and end of each variant. JSON lines, then one summary
 * line.
 *
 *     npx tsx bench/probe.ts [--seconds 150] [--procs 1000] [--conns 2000] [--containers 20] [--baseline DIR [--baseline-variant deployed]] [--variants default,recommended] [--samples DIR] [--memlog] [--full-every N]
 *
 * `--full-every N`: this build's probes run with `--full-every N` (a full report every N passes,
 * deltas between; default the probe's own, DEFAULT_FULL_EVERY). The baseline gets no such flag:
 * builds before it sent a full report every pass. Passes of the interval that sent a delta are
 * reported apart from the full ones (`intervalDeltaPass`), and the bytes sent per minute.
 *
 * Variants (`--variants`, comma-separated; an entry may add node flags after
 * its name, e.g. `--variants 'deployed,deployed --heap-growing-percent=50'`): `default` (plain `node`, an
 * environment without NODE_OPTIONS: what a probe started by hand gets),
 * `deployed` (the environment the DaemonSet gives the probe,
 * PROBE_PROCESS_ENV in runtime/probe/memory.ts: NODE_OPTIONS, glibc malloc and
 * libuv settings), and for comparison bounded-heap, semi-1, arena-2
 * (MALLOC_ARENA_MAX=2). The probe sets its own V8 flags (PROBE_V8_FLAGS,
 * `--no-opt` among them) in every variant.
 *
 * Memory, from outside the probe (nothing loaded into it): /proc/<pid>/status
 * every 100 ms; the result gives the peak RSS (VmHWM), when the highest sample
 * was taken (seconds after start, and after which pass) and its anonymous and
 * file-backed parts (`--samples DIR` writes every sample). `--memlog` also preloads a sampler into the probe (every
 * 2 s: heap, external, V8 spaces) and reports its samples at start, at peak
 * and at the end; it adds its own code and garbage to what it measures.
 *
 * `--baseline DIR`: also run the probe compiled in DIR (a copy of an earlier
 * `build/` with `node_modules` linked beside it) first, as variant `baseline`,
 * on the same load in the same run: the machine is shared and noisy, so old
 * and new are best compared within one run. `--baseline-variant NAME` runs
 * it with that variant's flags and env (default `default`, a plain `node`):
 * `--baseline-variant deployed` compares deployed with deployed.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WebSocketServer } from 'ws';
import { CONTROL_PATH, parseProbeMessage } from '../runtime/control/protocol';
import { BUSYBOX_IMAGE, ensureBusyboxImage, startPodmanEngine } from '../test/helpers/podman';
import { PROBE_NODE_FLAGS, PROBE_PROCESS_ENV } from '../runtime/probe/memory';
import { HostLoad } from './lib/host-load';
import { numberFlag } from './lib/args';

const execFileAsync = promisify(execFile);
const WARMUP_S_MIN = 10;
const args = process.argv.slice(2);
const SECONDS = numberFlag('seconds', 150);
if (SECONDS <= WARMUP_S_MIN) throw new Error(`--seconds must be over ${WARMUP_S_MIN}`);
const PROCS = numberFlag('procs', 1000);
const CONNS = numberFlag('conns', 2000);
const CONTAINERS = numberFlag('containers', 20);
const CLIENTS = 4;
const WARMUP_S = WARMUP_S_MIN;
const ROOT = join(__dirname, '..');
/** `--variants a,b`: which of VARIANTS to run (default: default,bounded-heap). */
const VARIANT_NAMES = (args.indexOf('--variants') >= 0 ? args[args.indexOf('--variants') + 1]! : 'default').split(',');
const MEMLOG = args.includes('--memlog');
/** `--samples DIR`: also write every 100 ms memory sample of each variant to DIR/<variant>.tsv (seconds since start, RSS, anonymous, file-backed; MB). */
/** `--sample-ms N`: how often the memory is sampled from outside (default 100 ms). */
const SAMPLE_MS = numberFlag('sample-ms', 100);
const SAMPLES_DIR = args.indexOf('--samples') >= 0 ? args[args.indexOf('--samples') + 1]! : '';
const FULL_EVERY = args.indexOf('--full-every') >= 0 ? numberFlag('full-every', 1) : null;
const VARIANTS: Record<string, { flags: string[]; env?: Record<string, string> }> = {
  default: { flags: [] },
  deployed: { flags: [...PROBE_NODE_FLAGS], env: { ...PROBE_PROCESS_ENV } },
  'bounded-heap': { flags: ['--max-semi-space-size=1', '--max-old-space-size=48'] },
  'semi-1': { flags: ['--max-semi-space-size=1'] },
  'arena-2': { flags: [], env: { MALLOC_ARENA_MAX: '2' } },
};
const BASELINE_VARIANT_NAME = args.indexOf('--baseline-variant') >= 0 ? args[args.indexOf('--baseline-variant') + 1]! : 'default';
const BASELINE_VARIANT = VARIANTS[BASELINE_VARIANT_NAME];
if (!BASELINE_VARIANT) throw new Error(`unknown --baseline-variant ${BASELINE_VARIANT_NAME} (${Object.keys(VARIANTS).join(', ')})`);
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

const load = new HostLoad();
const containerNames: string[] = [];
const work = mkdtempSync(join(tmpdir(), 'bench-probe-'));

let stopEngine: (() => Promise<void>) | undefined;

function cleanup(): void {
  load.stop();
  if (stopEngine) {
    void stopEngine(); // kills the service by pid at once; the promise only waits for its exit
    stopEngine = undefined;
  }
  if (containerNames.length > 0) {
    try {
      execFileSync('podman', ['rm', '--force', '--ignore', '--time', '0', ...containerNames], { stdio: 'ignore', timeout: 60_000 });
    } catch {
      // best effort
    }
    containerNames.length = 0;
  }
  rmSync(work, { recursive: true, force: true });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A private Podman engine for the run (the harness the tests use), stopped by cleanup(). */
async function startEngine(): Promise<string> {
  const engine = await startPodmanEngine();
  stopEngine = engine.stop;
  return engine.socketPath;
}

async function startLoad(): Promise<Record<string, number>> {
  const figures = await load.start(PROCS, CONNS, CLIENTS);
  await ensureBusyboxImage();
  // Created in parallel batches: podman run one at a time takes a few seconds each here.
  for (let i = 0; i < CONTAINERS; i += 5) {
    await Promise.all(
      Array.from({ length: Math.min(5, CONTAINERS - i) }, (_, j) => {
        const name = `bench-probe-${process.pid}-${i + j}`;
        containerNames.push(name);
        return execFileAsync('podman', ['run', '--detach', '--name', name, '--network', 'none', BUSYBOX_IMAGE, 'sh', '-c', "trap 'exit 0' TERM; while :; do sleep 5; done"], { timeout: 120_000 });
      }),
    );
  }
  return { ...figures, containers: CONTAINERS };
}

/** utime and stime (fields 14, 15 of proc(5)), in clock ticks, and minor page faults (field 10). */
function cpuSplit(pid: number): { user: number; kernel: number; minorFaults: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]), kernel: Number(f[12]), minorFaults: Number(f[7]) };
}

function statusKb(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m ? Number(m[1]) : NaN;
}

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/metrics', timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

interface Sink {
  port: number;
  reports: { full: number; delta: number; bytes: number[] };
  /** The probe's control channel as the sink saw it: sockets accepted, hellos received. */
  control: { connections: number; hellos: number };
  close(): void;
}

/** The bench's environment for the probe, without NODE_OPTIONS: a variant says what node options it runs with. */
function probeBaseEnv(): Record<string, string | undefined> {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  return env;
}

function startSink(): Promise<Sink> {
  const reports = { full: 0, delta: 0, bytes: [] as number[] };
  const server = createServer((req, res) => {
    // Only report POSTs count: before the sink took the control channel, its failed handshakes
    // (GETs without a body) were counted as reports of 0 bytes, halving the mean size printed.
    if (req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      reports.bytes.push(body.length);
      // Counting kinds needs the JSON; inflating here costs the bench, not the probe.
      try {
        const r = JSON.parse(require('node:zlib').gunzipSync(body).toString()) as { kind: string; probeId: string; seq: number };
        if (r.kind === 'full') reports.full++;
        else reports.delta++;
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ probeId: r.probeId, seq: r.seq }));
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  // The probe keeps a control channel open to each app (runtime/probe/control-channel.ts); the
  // sink accepts it and holds it, so the probe runs with its channel open, as deployed.
  const control = { connections: 0, hellos: 0 };
  const wss = new WebSocketServer({ server, path: CONTROL_PATH });
  wss.on('connection', (ws) => {
    control.connections++;
    ws.on('message', (data) => {
      try {
        if (parseProbeMessage(String(data)).type === 'hello') control.hellos++;
      } catch {
        // Not a probe message: not a hello either.
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({
        port: typeof a === 'object' && a ? a.port : 0,
        reports,
        control,
        close: () => {
          for (const ws of wss.clients) ws.terminate();
          wss.close();
          server.close();
        },
      });
    }),
  );
}

/** The probe's debug line per pass (runtime/probe/probe.ts, `emit`). */
interface PassLine {
  pass: 'full' | 'delta';
  /** Absent from builds before deltas between full reports: their deltas were all an event's. */
  trigger?: 'interval' | 'event';
  seq: number;
  durationMs: number;
  cpuMs: number;
  collectors: Record<string, number>;
}

/** Nearest-rank percentile. */
function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function mean(xs: readonly number[]): number {
  return Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10;
}

/** The 1-minute load average: how busy the shared machine was. */
function loadAvg1(): number {
  return Number(readFileSync('/proc/loadavg', 'latin1').split(' ')[0]);
}

interface VariantResult {
  variant: string;
  env: Record<string, string>;
  /** Sampled from outside every 100 ms: the highest RSS sample, when, and its parts. */
  peak: { atS: number; afterPass: string; rssMb: number; anonMb: number; fileMb: number };
  /** With --memlog: the probe's own view of its memory (preloaded sampler). */
  memory?: { start: MemSample; atPeak: MemSample; last: MemSample };
  nodeFlags: string[];
  seconds: number;
  cpuPercentSteady: number;
  cpuKernelPercentSteady: number;
  minorFaultsPerS: number;
  cpuPercentWhole: number;
  peakRssMb: number;
  rssEndMb: number;
  /** Full collections after the first: wall time (pass start → report assembled) and the probe's CPU time over it. */
  fullPass: { n: number; p50Ms: number | null; p95Ms: number | null; meanMs: number; maxMs: number | null; cpuMeanMs: number | null; cpuP95Ms: number | null; note?: string };
  firstFullPass: { ms: number; cpuMs: number } | null;
  deltaPasses: number;
  /** Passes of the interval that sent a delta (after the first full one), as fullPass. */
  intervalDeltaPass: { n: number; p50Ms: number; p95Ms: number; meanMs: number; cpuMeanMs: number } | null;
  loadAvg: { start: number; end: number };
  collectorMeanMs: Record<string, number>;
  reports: { full: number; delta: number; meanGzipBytes: number; kbPerMinute: number };
  /** The control channel as the sink saw it: one connection and one hello for a channel that stayed open. */
  controlChannel: { connections: number; hellos: number };
  collectorErrors: number;
}

/**
 * Preloaded into the probe (`-r`): every 2 s, its own view of its memory
 * (process.memoryUsage, V8 spaces, RssAnon/RssFile) appended as a JSON line;
 * the bench reports the sample taken at peak RSS and the last one.
 */
const MEMLOG_PRELOAD = `
const v8 = require('v8'), fs = require('fs'), out = process.env.PROBE_MEMLOG;
const mb = (n) => Math.round(n / 104857.6) / 10;
function snap() {
  const m = process.memoryUsage(), st = fs.readFileSync('/proc/self/status', 'latin1');
  const kb = (k) => mb(Number(new RegExp('^' + k + ':\\\\s+(\\\\d+)', 'm').exec(st)[1]) * 1024);
  const spaces = {};
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_size > 0) spaces[s.space_name.replace('_space', '')] = [mb(s.space_size), mb(s.space_used_size)];
  fs.appendFileSync(out, JSON.stringify({ t: Math.round(process.uptime()), rss: mb(m.rss), anon: kb('RssAnon'), file: kb('RssFile'), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers), spaces }) + '\\n');
}
setImmediate(snap);
setInterval(snap, 2000).unref();
`;

interface MemSample { t: number; rss: number; anon: number; file: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number; spaces: Record<string, [number, number]> }

async function runVariant(variant: string, nodeFlags: string[], engineSocket: string, buildDir = join(ROOT, 'build'), env: Record<string, string> = {}): Promise<VariantResult> {
  const sink = await startSink();
  const memlog = join(work, `memlog-${variant}.jsonl`);
  const preload = join(work, 'memlog.js');
  if (MEMLOG) writeFileSync(preload, MEMLOG_PRELOAD);
  const tokenFile = join(work, 'token');
  writeFileSync(tokenFile, 'bench-probe-token-0123456789\n');
  const proc = spawn(
    process.execPath,
    [...nodeFlags, ...(MEMLOG ? ['-r', preload] : []), join(buildDir, 'runtime/cli.js'), 'probe', ...(FULL_EVERY !== null && variant !== 'baseline' ? ['--full-every', String(FULL_EVERY)] : []), '--app', `http://127.0.0.1:${sink.port}`, '--token-file', tokenFile, '--engine-socket', engineSocket, '--metrics-listen', '127.0.0.1:0'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...probeBaseEnv(), ...env, ...(MEMLOG ? { PROBE_MEMLOG: memlog } : {}), LOG_LEVEL: 'debug' } },
  );
  const t0 = Date.now();
  // The peak from outside: VmHWM says how high, these samples say when and of what.
  let peak = { atS: 0, rssMb: 0, anonMb: 0, fileMb: 0 };
  const samples: string[] = [];
  const sampler = setInterval(() => {
    try {
      const st = readFileSync(`/proc/${proc.pid}/status`, 'latin1');
      const mb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(st)?.[1] ?? NaN) / 1024;
      const rss = mb('VmRSS');
      if (SAMPLES_DIR) samples.push(`${((Date.now() - t0) / 1000).toFixed(1)}\t${rss.toFixed(2)}\t${mb('RssAnon').toFixed(2)}\t${mb('RssFile').toFixed(2)}`);
      if (rss > peak.rssMb) peak = { atS: (Date.now() - t0) / 1000, rssMb: rss, anonMb: mb('RssAnon'), fileMb: mb('RssFile') };
    } catch {
      // exited
    }
  }, SAMPLE_MS);
  load.track(proc);
  const loadStart = loadAvg1();
  let stderr = '';
  let partial = '';
  const passes: PassLine[] = [];
  /** Seconds after start at which each pass's line arrived (about when it ended). */
  const passAt: number[] = [];
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-20_000);
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      if (!l.includes('"msg":"pass"')) continue;
      try {
        passes.push(JSON.parse(l) as PassLine);
        passAt.push((Date.now() - t0) / 1000);
      } catch {
        // not a whole JSON line: ignore
      }
    }
  });
  const pid = proc.pid!;
  let metricsPort = 0;
  while (metricsPort === 0 && Date.now() - t0 < 15_000) {
    const m = /\(port (\d+)\)/.exec(stderr);
    if (m) metricsPort = Number(m[1]);
    else await sleep(50);
  }
  if (metricsPort === 0) throw new Error(`probe did not start: ${stderr.slice(-2000)}`);
  const ticksStart = 0; // the process started at t0: all its ticks are the whole run's
  await sleep(WARMUP_S * 1000);
  const splitWarm = cpuSplit(pid);
  const ticksWarm = splitWarm.user + splitWarm.kernel;
  const tWarm = Date.now();
  await sleep((SECONDS - WARMUP_S) * 1000);
  const splitEnd = cpuSplit(pid);
  const ticksEnd = splitEnd.user + splitEnd.kernel;
  const tEnd = Date.now();
  const peakRssMb = Math.round(statusKb(pid, 'VmHWM') / 102.4) / 10;
  const rssEndMb = Math.round(statusKb(pid, 'VmRSS') / 102.4) / 10;
  const text = await scrape(metricsPort);
  clearInterval(sampler);
  if (SAMPLES_DIR) writeFileSync(join(SAMPLES_DIR, `${variant}.tsv`), `seconds\trss_mb\tanon_mb\tfile_mb\n${samples.join('\n')}\n`);
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  sink.close();

  const fulls = passes.filter((p) => p.pass === 'full');
  const steady = fulls.slice(1);
  const wall = steady.map((p) => p.durationMs);
  const cpu = steady.map((p) => p.cpuMs);
  // A baseline built before the probe logged its passes: only the /metrics mean over all full passes (first included).
  const passSum = metricValue(text, 'monitoring_probe_pass_duration_seconds_sum', 'kind="full"');
  const passCount = metricValue(text, 'monitoring_probe_pass_duration_seconds_count', 'kind="full"');
  const fullPass =
    steady.length > 0
      ? { n: steady.length, p50Ms: pct(wall, 50), p95Ms: pct(wall, 95), meanMs: mean(wall), maxMs: Math.max(...wall), cpuMeanMs: mean(cpu), cpuP95Ms: pct(cpu, 95) }
      : { n: passCount, p50Ms: null, p95Ms: null, meanMs: Math.round((passSum / passCount) * 10000) / 10, maxMs: null, cpuMeanMs: null, cpuP95Ms: null, note: 'no pass log (older build): mean of all full passes from /metrics' };
  const intervalDeltas = passes.filter((p) => p.pass === 'delta' && p.trigger === 'interval');
  const dWall = intervalDeltas.map((p) => p.durationMs);
  const intervalDeltaPass =
    intervalDeltas.length > 0
      ? { n: intervalDeltas.length, p50Ms: pct(dWall, 50), p95Ms: pct(dWall, 95), meanMs: mean(dWall), cpuMeanMs: mean(intervalDeltas.map((p) => p.cpuMs)) }
      : null;
  const collectorMeanMs: Record<string, number> = {};
  for (const c of ['host', 'processes', 'connections', 'containers']) {
    const s = metricValue(text, 'monitoring_probe_collect_duration_seconds_sum', `collector="${c}"`);
    const n = metricValue(text, 'monitoring_probe_collect_duration_seconds_count', `collector="${c}"`);
    collectorMeanMs[c] = Math.round((s / n) * 10000) / 10;
  }
  let errors = 0;
  for (const l of text.split('\n')) if (l.startsWith('monitoring_probe_collector_errors_total{')) errors += Number(l.slice(l.lastIndexOf(' ') + 1));
  const bytes = sink.reports.bytes;
  const mem = MEMLOG ? readFileSync(memlog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as MemSample) : [];
  const peakSample = mem.length ? mem.reduce((a, b) => (b.rss > a.rss ? b : a)) : null;
  // The last pass that had started when the peak sample was taken (a pass's start: when its line came, less its duration).
  const started = passes.map((p, i) => ({ n: i + 1, kind: p.pass, startS: passAt[i]! - p.durationMs / 1000 })).filter((p) => p.startS <= peak.atS);
  const last = started[started.length - 1];
  const afterPass = last ? `in or after pass ${last.n} (${last.kind}, started at ${Math.round(last.startS * 10) / 10} s)` : 'start-up, before the first pass';
  const r1 = (x: number): number => Math.round(x * 10) / 10;
  return {
    variant,
    env,
    peak: { atS: r1(peak.atS), afterPass, rssMb: r1(peak.rssMb), anonMb: r1(peak.anonMb), fileMb: r1(peak.fileMb) },
    ...(peakSample ? { memory: { start: mem[0]!, atPeak: peakSample, last: mem[mem.length - 1]! } } : {}),
    nodeFlags,
    seconds: Math.round((tEnd - t0) / 1000),
    cpuPercentSteady: Math.round(((ticksEnd - ticksWarm) / CLK_TCK / ((tEnd - tWarm) / 1000)) * 100 * 100) / 100,
    // The kernel's part of it (system calls of the /proc walk, sockets, page faults): what no JavaScript change removes.
    cpuKernelPercentSteady: Math.round(((splitEnd.kernel - splitWarm.kernel) / CLK_TCK / ((tEnd - tWarm) / 1000)) * 100 * 100) / 100,
    // Pages touched afresh (memory given back and taken again): each costs a fault in the kernel.
    minorFaultsPerS: Math.round((splitEnd.minorFaults - splitWarm.minorFaults) / ((tEnd - tWarm) / 1000)),
    cpuPercentWhole: Math.round(((ticksEnd - ticksStart) / CLK_TCK / ((tEnd - t0) / 1000)) * 100 * 100) / 100,
    peakRssMb,
    rssEndMb,
    fullPass,
    firstFullPass: fulls[0] ? { ms: fulls[0].durationMs, cpuMs: fulls[0].cpuMs } : null,
    deltaPasses: passes.length - fulls.length,
    intervalDeltaPass,
    loadAvg: { start: loadStart, end: loadAvg1() },
    collectorMeanMs,
    reports: { full: sink.reports.full, delta: sink.reports.delta, meanGzipBytes: bytes.length ? Math.round(bytes.reduce((a, b) => a + b, 0) / bytes.length) : 0, kbPerMinute: Math.round(bytes.reduce((a, b) => a + b, 0) / 1024 / ((tEnd - t0) / 60_000)) },
    controlChannel: { ...sink.control },
    collectorErrors: errors,
  };
}

/**
 * `npm run build`. tsc emits even when some file fails to type-check; a failure
 * elsewhere in runtime/ (work in progress of another part) is reported, and the
 * bench goes on as long as the probe's own files compiled without error.
 */
function build(): void {
  try {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '') + String((err as { stderr?: Buffer }).stderr ?? '');
    const errors = out.split('\n').filter((l) => /error TS/.test(l));
    const ours = errors.filter((l) => /^runtime\/(probe|report|control|common)\/|^runtime\/cli\.ts/.test(l));
    console.log(JSON.stringify({ build: 'npm run build reported errors', errors: errors.slice(0, 5), inProbeFiles: ours.length }));
    if (ours.length > 0) throw new Error('the probe does not compile');
  }
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error('bench: deadline reached, cleaning up');
    cleanup();
    process.exit(1);
  }, (SECONDS * 3 + 300) * 1000);
  deadline.unref();
  build();
  const engine = await startEngine();
  const load = await startLoad();
  console.log(JSON.stringify({ load }));
  const baseline = args.indexOf('--baseline') >= 0 ? args[args.indexOf('--baseline') + 1] : undefined;
  const variants: Array<[string, string[], string | undefined, Record<string, string>]> = [
    // `--baseline-variant NAME`: the baseline build run with that variant's flags and env (default: plain `node`), so a deployed build is compared with a deployed baseline.
    ...(baseline ? [['baseline', BASELINE_VARIANT.flags, join(baseline, 'build'), BASELINE_VARIANT.env ?? {}] as [string, string[], string, Record<string, string>]] : []),
    // An entry may add node flags after its name: `--variants 'deployed,deployed --heap-growing-percent=50'`.
    ...VARIANT_NAMES.map((entry) => {
      const [n = '', ...extra] = entry.trim().split(/\s+/);
      const v = VARIANTS[n];
      if (!v) throw new Error(`unknown variant ${n} (${Object.keys(VARIANTS).join(', ')})`);
      return [entry.trim(), [...v.flags, ...extra], undefined, v.env ?? {}] as [string, string[], undefined, Record<string, string>];
    }),
  ];
  const results: VariantResult[] = [];
  for (const [name, flags, dir, env] of variants) {
    const r = await runVariant(name, flags, engine, dir, env);
    results.push(r);
    console.log(JSON.stringify(r));
  }
  const goal = { cpuPercent: 1, rssMb: 60, fullPassMs: 100 };
  console.log(JSON.stringify({ summary: 'probe', load, goal, results }));
  console.log(
    'probe: ' +
      results
        .map(
          (r) =>
            `[${r.variant}${Object.entries(r.env).map(([k, v]) => ` ${k}=${v}`).join('')}${r.nodeFlags.length ? ' ' + r.nodeFlags.join(' ') : ''}] CPU ${r.cpuPercentSteady}% of one core (${r.cpuKernelPercentSteady}% in the kernel, ${r.minorFaultsPerS} minor faults/s; whole run ${r.cpuPercentWhole}%), peak RSS ${r.peakRssMb} MB (sampled peak at ${r.peak.atS} s, ${r.peak.afterPass}: ${r.peak.anonMb} MB anonymous, ${r.peak.fileMb} MB file-backed), full collection p50 ${r.fullPass.p50Ms} / p95 ${r.fullPass.p95Ms} / mean ${r.fullPass.meanMs} ms over ${r.fullPass.n} passes (CPU ${r.fullPass.cpuMeanMs} ms mean)${r.intervalDeltaPass ? `, delta passes p50 ${r.intervalDeltaPass.p50Ms} / mean ${r.intervalDeltaPass.meanMs} ms over ${r.intervalDeltaPass.n} (CPU ${r.intervalDeltaPass.cpuMeanMs} ms mean)` : ''}, ${r.reports.kbPerMinute} KB sent per minute, load avg ${r.loadAvg.start}→${r.loadAvg.end}`,
        )
        .join('; ') +
      ` — load ${load.extraProcesses} extra processes, ${load.connections} connections, ${load.containers} containers, ${SECONDS} s per variant; goals <=1%, <=60 MB, <100 ms`,
  );
  cleanup();
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
    cleanup();
  })
  .finally(() => setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref());

process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});
