/**
 * The monitoring app under a synthetic fleet (issue 5's benchmark).
 *
 * Four processes: the app (compiled, `node build/runtime/cli.js app`, as it is
 * deployed; `--app-from source` runs runtime/app/command.ts under tsx instead),
 * 100 WebSocket clients (this file with `--role clients`), one search client
 * (`--role search`), and this driver, which replays N simulated
 * probes (test/app/fleet.ts: host and process nodes copied from the real
 * probe's recording, containers and cross-host connections synthesised) at the
 * real cadence, from a tape of their reports recorded before the app starts
 * (bench/lib/report-tape.ts; `--reports live` makes each when it is sent), to the app's own
 * address as the manifests run it (`--ingest listener`: to its ingest listener):
 * each probe reports once per interval, spread evenly, a full report every 4th
 * and deltas (patches) between, as the probe does, and a few containers change
 * state each interval. After a warm-up interval it measures for `--seconds`:
 *
 * - ingest CPU: the app process's utime+stime over the window, % of one core;
 * - merge time per report and ingest time (the app's own histograms);
 * - resident memory: the app's VmRSS, sampled every second, max and last;
 * - delta latency, report arrival at the app → delta received by a client
 *   (`arrivedAt` in the delta vs the client's clock; one machine, one clock);
 * - search latency: queries over HTTP, p50/p99 client side, and server side. The
 *   queries come from their own process, as a person's browser would: from the
 *   driver they also measured the driver's own event loop, busy gzipping reports.
 *   That process starts with the warm-up and queries through it, as the WebSocket
 *   clients are connected through it; only the window's queries are counted.
 *
 * - the app's main-thread delay (`monitoring_app_event_loop_delay_seconds` over the window): how
 *   late its event loop ran, i.e. what a search waited behind (renders, reports, GC pauses).
 *
 * - Prometheus's scrapes: /metrics every `--scrape-interval` seconds (the manifests' interval, 15 s) during
 *   the window, as deployed; `scrapeMsMax` is the slowest answer.
 *
 * Prints one JSON line per measurement and a summary line per fleet size.
 *
 * A/B: `--app-build DIR` runs a copy of build/ made before a change (with a package.json beside
 * it) instead of building; `--app-node-flags a=1,b` sets the app's V8 flags (e.g.
 * `max-semi-space-size=16,cpu-prof,cpu-prof-dir=/tmp/p` for a profile written when it stops, or
 * `trace-gc` with `--app-log FILE` for its GC pauses).
 *
 *     npx tsx bench/app.ts                       # 100 probes, 1,000 containers, 100 clients
 *     npx tsx bench/app.ts --probes 1000 --seconds 30   # the goal's size
 *     npx tsx bench/app.ts --probes 1000 --seconds 30 --client-views 'containers?namespace=shop,hosts,containers-by-image'
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Pool, WebSocket, request } from 'undici';
import { encodeReport } from '../runtime/report';
import { prod } from '../constructs/environments';
import { SimProbe, loadTemplates, type FleetShape } from '../test/app/fleet';
import { freePort } from '../test/helpers/stack';
import { DEFAULT_RING } from '../runtime/probe/nodes';
import { choiceFlag, flag } from './lib/args';
import { ReportTape, fleetSend } from './lib/report-tape';
import { MODEL_THREAD_NAME } from '../runtime/app/model-thread/protocol';
import { APP_METRICS } from '../runtime/common/app-constants';
import { APP_PROCESS_ENV } from '../runtime/app/process-env';

const ROOT = join(__dirname, '..');
const PROBE_TOKEN = 'bench-probe-token-0123456789abcdef';
const VIEWER_TOKEN = 'bench-viewer-token-0123456789abcdef';
/** `--app-from source`: the app under tsx instead of the compiled build (which the bench builds first). */
const APP_FROM_SOURCE = flag('app-from', 'build') === 'source';
/**
 * `--app-build DIR`: run the app compiled in DIR (a copy of build/, e.g. the previous commit's) and do
 * not build: an A/B is two runs of this bench, one with the copy, the other with the new build.
 */
const APP_BUILD = flag('app-build', '');
/** `--app-log FILE`: where the app's stdout goes (e.g. with `--app-node-flags max-semi-space-size=16,trace-gc`). */
const APP_LOG = flag('app-log', '');
/** Search queries: labels, `field:value` terms, a prefix of one letter (and one host of the fleet, added by the search client). */
const SEARCH_QUERIES = ['nginx', 'image:redis', 'name:postgres', 'serve', 'namespace:shop api', 'cmdline:8003', 'p'];
/**
 * `--scrape-interval S`: the bench scrapes the app's /metrics every S seconds during the window, as the
 * platform's Prometheus does (default: the interval the manifests configure, constructs/environments.ts);
 * 0 scrapes only at the window's edges. A scrape runs the gauges' collectors on the app's main thread.
 */
const SCRAPE_INTERVAL_S = Number(flag('scrape-interval', String(prod.prometheus.scrapeIntervalSeconds)));
/**
 * `--rings sliding|recomputed`: how the simulated probes' metric rings move (test/app/fleet.ts
 * `slidingRings`). `sliding` (default) is what the real probe sends: one new sample per metric per
 * report, the earlier ones unchanged. `recomputed` is the fleet's older behaviour, every sample
 * new in every report (eight times the real churn of samples), kept to compare with earlier runs.
 */
