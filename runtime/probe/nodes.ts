/**
 * Building report nodes pass after pass without churning them.
 *
 * A `latest` value's `ts` is when the probe first saw that value (not the time
 * of the pass), so a node that did not change is structurally equal to the one
 * of the previous pass, and deltas stay small. Metric rings keep the newest
 * `ring` samples; each pass makes a new array (reports are immutable once
 * emitted) sharing the sample tuples.
 */
import type { Latest, LatestValue, Metric, Sample } from '../report';

/** Latest values of one node across passes. */
export class LatestMemory {
  private current: Record<string, Latest> = {};

  /**
   * The latest record for `values` at time `now`: the previous object itself
   * when nothing changed, else a new one where unchanged entries keep their ts.
   */
  update(values: Readonly<Record<string, LatestValue | undefined>>, now: number): Readonly<Record<string, Latest>> {
    const prev = this.current;
    let changed = false;
    let n = 0;
    for (const k in values) {
      const v = values[k];
      if (v === undefined) continue;
      n++;
      const p = prev[k];
      if (p === undefined || p.v !== v) {
        changed = true;
        break;
      }
    }
    if (!changed && n === Object.keys(prev).length) return prev;
    const next: Record<string, Latest> = {};
    for (const k in values) {
      const v = values[k];
      if (v === undefined) continue;
      const p = prev[k];
      next[k] = p !== undefined && p.v === v ? p : { ts: now, v };
    }
    this.current = next;
    return next;
  }
}

/** A bounded ring of samples for one metric. */
export class SampleRing {
  private samples: readonly Sample[] = [];

  constructor(private readonly size: number) {}

  /** Adds a sample and returns the metric to report (a new array each call). */
  push(ts: number, value: number): Metric {
    const s: Sample = [ts, value];
    const prev = this.samples;
    const keep = prev.length > 0 && prev[prev.length - 1]![0] >= ts ? prev.filter((p) => p[0] < ts) : prev;
    // One new array per push (thousands per pass: one per process and metric).
    const size = Math.max(1, this.size);
    const from = keep.length >= size ? keep.length - size + 1 : 0;
    const next = new Array<Sample>(keep.length - from + 1);
    for (let i = from; i < keep.length; i++) next[i - from] = keep[i]!;
    next[keep.length - from] = s;
    this.samples = next;
    return { samples: next };
  }

  /** The metric as it stands, or null before the first sample. */
  current(): Metric | null {
    return this.samples.length > 0 ? { samples: this.samples } : null;
  }
}

/** Default number of samples a probe keeps per metric: two minutes at the default interval. */
export const DEFAULT_RING = 8;

/** Rounds to two decimals: enough for percentages and load, and it keeps reports short. */
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** `LatestMemory` per node id, forgetting the nodes not updated since the previous `sweep`. */
export class LatestMemories {
  private memories = new Map<string, LatestMemory>();
  private touched = new Set<string>();

  update(id: string, values: Readonly<Record<string, LatestValue | undefined>>, now: number): Readonly<Record<string, Latest>> {
    let m = this.memories.get(id);
    if (m === undefined) {
      m = new LatestMemory();
      this.memories.set(id, m);
    }
    this.touched.add(id);
    return m.update(values, now);
  }

  sweep(): void {
    for (const id of this.memories.keys()) if (!this.touched.has(id)) this.memories.delete(id);
    this.touched = new Set();
  }
}
