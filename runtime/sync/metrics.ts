/**
 * The engine's Prometheus metrics, in a registry of its own (several engines
 * in one process, as in tests, never share counters), plus a ring of recent
 * lag samples for the status endpoint's percentiles.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const PHASES = ['connecting', 'snapshot', 'streaming', 'resyncing', 'stopped', 'failed'] as const;
export type Phase = (typeof PHASES)[number];

export class SyncMetrics {
  readonly registry = new Registry();
  readonly lag = new Histogram({
    name: 'zk_sync_lag_ms',
    help: 'Time from a change on one side to its write acknowledged on the other, in ms',
    buckets: [0.5, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, 5000],
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

  observeLag(ms: number): void {
    this.lag.observe(ms);
    this.samples[this.sampleCount++ % this.samples.length] = ms;
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