const RINGS = flag('rings', 'sliding');
if (RINGS !== 'sliding' && RINGS !== 'recomputed') throw new Error(`--rings must be sliding or recomputed, not ${JSON.stringify(RINGS)}`);
/**
 * `--ring N`: samples per metric in each simulated report. Default: what the probe sends (its
 * `DEFAULT_RING`, the newest sample; the app keeps the history). `--ring 8` is what probes sent
 * before that, for an A/B against an app build of that time (`--app-build`).
 */
const RING = flag('ring', '');
if (RING !== '' && !(Number.isInteger(Number(RING)) && Number(RING) >= 1)) throw new Error(`--ring must be a whole number of samples, not ${JSON.stringify(RING)}`);
/**
 * `--deltas patches|whole`: how the simulated probes' deltas carry a changed node (test/app/fleet.ts
 * `wholeDeltas`). `patches` (default, runtime/report/schema.ts NodePatch) is what the probe sends
 * between its full reports; `whole` is what an app build from before patch deltas takes (for an
 * A/B with `--app-build`), and costs about what the probe's full report every interval did then.
 */
const DELTAS = choiceFlag('deltas', ['patches', 'whole']);
/** Pause between two search queries of the search client. */
const SEARCH_PAUSE_MS = 100;
/**
 * `--reports tape|live`: `tape` (default) replays the fleet's reports made and gzipped before the app
 * starts (bench/lib/report-tape.ts): the driver then costs the app's two cores only its HTTP requests,
 * as a real fleet, reporting from its own hosts, costs nothing on them. `live` makes each report
 * when it is sent (the bench before the tape), about 3 ms of the driver's CPU each: a fifth of a core
 * at 1,000 probes beside the app.
 */
const REPORTS = choiceFlag('reports', ['tape', 'live']);
/**
 * `--search-by-thread`: for each search, also the CPU every thread of the app, the clients' process,
 * this driver and the search client used while it was answered (their schedstat, about 70 files read
 * before and after each query: some CPU of the search client's own; off by default).
 */
const SEARCH_BY_THREAD = process.argv.includes('--search-by-thread');
/**
 * `--ingest front|listener`: where the fleet sends its reports. `front` (default) sends them to the
 * app's own address, through its front thread, as the manifests run it; `listener` starts the app
 * with `--ingest-listen` and sends them there (the model thread's own port; docs/app.md, round 16).
 */
const INGEST = choiceFlag('ingest', ['front', 'listener']);
/** Seconds of replay recorded past the warm-up and the window (its end: the clients' report, the last scrape); later sends are made on demand. */
const TAPE_MARGIN_S = 15;


function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

function emit(o: object): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

// ---------------------------------------------------------------- clients role

async function runClients(): Promise<void> {
  const url = flag('url', '');
  const n = Number(flag('n', '100'));
  // `--client-views a,b,…` (a view path with its query, e.g. `containers?namespace=shop`) replaces the default mix.
  const views = flag('client-views', 'containers,containers,containers,hosts,containers-by-image').split(',');
  const latencies: number[] = [];
  let messages = 0;
  let bytes = 0;
  let resets = 0;
  let closed = 0;
  let measuring = false;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < n; i++) {
    const [view, query] = views[i % views.length]!.split('?');
    const ws = new WebSocket(`${url}/api/topology/${view}/ws${query ? `?${query}` : ''}`, [`bearer.${VIEWER_TOKEN}`]);
    ws.onmessage = (e) => {
      const now = Date.now();
      const s = String(e.data);
      messages++;
      bytes += s.length;
      if (s.startsWith('{"type":"reset"')) resets++;
      if (!measuring || !s.startsWith('{"type":"delta"')) return;
      // The tail holds arrivedAt: no need to parse the whole message.
      const m = /"arrivedAt":(\d+),"reports"/.exec(s.slice(-4096));
      if (m) latencies.push(now - Number(m[1]));
    };
    ws.onclose = () => closed++;
    sockets.push(ws);
  }
  process.stdout.write(JSON.stringify({ clients: 'started' }) + '\n');
  process.stdin.on('data', (d) => {
    const cmd = String(d).trim();
    if (cmd === 'measure') {
      measuring = true;
      latencies.length = 0;
      messages = 0;
      bytes = 0;
    } else if (cmd === 'report') {
      latencies.sort((a, b) => a - b);
      process.stdout.write(
        JSON.stringify({ clients: n, open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length, closed, resets, messages, megabytes: r2(bytes / 1e6), deltas: latencies.length, p50: pct(latencies, 0.5), p99: pct(latencies, 0.99), max: latencies[latencies.length - 1] ?? NaN }) + '\n',
      );
      for (const s of sockets) s.close();
      setTimeout(() => process.exit(0), 200);
    }
  });
}

// ---------------------------------------------------------------- driver role

interface ProcStat {
  cpuSeconds: number;
  /** The part of cpuSeconds spent in the kernel on the process's behalf (page faults, sends, receives). */
  sysSeconds: number;
  /** Minor page faults so far: first touches of fresh memory, which cost ~11 µs each on this machine kind (docs/app.md). */
  minorFaults: number;
  rssMb: number;
}

