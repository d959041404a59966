/**
 * A thread's event loop delay per scrape interval: how late a timer set for
 * `LOOP_DELAY_RESOLUTION_MS` fired (libuv's, node:perf_hooks). The front thread measures its own
 * (metrics.ts), the model thread its own (model-thread/service.ts), both read at each scrape.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export const LOOP_DELAY_RESOLUTION_MS = 10;
/** The quantiles exported; 1 is the maximum. */
export const LOOP_DELAY_QUANTILES = [0.5, 0.9, 0.99, 1] as const;

export class LoopDelay {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });

  constructor() {
    this.h.enable();
  }

  /** Seconds late at each of LOOP_DELAY_QUANTILES since the previous call (0 when nothing was sampled), then starts again. */
  take(): number[] {
    const h = this.h;
    const empty = h.count === 0;
    // Each sample is the time between two wake-ups of the timer: the delay is what goes beyond the resolution.
    const late = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS) / 1000;
    const out = LOOP_DELAY_QUANTILES.map((q) => (empty ? 0 : late(q === 1 ? h.max : h.percentile(q * 100))));
    h.reset();
    return out;
  }

  close(): void {
    this.h.disable();
  }
}
