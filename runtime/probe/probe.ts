/**
 * The probe's collection loop.
 *
 * - A pass over all collectors every `intervalMs` (default 15 s). They run
 *   concurrently: the container engine and the API server answer while the
 *   /proc walk runs; a collector that reads another's result of the same pass
 *   waits for it (`PassContext.settled`). Every `fullEvery`th pass (default 4)
 *   sends a full report; the passes between send the delta against the last
 *   full report, its changed nodes as patches, even when empty (it also says
 *   the probe is alive). Why: a live host changes by its metric samples, and a
 *   full report every interval made the app parse and merge every node of it
 *   again (docs/probe.md, "Deltas between full reports").
 * - Delta reports in between when something asks for one (`trigger`, e.g. the
 *   container collector on an engine event): only the named collectors run, the
 *   others' fragments from the last pass are reused, and the delta against the
 *   last full report is emitted if it is not empty.
 * - The last full report is kept as its nodes' member texts (DeltaBase), not as
 *   the report: collectors update their nodes in place between passes.
 * - Passes never overlap; a pass that overruns the interval delays the next,
 *   it does not pile up.
 * - Collection never waits on the network: each report goes to `sink`, which
 *   must return at once (the publisher enqueues; see ReportSink).
 * - A collector that throws or hangs is contained by its `CollectorRunner`: the
 *   report names it with a code and message, and it is retried with backoff.
 */
import {
  TOPOLOGY_NAMES,
  emptyTopologies,
  isEmptyDelta,
  mergeNodes,
  REPORT_VERSION,
  DeltaBase,
  type CollectorError,
  type DeltaReport,
  type FullReport,
  type Report,
  type ReportNode,
} from '../report';
import type { Collector, Fragment, PassContext, ProbeIdentity } from './collector';
import { CollectorRunner, type BackoffPolicy } from './runner';

/**
 * Where reports go. Called synchronously after each pass; it must not block
 * (the publisher queues and sends in the background) and should not throw
 * (a throw is logged and the report is dropped). A sink that reads the report
 * later (the publisher encodes it over several turns of the event loop)
 * returns a promise that settles when it is done with the report object: a
 * probe with `reuseNodes` updates no node in place while one is pending. Any
 * other value returned is ignored.
 */
export type ReportSink = (report: Report) => unknown;

/** Timings of one pass, for the probe's own metrics. */
export interface PassStats {
  /** The report the pass made. */
  kind: 'full' | 'delta';
  /** A pass of the interval (every collector), or one an event asked for (`trigger`, `deltaPass`). */
  trigger: 'interval' | 'event';
  seq: number;
  /** Wall time from the pass's start until its report is assembled (before it goes to the sink). */
  durationMs: number;
  /**
   * CPU time (user + system) of the probe process over the same span: the
   * collectors' own work, plus whatever else the process did meanwhile (a
   * metrics scrape, a publish). Next to `durationMs` it tells waiting (for
   * the engine, for the CPU on a busy host) from working.
   */
  cpuMs: number;
  collectors: { name: string; ran: boolean; ok: boolean; durationMs: number }[];
}

/** The subset of a pino logger the probe uses. */
export interface ProbeLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  /** Optional: one line per pass with its timings (`LOG_LEVEL=debug`; bench/probe.ts reads them). */
  debug?(obj: object, msg: string): void;
}

export interface ProbeOptions {
  identity: ProbeIdentity;
  /** Run on every pass (concurrently); their fragments merge in this order. */
  collectors: Collector[];
  sink: ReportSink;
  /** Time between passes. */
  intervalMs?: number;
  /**
   * Every how many passes of the interval the report is a full one; the passes between send a
   * delta against it. 1: every pass a full report. Default 4 (DEFAULT_FULL_EVERY).
   */
  fullEvery?: number;
  /** Longest a collector may take in one pass. Default: the interval, at most 10 s. */
  collectorTimeoutMs?: number;
  backoff?: BackoffPolicy;
  /** Delay that gathers several triggers into one delta pass. */
  triggerDelayMs?: number;
  clock?: () => number;
  logger?: ProbeLogger;
  onPass?: (stats: PassStats) => void;
  /**
   * Let collectors update their nodes of the last full report in place
   * (PassContext.reuseNodes) in a full pass of the running loop (`start`)
   * when nothing still reads an earlier report: every promise the sink
   * returned has settled, and no report went to a caller of `fullPass` or
   * `deltaPass`, who may keep it (the first full pass after one makes every
   * node anew). So a report the probe emitted never changes while anyone
   * said they read it. Default false (every pass makes new nodes): only the
   * probe command's sinks, which say when they are done, set it. Why: see
   * ProcessesCollector.collect.
   */
  reuseNodes?: boolean;
}