/** The fields of a /proc stat line after the command's name: state (field 3 of proc(5)) at index 0. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function procStat(pid: number): ProcStat {
  const fields = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  // Fields 10 (minflt), 14 (utime) and 15 (stime) of proc(5).
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds: ticks / 100, sysSeconds: Number(fields[12]) / 100, minorFaults: Number(fields[7]), rssMb: rss ? Number(rss[1]) / 1024 : NaN };
}

/**
 * CPU seconds per thread of the app so far: the front (the process's main thread), the model
 * thread (it names itself MODEL_THREAD_NAME, runtime/app/model-thread/worker.ts), and every other thread
 * together (V8's GC helpers, which scavenge and mark both heaps in parallel, and libuv's pool).
 * A thread that ended in between is lost from `other`; the app's threads live as long as it does.
 */
function threadCpu(pid: number): { front: number; model: number; other: number } {
  const out = { front: 0, model: 0, other: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string, comm: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      continue; // ended while being read
    }
    const fields = statFields(stat);
    out[appThreadRole(pid, tid, comm)] += (Number(fields[11]) + Number(fields[12])) / 100;
  }
  return out;
}

/** What a thread of the app (process `pid`) is: its main thread is the front; the model thread names itself. */
function appThreadRole(pid: number, tid: string, comm: string): 'front' | 'model' | 'other' {
  return tid === String(pid) ? 'front' : comm === MODEL_THREAD_NAME ? 'model' : 'other';
}

async function startApp(intervalMs: number): Promise<{ proc: ChildProcess; url: string; ingestUrl: string }> {
  // One process either way (the tsx CLI would add a wrapper process), so its /proc figures are the app's.
  // `--app-node-flags a=1,b` replaces the app's V8 flags (`--a=1 --b`); `--app-env K=V,K=V` adds to its
  // environment (e.g. glibc's MALLOC_ARENA_MAX): memory settings are compared run against run. The
  // environment starts as the Deployment's (APP_PROCESS_ENV); `--app-env NODE_OPTIONS=` clears its
  // node options.
  const nodeFlags = flag('app-node-flags', 'max-semi-space-size=16').split(',').filter((f) => f !== '').map((f) => `--${f}`);
  const extraEnv = Object.fromEntries(flag('app-env', '').split(',').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  // `--app-args heap-growth-percent=60,…` adds options of `orchestrator app` (`--heap-growth-percent=60`).
  const appArgs = flag('app-args', '').split(',').filter((a) => a !== '').map((a) => `--${a}`);
  const entry = APP_FROM_SOURCE ? ['--import', 'tsx', join(ROOT, 'runtime/app/command.ts')] : [join(APP_BUILD || join(ROOT, 'build'), 'runtime/cli.js'), 'app'];
  // The app's ports are chosen here (two listeners would leave /proc to say which is which).
  const port = await freePort();
  let ingestPort = port;
  while (INGEST === 'listener' && ingestPort === port) ingestPort = await freePort();
  const listen = ['--listen', `127.0.0.1:${port}`, ...(INGEST === 'listener' ? ['--ingest-listen', `127.0.0.1:${ingestPort}`] : [])];
  const proc = spawn(process.execPath, [...nodeFlags, ...entry, ...listen, '--probe-interval', `${intervalMs}ms`, ...appArgs], {
    // A build copied out of the tree finds the project's packages through NODE_PATH.
    env: { ...process.env, ...(APP_BUILD ? { NODE_PATH: join(ROOT, 'node_modules') } : {}), ...APP_PROCESS_ENV, ...extraEnv, LOG_LEVEL: 'warn', ORCHESTRATOR_APP_TOKENS: `bench-probes:probe:${PROBE_TOKEN},bench-viewers:viewer:${VIEWER_TOKEN}` },
    // The app's stdout (its warnings, or a V8 trace such as --trace-gc) goes to `--app-log FILE`, else
    // nowhere: a pipe nobody reads would block the app once 64 KiB were written.
    stdio: ['ignore', APP_LOG ? openSync(APP_LOG, 'w') : 'ignore', 'inherit'],
    cwd: ROOT,
  });
  return new Promise((resolve, reject) => {
    // LOG_LEVEL=warn hides "listening": wait, in /proc, for the process to listen on both ports (the
    // ingest listener is up before the app's own).
    const deadline = Date.now() + 20_000;
    const poll = (): void => {
      const ports = listeningPorts(proc.pid!);
      if (ports.includes(port) && ports.includes(ingestPort)) return resolve({ proc, url: `http://127.0.0.1:${port}`, ingestUrl: `http://127.0.0.1:${ingestPort}` });
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        return reject(new Error('app did not start'));
      }
      setTimeout(poll, 100);
    };
    proc.on('exit', (code) => reject(new Error(`app exited ${code}`)));
    poll();
  });
}

/** The TCP ports a process listens on (from /proc/net/tcp and its fds). */
function listeningPorts(pid: number): number[] {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      require('node:fs')
        .readdirSync(`/proc/${pid}/fd`)
        .map((fd: string) => {
          try {
            return require('node:fs').readlinkSync(`/proc/${pid}/fd/${fd}`) as string;
          } catch {
            return '';
          }
        })
        .filter((l: string) => l.startsWith('socket:['))
        .map((l: string) => l.slice(8, -1)),
    );
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] === '0A' && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
  }
  return ports;
}

