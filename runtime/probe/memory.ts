/**
 * How the probe keeps its resident memory down (issue: at most 60 MB RSS on
 * a loaded host; docs/probe.md "Memory" has the measurements behind each
 * setting). Settings, by when they can take effect:
 *
 * - PROBE_V8_FLAGS: V8 flags the probe sets on itself at run time, before it
 *   opens any connection. Every way of starting the probe gets them.
 * - PROBE_PROCESS_ENV: what only the process's start can set (V8's heap
 *   layout and thread pool, glibc malloc, libuv's thread pool). The DaemonSet
 *   (constructs/monitoring-probe.ts) puts these in the probe container's
 *   environment and bench/probe.ts runs its `deployed` variant with them: this
 *   object is their one source. A probe started by hand (`orchestrator probe`)
 *   runs without them unless its environment has them.
 * - HeapSettler: a major garbage collection before the first pass and
 *   shortly after each full pass.
 * - probeLogTime: the log's ISO time without V8's time-zone lookup.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * - `--liftoff-only`: undici parses HTTP with llhttp compiled to WebAssembly,
 *   and V8 re-compiles that module with TurboFan in the background after the
 *   first request; the compiler's scratch memory is a transient of about
 *   34 MB, which was the probe's peak RSS (120 MB instead of about 85). The
 *   baseline (Liftoff) code parses the probe's few HTTP messages per pass just
 *   as well. Read when a module is compiled, so setting it here works.
 * - `--semi-space-growth-factor=1`: the young generation no longer grows (to
 *   16 MB semi-spaces, 32 MB reserved, most of it resident) under the
 *   per-pass garbage; what module loading grew it to (4-8 MB) shrinks back
 *   to 1-2 MB. About the effect of `--max-semi-space-size=1`, which cannot be
 *   changed once the heap exists (PROBE_PROCESS_ENV sets it where it can).
 * - `--no-opt`: no TurboFan. The probe runs its hot code once per pass (every
 *   15 s): optimized code rarely paid back its compilation, whose zone memory
 *   and code space showed in the peak (one 150 s bench run: peak RSS 93.4 →
 *   79.6 MB, CPU 1.25 → 1.03 % of a core; on a quiet machine 5-10 ms more CPU
 *   per full pass). The tier decision reads the flag, so setting it here works.
 * - `--no-sparkplug`: no baseline machine code either; the interpreter runs
 *   the probe's code. Sparkplug's code and its metadata live in the heap's
 *   code space and the node binary's compiler pages it touches stay resident:
 *   measured under the bench load (35 s, same run): peak RSS 64.4 → 63.6 MB,
 *   0.8 MB of it file-backed.
 * - `--optimize-for-size`: V8's settings for small heaps (slower heap growth,
 *   smaller tables); with the two above, peak 63.6 → 62.6 MB and 2 MB less
 *   at the end of the run (60.7 → 58.6 MB).
 *
 * - `--bytecode-old-age=2`: V8 drops the bytecode of a function not run
 *   during 2 major collections (5 by default), so what only the start ran
 *   (the CLI, module set-up) leaves the heap sooner. Why now: with the
 *   process nodes updated in place (docs/probe.md "Memory", item 17) a pass
 *   no longer sets off a major collection of its own, so there is about one
 *   per interval (the HeapSettler's) instead of two, and that bytecode stayed
 *   twice as long: the heap after the settling collection was 0.7-0.9 MB
 *   larger (heap snapshots: 889 more BytecodeArrays and their constant pools
 *   and position tables). Code the passes run is run between any two
 *   collections, so it keeps its bytecode. Read at each collection, so
 *   setting it here works (measured: 11.3 → 10.3-10.5 MB of heap before a
 *   pass).
 *
 * Only the probe subcommand's process sets them, not the other subcommands
 * sharing the binary.
 */
export const PROBE_V8_FLAGS = ['--liftoff-only', '--semi-space-growth-factor=1', '--no-opt', '--no-sparkplug', '--optimize-for-size', '--bytecode-old-age=2'] as const;