export const DEFAULT_INTERVAL_MS = 15_000;
/**
 * A full report every 4th pass: a minute at the default interval. What the app gains is most of
 * it at 4 (3 passes in 4 are deltas); a full report also bounds how long a text comparison that
 * went wrong could go unnoticed. An app that lost the base (restarted) asks for a full report at
 * once (409, then the publisher's resync), so this is not how long it waits.
 */
export const DEFAULT_FULL_EVERY = 4;

export class Probe {
  private readonly runners: CollectorRunner[];
  private readonly intervalMs: number;
  private readonly fullEvery: number;
  private readonly clock: () => number;
  private seq = 0;
  /** What deltas are computed against: the texts of the last full report; null before the first, and during a full pass. */
  private base: DeltaBase | null = null;
  /** Passes of the interval since the last full report (deltas sent). */
  private deltasSinceFull = 0;
  private readonly fragments = new Map<string, { fragment: Fragment | null; errors: CollectorError[] }>();
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private triggerTimer: NodeJS.Timeout | null = null;
  private readonly triggered = new Set<string>();
  private running = false;
  private readonly failing = new Set<string>();
  /** Promises returned by the sink for emitted reports, not yet settled. */
  private holding = 0;
  /** The last pass's report went to a caller (fullPass, deltaPass), who may keep it. */
  private exposed = false;