function startClients(url: string, n: number): Promise<{ proc: ChildProcess; next: () => Promise<Record<string, number>> }> {
  const extra = process.argv.includes('--client-views') ? ['--client-views', flag('client-views', '')] : [];
  const proc = spawn(process.execPath, ['--import', 'tsx', __filename, '--role', 'clients', '--url', url.replace('http', 'ws'), '--n', String(n), ...extra], { stdio: ['pipe', 'pipe', 'inherit'], cwd: ROOT });
  let buf = '';
  const waiting: Array<(o: Record<string, number>) => void> = [];
  proc.stdout!.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let o: Record<string, number>;
      try {
        o = JSON.parse(line);
      } catch {
        continue; // not ours (a warning): it must not take the place of the answer awaited
      }
      waiting.shift()?.(o);
    }
  });
  const next = (): Promise<Record<string, number>> => new Promise((r) => waiting.push(r));
  return next().then(() => ({ proc, next }));
}

async function scrape(url: string): Promise<Map<string, number>> {
  const r = await request(url + '/metrics', { headers: { authorization: `Bearer ${VIEWER_TOKEN}` }, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const text = await r.body.text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

function histogramQuantile(m: Map<string, number>, name: string, q: number, before?: Map<string, number>): number {
  const buckets: Array<[number, number]> = [];
  for (const [k, v] of m) {
    const mm = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}$`).exec(k);
    if (mm) buckets.push([mm[1] === '+Inf' ? Infinity : Number(mm[1]), v - (before?.get(k) ?? 0)]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const total = buckets[buckets.length - 1]?.[1] ?? 0;
  if (total === 0) return NaN;
  for (const [le, c] of buckets) if (c >= total * q) return le;
  return Infinity;
}

const delta = (a: Map<string, number>, b: Map<string, number>, k: string): number => (a.get(k) ?? 0) - (b.get(k) ?? 0);

// ---------------------------------------------------------------- search role

/**
 * The search client: queries in turn, one every SEARCH_PAUSE_MS, from its start; it keeps the
 * latencies from the line `measure` on its stdin for `--seconds`, then prints them and ends. It
 * starts with the warm-up, as the WebSocket clients do: started at the window's start, its own
 * start (a second of a core) and the app's first answers (code not yet optimised, a connection
 * being opened) were in the window, and were most of its slowest queries.
 *
 * Right after each query it asks `/healthz`, which the front thread answers at once from nothing:
 * the same trip through this machine's kernel and the front's event loop, without the search. Its
 * p99 is the floor under the search's, measured in the same run (on an idle machine of this kind,
 * a trivial HTTP request every 100 ms took p50 1.2 ms, p99 3.5 ms and once 34 ms in 600).
 */
async function runSearch(): Promise<void> {
  const url = flag('url', '');
  const seconds = Number(flag('seconds', '45'));
  const appPid = flag('app-pid', '');
  const queries = [...SEARCH_QUERIES, flag('host', 'host-0000')];
  const ms: number[] = [];
  const floor: number[] = [];
  const each: SlowQuery[] = [];
  let failures = 0;
  let measuring = false;
  let end = Infinity;
  process.stdin.on('data', (d) => {
    if (!String(d).includes('measure') || measuring) return;
    measuring = true;
    end = performance.now() + seconds * 1000;
  });
  /** One GET; its milliseconds, or null when it failed (a bounded wait: a lost answer must not stall the bench). */
  const timed = async (path: string): Promise<number | null> => {
    const t0 = performance.now();
    try {
      const r = await request(`${url}${path}`, { headers: { authorization: `Bearer ${VIEWER_TOKEN}` }, headersTimeout: 10_000, bodyTimeout: 10_000 });
      await r.body.text();
      return r.statusCode === 200 ? performance.now() - t0 : null;
    } catch {
      return null;
    }
  };
  const front = appPid === '' ? null : `/proc/${appPid}/task/${appPid}/schedstat`;
  const byThread = process.argv.includes('--by-thread') && appPid !== '' ? new CpuByThread(Number(appPid), Number(flag('clients-pid', '0')), process.ppid) : null;
  for (let i = 0; performance.now() < end; i++) {
    const counted = measuring;
    const query = queries[i % queries.length]!;
    const at = Date.now();
    const monoUs = Number(process.hrtime.bigint() / 1000n);
    // The many files of --search-by-thread are read outside the front's and the client's own windows.
    const b0 = byThread?.read() ?? null;
    const f0 = front === null ? null : schedstat(front);
    const c0 = schedstat('/proc/thread-self/schedstat');
    const q = await timed(`/api/search?q=${encodeURIComponent(query)}`);
    const c1 = schedstat('/proc/thread-self/schedstat');
    const f1 = front === null ? null : schedstat(front);
    const b1 = byThread?.read() ?? null;
    const h = await timed('/healthz');
    if (counted) {
      if (q === null) failures++;
      else {
        ms.push(q);
        const part = (a: SchedStat | null, b: SchedStat | null, k: 0 | 1): number | null => (a === null || b === null ? null : r2((b[k] - a[k]) / 1e6));
        each.push({
          query, at, monoUs, ms: r2(q), healthzMs: h === null ? null : r2(h),
          frontCpuMs: part(f0, f1, 0), frontWaitMs: part(f0, f1, 1), clientCpuMs: part(c0, c1, 0), clientWaitMs: part(c0, c1, 1),
          ...(b0 !== null && b1 !== null ? { cpuMsBy: CpuByThread.between(b0, b1) } : {}),
        });
      }
      if (h !== null) floor.push(h);
    }
    await new Promise((res) => setTimeout(res, SEARCH_PAUSE_MS));
  }
  ms.sort((a, b) => a - b);
  floor.sort((a, b) => a - b);
  const slowest = each.sort((a, b) => b.ms - a.ms).slice(0, Math.max(1, Math.ceil(each.length / 100)));
  emit({ queries: ms.length, failures, p50: r2(pct(ms, 0.5)), p99: r2(pct(ms, 0.99)), floorP50: r2(pct(floor, 0.5)), floorP99: r2(pct(floor, 0.99)), slowest });
  process.stdin.destroy();
}

/** A thread's nanoseconds on a CPU and waiting in a run queue for one, so far (proc(5) schedstat); null if it cannot be read. */
type SchedStat = readonly [number, number];

function schedstat(path: string): SchedStat | null {
  try {
    const f = readFileSync(path, 'utf8').split(' ');
    return [Number(f[0]), Number(f[1])];
  } catch {
    return null;
  }
}

/**
 * One of the slowest queries, and where its time went: the `/healthz` right after it (a slow
 * moment or a slow query), and over the query's own time, the app's front thread (the process's
 * main thread, which answers searches) on a CPU and waiting for one, and the same for the search
 * client. Time in none of the four was spent with both asleep: in the kernel's loopback, or with
 * the machine's CPUs taken by its host (a stolen CPU counts as the thread's own time on it).
 */
interface SlowQuery {
  query: string;
  /** When it was sent (ms since the epoch), to find it in the app's logs. */
  at: number;
  /** When it was sent on the machine's monotonic clock (µs), the clock of V8's CPU profiles: finds it in a profile of the app (`--app-node-flags cpu-prof`). */
  monoUs: number;
  ms: number;
  healthzMs: number | null;
  frontCpuMs: number | null;
  frontWaitMs: number | null;
  clientCpuMs: number | null;
  clientWaitMs: number | null;
  /** With `--search-by-thread`: CPU ms each part of the machine's load used while the query was answered. */
  cpuMsBy?: Record<CpuGroup, number>;
}

type CpuGroup = 'front' | 'model' | 'appOther' | 'clients' | 'driver' | 'search';

/**
 * CPU nanoseconds so far of every thread of the app (by role: the front, the model thread, the
 * others: V8's GC helpers and libuv's pool), of the clients' process, of the driver and of this
 * search client, from each thread's schedstat. A thread's role is read from its name once.
 */
class CpuByThread {
  private readonly roles = new Map<string, CpuGroup>();

  constructor(
    private readonly appPid: number,
    private readonly clientsPid: number,
    private readonly driverPid: number,
  ) {}

  read(): Record<CpuGroup, number> {
    const out: Record<CpuGroup, number> = { front: 0, model: 0, appOther: 0, clients: 0, driver: 0, search: 0 };
    const procs: Array<[number, CpuGroup | null]> = [[this.appPid, null], [this.clientsPid, 'clients'], [this.driverPid, 'driver'], [process.pid, 'search']];
    for (const [pid, group] of procs) {
      let tids: string[];
      try {
        tids = readdirSync(`/proc/${pid}/task`);
      } catch {
        continue; // not running (yet, or any more)
      }
      for (const tid of tids) {
        const at = `/proc/${pid}/task/${tid}`;
        const g = group ?? this.appRole(at, tid);
        const ss = schedstat(`${at}/schedstat`);
        if (g !== null && ss !== null) out[g] += ss[0];
      }
    }
    return out;
  }

  private appRole(at: string, tid: string): CpuGroup | null {
    let role = this.roles.get(tid);
    if (role === undefined) {
      let comm: string;
      try {
        comm = readFileSync(`${at}/comm`, 'utf8').trim();
      } catch {
        return null;
      }
      const r = appThreadRole(this.appPid, tid, comm);
      role = r === 'other' ? 'appOther' : r;
      this.roles.set(tid, role);
    }
    return role;
  }

  static between(a: Record<CpuGroup, number>, b: Record<CpuGroup, number>): Record<CpuGroup, number> {
    const out = {} as Record<CpuGroup, number>;
    for (const k of Object.keys(a) as CpuGroup[]) out[k] = r2((b[k] - a[k]) / 1e6);
    return out;
  }
}

/** The mean of each part of the slowest queries (ms), over those whose parts were read. */
function slowestMeans(qs: readonly SlowQuery[]): Record<'ms' | 'frontCpuMs' | 'frontWaitMs' | 'clientCpuMs' | 'clientWaitMs', number> {
  const mean = (pick: (q: SlowQuery) => number | null): number => meanOf(qs.map(pick));
  return { ms: mean((q) => q.ms), frontCpuMs: mean((q) => q.frontCpuMs), frontWaitMs: mean((q) => q.frontWaitMs), clientCpuMs: mean((q) => q.clientCpuMs), clientWaitMs: mean((q) => q.clientWaitMs) };
}

/** The same for the CPU by part of the load (`--search-by-thread`), over the queries that have it. */
function cpuByMeans(qs: readonly SlowQuery[]): Partial<Record<CpuGroup, number>> {
  const first = qs.find((q) => q.cpuMsBy !== undefined)?.cpuMsBy;
  if (first === undefined) return {};
  return Object.fromEntries((Object.keys(first) as CpuGroup[]).map((g) => [g, meanOf(qs.map((q) => q.cpuMsBy?.[g] ?? null))]));
}

/** The mean of the values read (nulls left out), to 2 decimals; NaN when none was. */
function meanOf(values: ReadonlyArray<number | null>): number {
  const xs = values.filter((x): x is number => x !== null);
  return xs.length === 0 ? NaN : r2(xs.reduce((a, b) => a + b, 0) / xs.length);
}

type SearchStats = { queries: number; failures: number; p50: number; p99: number; floorP50: number; floorP99: number; slowest: SlowQuery[] };

/** Starts the search client (runSearch), querying at once; `measure()` starts its window, `result` is what it measured. */
function startSearchClient(url: string, appPid: number, clientsPid: number, seconds: number, host: string): { proc: ChildProcess; measure: () => void; result: Promise<SearchStats> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', __filename, '--role', 'search', '--url', url, '--app-pid', String(appPid), '--clients-pid', String(clientsPid), ...(SEARCH_BY_THREAD ? ['--by-thread'] : []), '--seconds', String(seconds), '--host', host], { stdio: ['pipe', 'pipe', 'inherit'], cwd: ROOT });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  const result = new Promise<SearchStats>((resolve, reject) => {
    proc.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"queries"'));
      if (code !== 0 || line === undefined) return reject(new Error(`search client exited ${code} without a result`));
      resolve(JSON.parse(line) as SearchStats);
    });
  });
  return { proc, measure: () => proc.stdin!.write('measure\n'), result };
}

async function runFleet(shape: FleetShape, clientsN: number, intervalMs: number, seconds: number): Promise<Record<string, unknown>> {
  const label = `${shape.probes} probes, ${shape.probes * shape.containersPerProbe} containers`;
  const tpl = await loadTemplates();
  const probes = Array.from({ length: shape.probes }, (_, i) => new SimProbe(i, shape, tpl));
  // The tape is recorded before the app starts: its making is not in the app's figures or beside them.
  const tape = REPORTS === 'tape' ? new ReportTape(probes, { startMs: Date.now(), intervalMs, containersPerProbe: shape.containersPerProbe }) : null;
  if (tape !== null) {
    const r0 = performance.now();
    // The warm-up interval, the window, and a margin for the end (the clients' report, the last scrape).
    await tape.record(tape.sendsFor(intervalMs / 1000 + seconds + TAPE_MARGIN_S));
    emit({ bench: 'app', fleet: label, phase: 'record', reports: tape.length, seconds: r2((performance.now() - r0) / 1000), megabytes: r2(tape.bytes / 1e6) });
  }
  const app = await startApp(intervalMs);
  emit({ bench: 'app', fleet: label, phase: 'started', appPid: app.proc.pid, at: Date.now() });
  const pool = new Pool(app.ingestUrl, { connections: 8, pipelining: 1 });
  let sent = 0;
  const statuses = new Map<number, number>();
  const inflight = new Set<Promise<void>>();
  const post = async (body: Buffer): Promise<number> => {
    const r = await pool.request({ method: 'POST', path: '/api/report', body, headers: { authorization: `Bearer ${PROBE_TOKEN}`, 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    await r.body.text();
    statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
    sent++;
    return r.statusCode;
  };
  // Send k (k < probes: the load; then the replay): from the tape, or made now by the live driver,
  // which answers DELTA_BASE_UNKNOWN (409) with a full report as the probe does. The tape cannot (its
  // next reports are made against the base the app lost): a 409 is counted in `statuses`.
  const sendAt = async (k: number): Promise<void> => {
    if (tape !== null) {
      await post(await tape.body(k));
      return;
    }
    const send = fleetSend(k, probes.length, shape.containersPerProbe);
    const p = probes[send.probe]!;
    if (send.flip !== null) p.flip(send.flip);
    const now = Date.now();
    let report = p.next(now);
    for (let attempt = 0; attempt < 3; attempt++) {
      if ((await post(await encodeReport(report))) !== 409) return;
      report = p.full(now); // the protocol's answer to DELTA_BASE_UNKNOWN
    }
  };
  // Load: every probe's first full report.
  const t0 = performance.now();
  for (let i = 0; i < probes.length; i += 16) await Promise.all(Array.from({ length: Math.min(16, probes.length - i) }, (_, j) => sendAt(i + j)));
  emit({ bench: 'app', fleet: label, phase: 'load', reports: probes.length, seconds: r2((performance.now() - t0) / 1000), rssMb: r2(procStat(app.proc.pid!).rssMb) });

  const clients = await startClients(app.url, clientsN);
  // Search from its own process, one query every 100 ms, from now: warmed up, as the clients are.
  const searcher = startSearchClient(app.url, app.proc.pid!, clients.proc.pid!, seconds, `host-${String(Math.floor(shape.probes / 2)).padStart(4, '0')}`);
  // Replay at the real cadence: each probe once per interval, spread evenly; a few containers change each interval.
  let stop = false;
  const loop = (async () => {
    const spacing = intervalMs / probes.length;
    let k = 0;
    const start = performance.now();
    while (!stop) {
      const due = start + k * spacing;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const s = sendAt(probes.length + k).catch(() => undefined);
      inflight.add(s);
      void s.then(() => inflight.delete(s));
      k++;
    }
  })();

  await new Promise((r) => setTimeout(r, intervalMs)); // warm-up: one interval
  const before = await scrape(app.url);
  const cpu0 = procStat(app.proc.pid!);
  const threads0 = threadCpu(app.proc.pid!);
  const clientsCpu0 = procStat(clients.proc.pid!);
  const driverCpu0 = process.cpuUsage();
  const w0 = performance.now();
  clients.proc.stdin!.write('measure\n');
  searcher.measure();
  let rssMax = 0;
  const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, procStat(app.proc.pid!).rssMb)), 1000);
  // Prometheus's scrapes during the window. The event-loop gauge covers the time since the previous
  // scrape, so the window's figures are gathered from every scrape (p99: the worst interval's).
  const scrapes: Array<{ ms: number; loop: Map<string, number> }> = [];
  const scrapeOnce = async (): Promise<Map<string, number>> => {
    const s0 = performance.now();
    const m = await scrape(app.url);
    scrapes.push({ ms: performance.now() - s0, loop: m });
    return m;
  };
  const scrapeTimer = SCRAPE_INTERVAL_S > 0 ? setInterval(() => void scrapeOnce().catch(() => undefined), SCRAPE_INTERVAL_S * 1000) : null;

  // The window lasts as long as the search client measures.
  const search = await searcher.result;
  const windowS = (performance.now() - w0) / 1000;
  const cpu1 = procStat(app.proc.pid!);
  const threads1 = threadCpu(app.proc.pid!);
  const clientsCpu1 = procStat(clients.proc.pid!);
  const driverCpu = process.cpuUsage(driverCpu0);
  clearInterval(rssTimer);
  if (scrapeTimer !== null) clearInterval(scrapeTimer);
  const after = await scrapeOnce();
  const loopQ = (q: string, pick: (xs: number[]) => number, metric: string = APP_METRICS.eventLoopDelaySeconds): number =>
    r2(pick(scrapes.map((x) => x.loop.get(`${metric}{quantile="${q}"}`) ?? NaN)) * 1000);
  const scrapeMs = scrapes.map((x) => x.ms).sort((a, b) => a - b);
  const reportNext = clients.next();
  clients.proc.stdin!.write('report\n');
  const c = await reportNext;
  stop = true;
  await loop;
  await Promise.all(inflight);

  const reports = delta(after, before, 'monitoring_app_merge_duration_seconds_count');
  const result = {
    bench: 'app',
    fleet: label,
    probes: shape.probes,
    containers: shape.probes * shape.containersPerProbe,
    processes: shape.probes * shape.processesPerProbe,
    intervalS: intervalMs / 1000,
    reportsFrom: REPORTS,
    reportsTo: INGEST,
    rings: shape.slidingRings ? 'sliding' : 'recomputed',
    deltas: shape.wholeDeltas === true ? 'whole' : 'patches',
    samplesPerReport: shape.ring ?? DEFAULT_RING,
    windowS: r2(windowS),
    reportsApplied: reports,
    reportsPerS: r2(reports / windowS),
    statuses: Object.fromEntries(statuses),
    appCpuPctOneCore: r2(((cpu1.cpuSeconds - cpu0.cpuSeconds) / windowS) * 100),
    appSysPctOneCore: r2(((cpu1.sysSeconds - cpu0.sysSeconds) / windowS) * 100),
    // The same CPU by thread (see threadCpu): where a change's saving or cost lands.
    frontCpuPctOneCore: r2(((threads1.front - threads0.front) / windowS) * 100),
    modelCpuPctOneCore: r2(((threads1.model - threads0.model) / windowS) * 100),
    otherThreadsCpuPctOneCore: r2(((threads1.other - threads0.other) / windowS) * 100),
    appMinorFaultsPerS: Math.round((cpu1.minorFaults - cpu0.minorFaults) / windowS),
    // The 100 clients share one process: near 100 % of a core, they, not the app, are the slow readers.
    clientsCpuPctOneCore: r2(((clientsCpu1.cpuSeconds - clientsCpu0.cpuSeconds) / windowS) * 100),
    // This driver's own (the simulated fleet, its reports' JSON and gzip, the scrapes): the rest of
    // the harness on the same cores as the app.
    driverCpuPctOneCore: r2(((driverCpu.user + driverCpu.system) / 1e6 / windowS) * 100),
    mergeMsMean: r2((delta(after, before, 'monitoring_app_merge_duration_seconds_sum') / reports) * 1000),
    ingestMsMean: r2((delta(after, before, 'monitoring_app_ingest_duration_seconds_sum') / reports) * 1000),
    ingestMsP99Bucket: histogramQuantile(after, 'monitoring_app_ingest_duration_seconds', 0.99, before) * 1000,
    rssMbMax: r2(rssMax),
    rssMbEnd: r2(cpu1.rssMb),
    // Where the resident memory is, from the app's own default metrics at the end: the JS heap, and
    // memory outside it that V8 knows of (Buffers, uWS-held strings are not in it: RSS minus both is native).
    heapUsedMbEnd: r2((after.get('nodejs_heap_size_used_bytes') ?? NaN) / 1048576),
    heapTotalMbEnd: r2((after.get('nodejs_heap_size_total_bytes') ?? NaN) / 1048576),
    // The model thread's heap (absent from builds before it had one).
    modelHeapUsedMbEnd: r2((after.get('monitoring_app_model_thread_heap_bytes{state="used"}') ?? NaN) / 1048576),
    modelHeapTotalMbEnd: r2((after.get('monitoring_app_model_thread_heap_bytes{state="total"}') ?? NaN) / 1048576),
    externalMbEnd: r2((after.get('nodejs_external_memory_bytes') ?? NaN) / 1048576),
    wsClients: c.clients,
    wsOpenAtEnd: c.open,
    wsResets: c.resets,
    wsDeltasReceived: c.deltas,
    wsMegabytesReceived: c.megabytes,
    deltaLatencyMsP50: c.p50,
    deltaLatencyMsP99: c.p99,
    deltaLatencyMsMax: c.max,
    appDeltaLatencyMsP99Bucket: histogramQuantile(after, 'monitoring_app_delta_latency_seconds', 0.99, before) * 1000,
    searchQueries: search.queries,
    searchFailures: search.failures,
    searchMsP50: search.p50,
    searchMsP99: search.p99,
    // The same client's /healthz right after each query: the floor under the search's latency.
    healthzMsP50: search.floorP50,
    healthzMsP99: search.floorP99,
    // The queries at and above the p99 (the slowest hundredth), each with where its time went (SlowQuery).
    searchSlowest: search.slowest,
    // Their mean by part: how much of a slow search was the front busy, the front or the client
    // waiting for a CPU (the machine's two cores taken), or the client's own work.
    searchSlowestMeanMs: slowestMeans(search.slowest),
    // With --search-by-thread: the CPU each part of the load used during them, on average (ms).
    ...(SEARCH_BY_THREAD ? { searchSlowestCpuByMeanMs: cpuByMeans(search.slowest) } : {}),
    // The app's main-thread delay over the window (its gauge covers the time since the previous scrape;
    // the first opened the window): what a search waits behind before it runs. P50 and p99 are the
    // worst of the scrape intervals', max the window's.
    appEventLoopDelayMsP50: loopQ('0.5', (xs) => Math.max(...xs)),
    appEventLoopDelayMsP99: loopQ('0.99', (xs) => Math.max(...xs)),
    appEventLoopDelayMsMax: loopQ('1', (xs) => Math.max(...xs)),
    // The model thread's, the same way (monitoring_app_model_thread_loop_delay_seconds).
    modelLoopDelayMsP99: loopQ('0.99', (xs) => Math.max(...xs), APP_METRICS.modelThreadLoopDelaySeconds),
    modelLoopDelayMsMax: loopQ('1', (xs) => Math.max(...xs), APP_METRICS.modelThreadLoopDelaySeconds),
    scrapeIntervalS: SCRAPE_INTERVAL_S,
    scrapes: scrapes.length,
    scrapeMsMax: r2(scrapeMs[scrapeMs.length - 1] ?? NaN),
    searchServerMsP99Bucket: histogramQuantile(after, 'monitoring_app_search_duration_seconds', 0.99, before) * 1000,
    // The index's time per query on the front thread (monitoring_app_search_duration_seconds: the
    // search, not the answer's JSON): what the search itself adds to the client's latency over the floor.
    searchServerMsMean: r2((delta(after, before, 'monitoring_app_search_duration_seconds_sum') / delta(after, before, 'monitoring_app_search_duration_seconds_count')) * 1000),
  };
  emit(result);
  await pool.close();
  clients.proc.kill();
  const exited = new Promise((r) => app.proc.on('exit', r));
  app.proc.kill('SIGTERM');
  await exited;
  return result;
}

async function main(): Promise<void> {
  if (flag('role', 'driver') === 'clients') return runClients();
  if (flag('role', 'driver') === 'search') return runSearch();
  if (!APP_FROM_SOURCE && !APP_BUILD) execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const intervalMs = Number(flag('interval', '15')) * 1000;
  const seconds = Number(flag('seconds', '45'));
  const clientsN = Number(flag('clients', '100'));
  const sizes = [Number(flag('probes', '100'))];
  const results: Array<Record<string, unknown>> = [];
  for (const probes of sizes) {
    const shape: FleetShape = {
      probes,
      containersPerProbe: Number(flag('containers', '10')),
      processesPerProbe: Number(flag('processes', '40')),
      connectionsPerProbe: Number(flag('connections', '3')),
      slidingRings: RINGS === 'sliding',
      wholeDeltas: DELTAS === 'whole',
      ...(RING !== '' ? { ring: Number(RING) } : {}),
    };
    results.push(await runFleet(shape, clientsN, intervalMs, seconds));
  }
  // "At most 1 GB" read strictly: 10^9 bytes, in the MiB the RSS figures are in (953.7).
  const goal = { appCpuPctOneCore: 25, rssMbMax: 1e9 / 1048576, deltaLatencyMsP99: 100, searchMsP99: 10 };
  for (const r of results) {
    const verdict = Object.fromEntries(Object.entries(goal).map(([k, limit]) => [k, `${r[k]} (goal <= ${r2(limit)}): ${(r[k] as number) <= limit ? 'met' : 'MISSED'}`]));
    emit({ bench: 'app', summary: r.fleet, ...verdict, mergeMsMean: r.mergeMsMean });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
