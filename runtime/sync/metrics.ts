/**
 * The engine's Prometheus metrics, in a registry of its own (several engines
 * in one process, as in tests, never share counters), plus a ring of recent
 * lag samples for the status endpoint's percentiles.
 *
 * Lag is exported twice (the names are shared with the constructs through
 * runtime/common/telemetry.ts):
 *
 * - `zk_sync_lag_ms{direction}`, a Gauge: the current lag, what the alert
 *   `ZkSyncLagHigh`, the dashboards and `zkSyncLag` read. At each scrape it is
 *   the larger of
 *     - the lag of the most recent applied change in that direction, held for
 *       `lagHoldMs` (30 s: two of the default 15 s scrape intervals, so every
 *       change's lag is scraped at least once) and then decaying to 0 when no
 *       newer change was applied, and
 *     - the age of the oldest change seen but not applied yet (a stuck or
 *       paused pipeline makes the gauge climb instead of reading 0).
 *   So an idle engine reads 0, one slow change in an idle engine cannot keep
 *   the alert (`for: 2m`) firing, sustained lag keeps renewing the value, and a
 *   backlog that does not drain raises it. What it cannot see: changes made on
 *   a side while the engine is disconnected from it (no events arrive; the
 *   phase gauge reads `resyncing` and the reconnect is counted).
 * - `zk_sync_lag_seconds{direction}`, a Histogram (`_bucket`, `_sum`,
 *   `_count`): the distribution of every applied change's lag, in seconds.
 *
 * Every labelled counter whose labels the queries read exists at 0 from
 * startup (prom-client creates a labelled series only on its first `inc`,
 * `labels()` alone does not): errors for every error code, reconnects and
 * session expiries for both sides, synced nodes for each direction the engine
 * replicates and conflicts for its strategy.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SYNC_ERROR_CODES } from './errors';

export const PHASES = ['connecting', 'snapshot', 'streaming', 'resyncing', 'stopped', 'failed'] as const;
export type Phase = (typeof PHASES)[number];

export const DIRECTIONS = ['source-to-target', 'target-to-source'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const SIDES = ['source', 'target'] as const;

/** How long the lag of the last applied change stays in `zk_sync_lag_ms` without a newer one. */
export const LAG_HOLD_MS = 30_000;

export interface SyncMetricsOptions {
  /** @default LAG_HOLD_MS */
  lagHoldMs?: number;
  /** Clock in ms (tests). @default Date.now */
  now?: () => number;
}

export class SyncMetrics {
  readonly registry = new Registry();
  /** Current lag in ms (see the module comment); computed at each scrape. */
  readonly lag: Gauge<'direction'> = new Gauge({
    name: 'zk_sync_lag_ms',
    help: 'Current replication lag in ms: the lag of the most recent applied change (held 30 s, then 0 when idle), or the age of the oldest unapplied change if larger',
    labelNames: ['direction'],
    registers: [this.registry],
    collect: () => this.refreshLag(),
  });
  /** Every applied change's lag, in seconds. */
  readonly lagSeconds = new Histogram({
    name: 'zk_sync_lag_seconds',
    help: 'Time from a change on one side to its write acknowledged on the other, in seconds',
    labelNames: ['direction'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly synced = new Counter({ name: 'zk_synced_nodes_total', help: 'Znode changes applied, by direction', labelNames: ['direction'], registers: [this.registry] });
  readonly conflicts = new Counter({ name: 'zk_conflict_count_total', help: 'Conflicts detected, by strategy', labelNames: ['strategy'], registers: [this.registry] });
  readonly errors = new Counter({ name: 'zk_sync_errors_total', help: 'Errors, by kind (error code)', labelNames: ['kind'], registers: [this.registry] });
  readonly reconnects = new Counter({ name: 'zk_sync_reconnects_total', help: 'Reconnections after a lost connection, by side', labelNames: ['side'], registers: [this.registry] });
  readonly expiries = new Counter({ name: 'zk_sync_session_expiries_total', help: 'Session expiries, by side', labelNames: ['side'], registers: [this.registry] });
  readonly phase = new Gauge({ name: 'zk_sync_phase', help: 'Current phase (1 for the current one)', labelNames: ['phase'], registers: [this.registry] });
  readonly backlog = new Gauge({ name: 'zk_sync_backlog', help: 'Changes seen but not yet applied', registers: [this.registry] });
  readonly openConflicts = new Gauge({ name: 'zk_sync_open_conflicts', help: 'Conflicts kept for manual resolution', registers: [this.registry] });

  private readonly samples = new Float64Array(4096);
  private sampleCount = 0;
  private readonly lagHoldMs: number;
  private readonly now: () => number;
  private readonly directions = new Set<Direction>();
  /** Per direction: the last applied change's lag and when it was applied (ms clock). */
  private readonly lastApplied = new Map<Direction, { ms: number; at: number }>();
  private pendingAge: () => number | undefined = () => undefined;

  constructor(options: SyncMetricsOptions = {}) {
    this.lagHoldMs = options.lagHoldMs ?? LAG_HOLD_MS;
    this.now = options.now ?? Date.now;
    for (const kind of SYNC_ERROR_CODES) this.errors.inc({ kind }, 0);
    for (const side of SIDES) {
      this.reconnects.inc({ side }, 0);
      this.expiries.inc({ side }, 0);
    }
    this.track(['source-to-target']);
  }

  /**
   * Declares the directions the engine replicates (and its conflict strategy):
   * their series exist from now on, at 0 until something happens.
   */
  track(directions: readonly Direction[], strategy?: string): void {
    for (const direction of directions) {
      this.directions.add(direction);
      this.synced.inc({ direction }, 0);
      this.lagSeconds.zero({ direction });
      this.lag.set({ direction }, this.currentLagMs(direction));
    }
    if (strategy !== undefined) this.conflicts.inc({ strategy }, 0);
  }

  /** Age in ms of the oldest change seen but not applied yet (undefined when none). */
  setPendingAge(fn: () => number | undefined): void {
    this.pendingAge = fn;
  }

  observeLag(ms: number, direction: Direction = 'source-to-target'): void {
    const value = Math.max(0, ms);
    if (!this.directions.has(direction)) this.track([direction]);
    this.lagSeconds.observe({ direction }, value / 1000);
    this.lastApplied.set(direction, { ms: value, at: this.now() });
    this.samples[this.sampleCount++ % this.samples.length] = value;
  }

  /** What `zk_sync_lag_ms{direction}` reads now. */
  currentLagMs(direction: Direction): number {
    const last = this.lastApplied.get(direction);
    const held = last !== undefined && this.now() - last.at <= this.lagHoldMs ? last.ms : 0;
    const pending = this.pendingAge() ?? 0;
    return round(Math.max(held, pending));
  }

  private refreshLag(): void {
    for (const direction of this.directions) this.lag.set({ direction }, this.currentLagMs(direction));
  }

  setPhase(p: Phase): void {
    for (const q of PHASES) this.phase.set({ phase: q }, q === p ? 1 : 0);
  }

  /** Percentiles over the most recent lag samples (up to 4096). */
  recentLag(): { count: number; p50: number; p99: number; max: number; last: number } | undefined {
    const n = Math.min(this.sampleCount, this.samples.length);
    if (n === 0) return undefined;
    const sorted = Array.from(this.samples.subarray(0, n)).sort((a, b) => a - b);
    const at = (p: number): number => sorted[Math.min(n - 1, Math.ceil(p * n) - 1)]!;
    const last = this.samples[(this.sampleCount - 1) % this.samples.length]!;
    return { count: this.sampleCount, p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted[n - 1]!), last: round(last) };
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;