  constructor(private readonly opts: ProbeOptions) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.fullEvery = opts.fullEvery ?? DEFAULT_FULL_EVERY;
    if (!Number.isInteger(this.fullEvery) || this.fullEvery < 1) throw new RangeError(`fullEvery must be a whole number of passes, at least 1; got ${opts.fullEvery}`);
    this.clock = opts.clock ?? Date.now;
    const timeoutMs = opts.collectorTimeoutMs ?? Math.min(this.intervalMs, 10_000);
    this.runners = opts.collectors.map(
      (c) => new CollectorRunner(c, { probeId: opts.identity.probeId, timeoutMs, ...(opts.backoff ? { backoff: opts.backoff } : {}) }),
    );
  }

  /** Runs a full pass, emits it to the sink, and returns it. */
  fullPass(): Promise<FullReport> {
    return this.serialize(() => this.collectFull(true));
  }

  /**
   * Runs the named collectors (all when omitted), and emits and returns the
   * delta against the last full report; null when nothing changed. Before the
   * first full report this is a full pass.
   */
  deltaPass(collectors?: readonly string[]): Promise<Report | null> {
    return this.runDelta(collectors, true);
  }

  /** `external`: the report goes back to a caller (see ProbeOptions.reuseNodes). */
  private runDelta(collectors: readonly string[] | undefined, external: boolean): Promise<Report | null> {
    return this.serialize(async () => {
      if (this.base === null) return this.collectFull(external);
      const delta = await this.collectDelta(collectors);
      if (external && delta !== null) this.exposed = true;
      return delta;
    });
  }

  /**
   * Asks for a delta report soon, re-running `collector` (by name). Triggers
   * arriving within `triggerDelayMs` share one pass. The plug point for event
   * sources such as the container engine's event stream.
   */
  trigger(collector: string): void {
    this.triggered.add(collector);
    if (this.triggerTimer !== null) return;
    this.triggerTimer = setTimeout(() => {
      this.triggerTimer = null;
      const names = [...this.triggered];
      this.triggered.clear();
      this.runDelta(names, false).catch(() => undefined);
    }, this.opts.triggerDelayMs ?? 50);
  }

  /** Starts the loop: a pass now (a full report), then one per interval. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = (): void => {
      const started = performance.now();
      let stamped: number | null = null;
      this.serialize<Report>(() => (this.base === null || this.deltasSinceFull + 1 >= this.fullEvery ? this.collectFull(false) : this.collectIntervalDelta()))
        .then((report) => {
          stamped = report.timestamp;
        })
        .catch(() => undefined)
        .finally(() => {
          if (!this.running) return;
          // The next pass is timed from this report's own timestamp, so two
          // reports' timestamps are never closer than the interval even when
          // the process was descheduled between the tick and the pass taking
          // its clock reading (seen at 14 ms on a busy 2-core CI machine).
          // A failed pass has no timestamp: then from the tick.
          const elapsed = stamped === null ? performance.now() - started : this.clock() - stamped;
          const wait = Math.min(this.intervalMs, Math.max(0, this.intervalMs - elapsed));
          this.timer = setTimeout(tick, wait);
        });
    };
    tick();
  }

  /** Stops the loop, waits for a pass in progress, and closes the collectors. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.triggerTimer) clearTimeout(this.triggerTimer);
    this.timer = this.triggerTimer = null;
    await this.queue.catch(() => undefined);
    for (const r of this.runners) await r.collector.close?.().catch(() => undefined);
  }

  private serialize<T>(job: () => Promise<T>): Promise<T> {
    const next = this.queue.then(job, job);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runCollectors(only: ReadonlySet<string> | null, now: number, kind: PassContext['kind'], reuseNodes = false): Promise<PassStats['collectors']> {
    const selected = this.runners.filter((r) => only === null || only.has(r.name));
    // Every collector of the pass starts at once; the order of `collectors`
    // only decides whose fragment merges first. One that needs another's
    // result of this pass awaits `settled(name)` (see PassContext).
    const done = new Map<string, Promise<void>>();
    const finish = new Map<string, () => void>();
    for (const r of selected) done.set(r.name, new Promise<void>((resolve) => finish.set(r.name, resolve)));
    const pass: PassContext = { kind, settled: (name) => done.get(name) ?? Promise.resolve() };
    // The loop starts the next pass one interval after this one started (see start()).
    if (kind === 'interval' && this.running) pass.nextPassInMs = this.intervalMs;
    if (reuseNodes) pass.reuseNodes = true;
    const outs = await Promise.all(
      selected.map((runner) =>
        runner.run(now, pass).finally(() => {
          finish.get(runner.name)!();
        }),
      ),
    );
    const stats: PassStats['collectors'] = [];
    selected.forEach((runner, i) => {
      const out = outs[i]!;
      const ok = out.fragment !== null;
      // A failed collector contributes no nodes: stale nodes would be a lie the
      // app cannot tell from the truth. Its error says why they are missing.
      if (out.ran || !ok) this.fragments.set(runner.name, { fragment: out.fragment, errors: out.errors });
      stats.push({ name: runner.name, ran: out.ran, ok, durationMs: out.durationMs });
      this.logTransition(runner.name, ok, out.errors);
    });
    return stats;
  }

  private logTransition(name: string, ok: boolean, errors: CollectorError[]): void {
    const log = this.opts.logger;
    if (!ok && !this.failing.has(name)) {
      this.failing.add(name);
      log?.warn({ collector: name, code: errors[0]?.code, err: errors[0]?.message }, 'collector failing');
    } else if (ok && this.failing.delete(name)) {
      log?.info({ collector: name }, 'collector recovered');
    }
  }

  private assemble(now: number): FullReport {
    const topologies = emptyTopologies();
    const nodes = Object.fromEntries(TOPOLOGY_NAMES.map((t) => [t, topologies[t].nodes as Record<string, ReportNode>]));
    const errors: CollectorError[] = [];
    for (const runner of this.runners) {
      const got = this.fragments.get(runner.name);
      if (!got) continue;
      errors.push(...got.errors);
      if (!got.fragment) continue;
      for (const t of TOPOLOGY_NAMES) {
        const part = got.fragment[t];
        if (!part) continue;
        const into = nodes[t]!;
        for (const id in part) {
          const have = into[id];
          into[id] = have === undefined ? part[id]! : mergeNodes(have, part[id]!);
        }
      }
    }
    const { identity } = this.opts;
    return {
      version: REPORT_VERSION,
      kind: 'full',
      probeId: identity.probeId,
      hostId: identity.hostId,
      seq: ++this.seq,
      timestamp: now,
      topologies,
      errors,
    };
  }

  /** Whether the collectors may update the last pass's nodes in place (ProbeOptions.reuseNodes). */
  private mayReuse(external: boolean): boolean {
    return this.opts.reuseNodes === true && !external && this.running && !this.exposed && this.holding === 0;
  }

  private async collectFull(external: boolean): Promise<FullReport> {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const reuseNodes = this.mayReuse(external);
    // Every collector runs and every fragment is replaced, and the report is
    // assembled anew: keeping the last ones (or the base's texts) through the
    // pass would hold two copies of the host's nodes at its top (the probe's
    // peak memory).
    this.base = null;
    this.fragments.clear();
    const now = this.clock();
    const collectors = await this.runCollectors(null, now, 'interval', reuseNodes);
    const report = this.assemble(now);
    // Taken before the sink sees the report, and before any later pass updates its nodes.
    this.base = DeltaBase.of(report);
    this.deltasSinceFull = 0;
    this.exposed = external;
    this.emit(report, { kind: 'full', trigger: 'interval', seq: report.seq, durationMs: performance.now() - started, cpuMs: cpuMsSince(cpu), collectors });
    return report;
  }

  /** A pass of the interval between full reports: every collector, and the delta against the base, sent even when empty. */
  private async collectIntervalDelta(): Promise<DeltaReport> {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const reuseNodes = this.mayReuse(false);
    this.fragments.clear();
    const now = this.clock();
    const collectors = await this.runCollectors(null, now, 'interval', reuseNodes);
    const delta = this.base!.diff(this.assemble(now));
    this.deltasSinceFull++;
    // Every node is now this pass's (made anew, or updated in place when nothing held the last ones).
    this.exposed = false;
    this.emit(delta, { kind: 'delta', trigger: 'interval', seq: delta.seq, durationMs: performance.now() - started, cpuMs: cpuMsSince(cpu), collectors });
    return delta;
  }

  private async collectDelta(names: readonly string[] | undefined): Promise<DeltaReport | null> {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const now = this.clock();
    const collectors = await this.runCollectors(names ? new Set(names) : null, now, 'event');
    const base = this.base!;
    const delta = base.diff(this.assemble(now));
    if (isEmptyDelta(delta) && sameErrors(base.errors, delta.errors)) {
      this.seq--; // nothing emitted: keep seq gapless
      return null;
    }
    this.emit(delta, { kind: 'delta', trigger: 'event', seq: delta.seq, durationMs: performance.now() - started, cpuMs: cpuMsSince(cpu), collectors });
    return delta;
  }

  private emit(report: Report, stats: PassStats): void {
    try {
      const held = this.opts.sink(report) as PromiseLike<unknown> | null | undefined;
      if (held != null && typeof held.then === 'function') {
        this.holding++;
        const done = (): void => {
          this.holding--;
        };
        held.then(done, done);
      }
    } catch (err) {
      this.opts.logger?.warn({ err: (err as Error).message, seq: report.seq }, 'report sink threw; report dropped');
    }
    this.opts.onPass?.(stats);
    this.opts.logger?.debug?.(
      { pass: stats.kind, trigger: stats.trigger, seq: stats.seq, durationMs: round1(stats.durationMs), cpuMs: round1(stats.cpuMs), collectors: Object.fromEntries(stats.collectors.filter((c) => c.ran).map((c) => [c.name, round1(c.durationMs)])) },
      'pass',
    );
  }
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function sameErrors(a: readonly CollectorError[], b: readonly CollectorError[]): boolean {
  return a.length === b.length && a.every((e, i) => e.collector === b[i]!.collector && e.code === b[i]!.code && e.count === b[i]!.count);
}