/**
 * `--predictable`, set at run time, and only in a process started with PROBE_NODE_FLAGS.
 *
 * Why: V8 shrinks the young generation after a scavenge when the recent allocation rate is low,
 * giving back its from-space (`madvise(MADV_DONTNEED)` on its 256 KB pages), and the probe, idle
 * between passes, is always "low": each scavenge of a pass gave back the 1 MB semi-space the next
 * one touched again, about 3,000 page faults per full pass (~200 a second, 11-12 µs each on the
 * bench machine: a quarter of the probe's kernel time and 20-30 ms of each pass). V8 skips that
 * shrinking in predictable mode and nothing else turns it off. Measured with bench/probe.ts, same
 * run, 120 s each: 203 → 22 faults a second, CPU 1.29 → 1.13 % of a core, full collection mean
 * 107.1 → 84.2 ms. The cost is memory: the from-space stays resident, and the peak RSS (VmHWM)
 * was 60.3 against 59.9 MB (60.3-60.8 MB over six runs; docs/probe.md "Memory", item 20).
 *
 * Why at run time and not on the command line: `--predictable` given at start fixes V8's random
 * seed (`--random-seed=12347`), so every probe would draw the same Math.random sequence and the
 * same string-hash seed. Set after start, the seeds are already drawn at random. Its other
 * implications (GC on one thread, no concurrent recompilation, no memory reducer) must already
 * hold when it is set, or V8 aborts at the next collection (seen: a `Check failed` in cppgc's
 * marker): PROBE_NODE_FLAGS gives them at start, and this is set only when they are all there.
 */
export const PROBE_RUNTIME_PREDICTABLE = '--predictable';

/** The V8 flags to set at run time for a process started with `execArgv`. */
export function probeV8Flags(execArgv: readonly string[] = process.execArgv): string[] {
  const started = PROBE_NODE_FLAGS.every((f) => execArgv.includes(f));
  return [...PROBE_V8_FLAGS, ...(started ? [PROBE_RUNTIME_PREDICTABLE] : [])];
}

/** Sets the probe's V8 flags (see probeV8Flags); returns them. */
export function applyProbeV8Flags(execArgv: readonly string[] = process.execArgv): string[] {
  const flags = probeV8Flags(execArgv);
  for (const f of flags) setFlagsFromString(f);
  return flags;
}

/**
 * Node options only the command line or `NODE_OPTIONS` can set (each is one
 * Node 20 accepts in NODE_OPTIONS; `--min-semi-space-size` is not, and is
 * not needed with the maximum at 1):
 *
 * - `--max-semi-space-size=1`: the young generation is 1 MB from the start;
 *   without it, loading the probe's code grows it to 4 MB (8 MB of semi-spaces
 *   committed) before the probe's own flag can stop the growth, and the first
 *   pass runs with that.
 * - `--v8-pool-size=1`: one V8 worker thread instead of one per core (4 here)
 *   for concurrent marking, sweeping and compiling; each thread touches a
 *   stack and gets its own malloc arena.
 * - `--expose-gc`: the HeapSettler's collection without the extra V8 context
 *   (about 0.7 MB) that it needs to reach `gc` otherwise.
 */
export const PROBE_NODE_OPTIONS = ['--max-semi-space-size=1', '--v8-pool-size=1', '--expose-gc'] as const;

/**
 * Node options that only the command line can set (Node 20 refuses them in NODE_OPTIONS): the
 * DaemonSet starts the probe as `node <these> cli.js probe`, and bench/probe.ts's `deployed`
 * variant does the same.
 *
 * - `--no-memory-reducer`: V8's memory reducer compacted the first pass's garbage about 11 s
 *   after the start, and while it copied the live objects both copies were resident: the run's
 *   highest RSS in most runs. The settling collection after each pass (HeapSettler) already
 *   returns what a pass leaves. Same run, 120 s, deployed both (1,005 extra processes, 2,000
 *   connections, 20 containers): VmHWM 59.9 against 60.9 MB, CPU 1.44 against 1.41 % of a
 *   core; a 50 s run before it: 59.9 against 60.6 MB. Setting it at run time does nothing.
 * - `--single-threaded-gc`, `--no-concurrent-recompilation`: with `--no-memory-reducer`, what
 *   `--predictable` implies, so that it can be set at run time (PROBE_RUNTIME_PREDICTABLE). One GC
 *   thread suits a 10 MB heap (`--v8-pool-size=1` already gave V8 one helper); the probe runs
 *   without TurboFan (`--no-opt`), so there is nothing to recompile concurrently.
 */
