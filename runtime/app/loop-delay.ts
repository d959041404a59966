/**
 * A thread's event loop delay per scrape interval: how late a timer set for
 * `LOOP_DELAY_RESOLUTION_MS` fired. The front thread measures its own (metrics.ts), the model
 * thread its own (model-thread/service.ts), both read at each scrape.
 *
 * Why not node:perf_hooks `monitorEventLoopDelay`: resetting it (once per scrape) also forgets
 * when its timer last fired, so the first delay after each reset is never recorded: a stall that
 * began within one resolution of a scrape (the scrape's own work, or what ran right after it) was
 * not in any interval. Here the timer keeps its own last firing across resets.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export const LOOP_DELAY_RESOLUTION_MS = 10;
/** The quantiles exported; 1 is the maximum. */
export const LOOP_DELAY_QUANTILES = [0.5, 0.9, 0.99, 1] as const;

export class LoopDelay {
  private readonly h: RecordableHistogram = createHistogram();
  private last = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => {
      const now = performance.now();
      // Nanoseconds between two firings (at least 1: the histogram takes positive integers).
      this.h.record(Math.max(1, Math.round((now - this.last) * 1e6)));
      this.last = now;
    }, LOOP_DELAY_RESOLUTION_MS);
    this.timer.unref();
  }

  /** Seconds late at each of LOOP_DELAY_QUANTILES since the previous call (0 when nothing was sampled), then starts again. */
  take(): number[] {
    const h = this.h;
    const empty = h.count === 0;
    // A sample is the time between two firings: the delay is what goes beyond the resolution.
    const late = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS) / 1000;
    const out = LOOP_DELAY_QUANTILES.map((q) => (empty ? 0 : late(q === 1 ? h.max : h.percentile(q * 100))));
    h.reset();
    return out;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
