/**
 * What each full pass of the compiled probe leaves to the garbage collector,
 * on a load held elsewhere (bench/lib/probe-load-hold.ts prints the engine
 * socket): the probe runs with the deployed environment (PROBE_PROCESS_ENV)
 * plus `--trace-gc-nvp`, publishing to a sink in this process, and per full
 * pass this prints the scavenges in the pass's window (from its start until
 * 1.5 s later, before the settling collection 2 s after it), the bytes they
 * promoted to the old generation, the major collections in that window, and
 * the heap's size after its last collection; then the whole run: CPU % of a
 * core, VmHWM, the count and pause time of scavenges and major collections.
 *
 * Why: the probe's peak RSS is the top of a full pass, where what the pass
 * builds is promoted out of the 1 MB young generation (docs/probe.md
 * "Memory"). This says how much is promoted per pass, quicker than the whole
 * bench and without it.
 *
 *     npx tsx bench/lib/probe-load-hold.ts &     # prints {"engineSocket": …}
 *     npx tsx bench/probe-gc.ts --engine-socket S [--seconds 65] [--build DIR] [--node-flags '-r preload.js'] [--keep PREFIX]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROBE_PROCESS_ENV } from '../runtime/probe/memory';
import { flag, numberFlag } from './lib/args';

const SECONDS = numberFlag('seconds', 65);
const ENGINE = flag('engine-socket', '');
const BUILD = flag('build', join(__dirname, '..', 'build'));
// Read by hand: its value starts with `--`, which flag() takes for a missing value.
const EXTRA = (process.argv.indexOf('--node-flags') >= 0 ? process.argv[process.argv.indexOf('--node-flags') + 1]! : '').split(/\s+/).filter(Boolean);
const WINDOW_MS = 1_500;
/** `--keep PREFIX`: also write the GC trace and the probe's log to PREFIX.gc and PREFIX.log. */
const KEEP = flag('keep', '');
const CLK_TCK = 100;

interface Gc {
  /** ms since the isolate started */
  t: number;
  kind: string;
  pause: number;
  promoted: number;
  allocated: number;
  sizeAfter: number;
  reduceMemory: boolean;
}

function parseGc(line: string): Gc | null {
  const m = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: (.*)$/.exec(line);
  if (!m) return null;
  const f: Record<string, string> = {};
  for (const kv of m[2]!.split(' ')) {
    const i = kv.indexOf('=');
    if (i > 0) f[kv.slice(0, i)] = kv.slice(i + 1);
  }
  if (f['gc'] === undefined) return null;
  return {
    t: Number(m[1]),
    kind: f['gc']!,
    pause: Number(f['pause']),
    promoted: Number(f['promoted'] ?? 0),
    allocated: Number(f['allocated'] ?? 0),
    sizeAfter: Number(f['total_size_after'] ?? 0),
    reduceMemory: f['reduce_memory'] === '1',
  };
}

function cpuTicks(pid: number): number {
  const st = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

const kb = (n: number): number => Math.round(n / 1024);
const r1 = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  if (!ENGINE) throw new Error('--engine-socket S is needed (bench/lib/probe-load-hold.ts prints it)');
  const work = mkdtempSync(join(tmpdir(), 'probe-gc-'));
  const tokenFile = join(work, 'token');
  writeFileSync(tokenFile, 'bench-probe-token-0123456789\n');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const env = { ...process.env, ...PROBE_PROCESS_ENV, LOG_LEVEL: 'debug' };
  // The trace's times count from the isolate's start, a few ms after the spawn (boot time in
  // /proc/stat is whole seconds, too coarse to place a process's start).
  const t0 = Date.now();
  const proc = spawn(
    process.execPath,
    ['--trace-gc-nvp', ...EXTRA, join(BUILD, 'runtime/cli.js'), 'probe', '--app', `http://127.0.0.1:${port}`, '--token-file', tokenFile, '--engine-socket', ENGINE, '--metrics-listen', '127.0.0.1:0'],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  const pid = proc.pid!;
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const tWarm = Date.now() + 10_000;
  let ticksWarm = 0;
  setTimeout(() => (ticksWarm = cpuTicks(pid)), 10_000);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const ticksEnd = cpuTicks(pid);
  const cpuPct = ((ticksEnd - ticksWarm) / CLK_TCK / ((Date.now() - tWarm) / 1000)) * 100;
  const hwm = Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))![1]) / 1024;
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  server.close();
  rmSync(work, { recursive: true, force: true });

  if (KEEP) {
    writeFileSync(`${KEEP}.gc`, out);
    writeFileSync(`${KEEP}.log`, err);
  }
  const gcs = out.split('\n').map(parseGc).filter((g): g is Gc => g !== null);
  const passes = err
    .split('\n')
    .filter((l) => l.includes('"msg":"pass"'))
    .map((l) => JSON.parse(l) as { pass: string; seq: number; durationMs: number; cpuMs: number; time: string });
  // The isolate starts a few ms after the process; trace times are from the isolate's start.
  const fulls = passes.filter((p) => p.pass === 'full');
  for (const p of fulls) {
    const start = Date.parse(p.time) - p.durationMs - t0;
    // From a little before the computed start: the isolate starts some ms after the spawn, so the trace runs behind.
    const inWin = gcs.filter((g) => g.t >= start - 300 && g.t < start + WINDOW_MS);
    const before = gcs.filter((g) => g.t < start);
    const last = inWin[inWin.length - 1];
    console.log(
      JSON.stringify({
        seq: p.seq,
        startS: r1(start / 1000),
        durationMs: p.durationMs,
        cpuMs: p.cpuMs,
        scavenges: inWin.filter((g) => g.kind === 's').length,
        promotedKb: kb(inWin.reduce((a, g) => a + g.promoted, 0)),
        allocatedKb: kb(inWin.reduce((a, g) => a + g.allocated, 0)),
        majorGcs: inWin.filter((g) => g.kind !== 's').map((g) => `${g.kind}@+${g.t - Math.round(start)}ms${g.reduceMemory ? ' reduce' : ''}`),
        heapBeforeKb: before.length ? kb(before[before.length - 1]!.sizeAfter) : null,
        heapAfterKb: last ? kb(last.sizeAfter) : null,
      }),
    );
  }
  const sc = gcs.filter((g) => g.kind === 's');
  const mc = gcs.filter((g) => g.kind !== 's');
  const afterWarm = gcs.filter((g) => g.t > 10_000);
  console.log(
    JSON.stringify({
      summary: 'probe-gc',
      build: BUILD,
      nodeFlags: EXTRA,
      seconds: SECONDS,
      cpuPercentAfter10s: r1(cpuPct * 10) / 10,
      vmHwmMb: r1(hwm),
      scavenges: sc.length,
      scavengePauseMs: r1(sc.reduce((a, g) => a + g.pause, 0)),
      majorGcs: mc.length,
      majorKinds: [...new Set(mc.map((g) => g.kind))],
      majorPauseMs: r1(mc.reduce((a, g) => a + g.pause, 0)),
      gcPauseAfter10sMs: r1(afterWarm.reduce((a, g) => a + g.pause, 0)),
      reduceMemoryGcs: mc.filter((g) => g.reduceMemory).length,
    }),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