export const PROBE_NODE_FLAGS = ['--no-memory-reducer', '--single-threaded-gc', '--no-concurrent-recompilation'] as const;

/**
 * The environment the probe is deployed with (NODE_OPTIONS above, then glibc
 * and libuv settings read at process start):
 *
 * - `MALLOC_ARENA_MAX=1`: every thread allocates from the main arena instead
 *   of one arena per thread (each a 64 MB reservation with its own resident,
 *   partly free pages).
 * - `MALLOC_MMAP_THRESHOLD_` / `MALLOC_TRIM_THRESHOLD_` at 64 KiB: glibc's
 *   default raises the mmap threshold as large blocks are freed (up to 32 MB),
 *   so V8's compile zones and the gzip state of a report end up in the brk
 *   heap, which only shrinks from its top; with a fixed threshold those blocks
 *   are mapped and returned when freed, and free space at the top of the heap
 *   is trimmed sooner. Measured: the brk heap 6.6 → 3.7 MB.
 * - `UV_THREADPOOL_SIZE=2`: libuv's pool runs the probe's gzip of each report
 *   and DNS lookups of app host names; 2 threads instead of 4, so one slow
 *   lookup does not hold up the gzip.
 */
export const PROBE_PROCESS_ENV: Readonly<Record<string, string>> = Object.freeze({
  NODE_OPTIONS: PROBE_NODE_OPTIONS.join(' '),
  MALLOC_ARENA_MAX: '1',
  MALLOC_MMAP_THRESHOLD_: '65536',
  MALLOC_TRIM_THRESHOLD_: '65536',
  UV_THREADPOOL_SIZE: '2',
});

/** Time after a pass of the interval before the settling collection: the report's gzip and POST and the container stats started after the pass make their garbage in it. */
export const SETTLE_DELAY_MS = 2_000;

type Collect = () => void;

/**
 * `gc` when the process was started with `--expose-gc` (PROBE_PROCESS_ENV);
 * otherwise the flag is set now and `gc` taken from a new V8 context, the
 * only place V8 installs it once the process runs (that context stays alive
 * with the function: about 0.7 MB, less than the collection saves).
 */
function findCollect(): Collect {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as Collect;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as Collect;
}

/**
 * A major garbage collection SETTLE_DELAY_MS after each pass of the interval.
 *
 * Why: the young generation is kept at 1 MB for RSS, so most of what a pass
 * builds lives through a few scavenges and is promoted to the old generation,
 * where it stays as garbage until a mark-compact. V8 schedules that by the
 * old generation's growth, which on the probe's steady heap (about 12 MB live)
 * let each pass's garbage pile up for several passes: the floor between
 * passes rose pass after pass and each pass's peak with it. Collecting once
 * the pass's work is done brings the old generation back to what is live
 * before the next pass starts; V8 frees the emptied pages. Cost: one
 * collection of about 12 MB every interval (a few ms of CPU per 15 s).
 */
export class HeapSettler {
  private timer: NodeJS.Timeout | null = null;
  private collect: Collect | null = null;

  constructor(private readonly delayMs = SETTLE_DELAY_MS) {}

  /** Schedules the collection; a pass that ends before it runs pushes it back. */
  afterPass(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.settleNow();
    }, this.delayMs);
    // Never the reason the process stays alive.
    this.timer.unref();
  }

  /** A major collection now (the probe's start, before its first pass). */
  settleNow(): void {
    this.collect ??= findCollect();
    this.collect();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

/**
 * `YYYY-MM-DDTHH:MM:SS.mmmZ` for epoch ms, the same text as
 * `Date#toISOString`, from the UTC getters only. Why not toISOString: V8 11
 * looks up the host's time zone through ICU when it formats a date even as
 * UTC (toISOString, toUTCString, JSON of a Date), which maps about 0.9 MB of
 * ICU data and code into the process; the UTC getters need no time zone.
 */
export function isoTimeUtc(ms: number): string {
  const d = new Date(ms);
  const msPart = d.getUTCMilliseconds();
  return (
    `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}` +
    `T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${msPart < 100 ? (msPart < 10 ? '00' : '0') : ''}${msPart}Z`
  );
}

/** The probe logger's pino `timestamp`: ISO time like pino's isoTime, without the time-zone lookup (isoTimeUtc). */
export const probeLogTime = (): string => `,"time":"${isoTimeUtc(Date.now())}"`;
