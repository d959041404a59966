/**
 * Building report nodes pass after pass without churning them.
 *
 * A `latest` value's `ts` is when the probe first saw that value (not the time
 * of the pass), so a node that did not change is structurally equal to the one
 * of the previous pass, and deltas stay small. Metric rings keep the newest
 * `ring` samples, held flat (`FlatMetric`): `push` makes a new metric each
 * pass (a report never changes once emitted), `update` writes the last one
 * in place when the probe knows no emitted report is read any more
 * (ProbeOptions.reuseNodes).
 */
import type { Latest, LatestValue, Metric, Sample } from '../report';

/** Latest values of one node across passes. */
export class LatestMemory {
  private current: Record<string, Latest> = {};

  /**
   * The latest record for `values` at time `now`: the previous object itself
   * when nothing changed, else a new one where unchanged entries keep their ts.
   * Records are frozen (their entries are never changed either): the probe's
   * delta base keeps them by reference instead of as text (DeltaBase).
   */
  update(values: Readonly<Record<string, LatestValue | undefined>>, now: number, shared?: LatestInterner): Readonly<Record<string, Latest>> {
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
      next[k] = p !== undefined && p.v === v ? p : shared !== undefined ? shared.latest(now, v) : { ts: now, v };
    }
    this.current = Object.freeze(next);
    return this.current;
  }
}

/**
 * One metric as the probe holds it: its samples in one flat array of numbers,
 * `[t0, v0, t1, v1, …]`, oldest first, read as the report's `[ts, value]`
 * pairs.
 *
 * Why not the pairs themselves: a metric of eight samples as pairs is nine
 * arrays (about 620 bytes of heap), flat it is one (176 bytes). A probe keeps
 * the rings of every process (two metrics each): held flat, the bench host's
 * 1,000 processes left about 1 MB less in the heap (docs/probe.md "Memory",
 * item 15), the floor its 60 MB budget stands on.
 *
 * A report carries these objects as they are; what leaves the probe is JSON,
 * and `toJSON` writes the report's form, so the bytes are those of a plain
 * `{ samples: [[ts, value], …] }`. Reading `samples` builds the pairs (tests,
 * `--once`, and the merges and diffs of metrics that are not the same object,
 * which a pass does not do for the probe's own rings).
 */
export class FlatMetric implements Metric {
  /** `[t0, v0, t1, v1, …]`; only the first `#length` entries are samples. */
  readonly #flat: number[];
  #length: number;

  constructor(flat: number[], length = flat.length) {
    this.#flat = flat;
    this.#length = length;
  }

  /** The samples as `[ts, value]` pairs: a new array each time it is read. */
  get samples(): readonly Sample[] {
    const flat = this.#flat;
    const out = new Array<Sample>(this.#length / 2);
    for (let i = 0; i < this.#length; i += 2) out[i / 2] = [flat[i]!, flat[i + 1]!];
    return out;
  }

  /** Number of entries of the flat samples (twice the samples). */
  get flatLength(): number {
    return this.#length;
  }

  /** Entry `i` of the flat samples. */
  flatAt(i: number): number {
    return this.#flat[i]!;
  }

  /**
   * Adds a sample in place (SampleRing.update only): the oldest leave when
   * `size` are held, and a sample not newer than the last ones replaces those
   * at or after its time. Writes doubles into the array it was made with, so
   * in the steady state it allocates nothing.
   */
  write(ts: number, value: number, size: number): void {
    const flat = this.#flat;
    let keep = this.#length;
    while (keep > 0 && flat[keep - 2]! >= ts) keep -= 2;
    const max = Math.max(1, size) * 2;
    if (keep >= max) {
      const drop = keep - max + 2;
      flat.copyWithin(0, drop, keep);
      keep -= drop;
    }
    flat[keep] = ts;
    flat[keep + 1] = value;
    this.#length = keep + 2;
  }

  toJSON(): Metric {
    return { samples: this.samples };
  }
}
// Enumerable like a plain metric's one key, so that a for-in over a metric
// (validateReport counts a metric's keys that way) finds `samples` and nothing else.
Object.defineProperty(FlatMetric.prototype, 'samples', { enumerable: true });

/**
 * The `{ ts, v }` records made during one pass, shared between nodes.
 *
 * Why: a latest record never changes once made, and in one pass many nodes
 * first show the same value at the same time: every process found by the
 * probe's first pass, or started together, with the same parent, name,
 * user, thread count or fd count. Unshared, the heap held about 11,700 of
 * them (0.5 MB with their boxed numbers) on the bench host's 1,000 processes
 * (docs/probe.md "Memory", item 16). `clear` after the pass, so the table
 * holds nothing between passes.
 */
export class LatestInterner {
  private ts = Number.NaN;
  private readonly byValue = new Map<LatestValue, Latest>();

  /** A `{ ts, v }` record, the same object for the same value and time until `clear`. */
  latest(ts: number, v: LatestValue): Latest {
    if (ts !== this.ts) {
      this.byValue.clear();
      this.ts = ts;
    }
    let l = this.byValue.get(v);
    if (l === undefined) {
      l = { ts, v };
      this.byValue.set(v, l);
    }
    return l;
  }

  clear(): void {
    this.byValue.clear();
    this.ts = Number.NaN;
  }
}

/** A bounded ring of samples for one metric. */
export class SampleRing {
  private last: FlatMetric | null = null;
  /** Whether `last` was made by `update` (with the ring's room); a pushed metric is never written in place. */
  private owned = false;

  constructor(private readonly size: number) {}

  /**
   * Adds a sample and returns the metric to report: a new one each call, so
   * a report's metrics never change after it is emitted. A sample not newer
   * than the last ones replaces those at or after its time.
   */
  push(ts: number, value: number): Metric {
    const prev = this.last;
    const prevLength = prev === null ? 0 : prev.flatLength;
    let keep = prevLength;
    while (keep > 0 && prev!.flatAt(keep - 2) >= ts) keep -= 2;
    const size = Math.max(1, this.size) * 2;
    const from = keep >= size ? keep - size + 2 : 0;
    const next = new Array<number>(keep - from + 2);
    for (let i = from; i < keep; i++) next[i - from] = prev!.flatAt(i);
    next[keep - from] = ts;
    next[keep - from + 1] = value;
    this.last = new FlatMetric(next);
    this.owned = false;
    return this.last;
  }

  /**
   * Adds a sample to the metric the last `push` or `update` returned, in
   * place, and returns that same object (the first time, a new one with room
   * for the whole ring). Only for a caller that knows no report it emitted
   * still needs that metric as it was: see ProbeOptions.reuseNodes.
   */
  update(ts: number, value: number): Metric {
    const size = Math.max(1, this.size) * 2;
    let m = this.last;
    if (m === null || !this.owned) {
      // Room for the whole ring from the start, filled with doubles so that
      // the samples written later (timestamps are not small integers) never
      // change the array's element kind, which would copy it.
      const flat: number[] = [];
      for (let i = 0; i < size; i++) flat.push(0.5);
      const n = m === null ? 0 : Math.min(m.flatLength, size);
      const from = m === null ? 0 : m.flatLength - n;
      for (let i = 0; i < n; i++) flat[i] = m!.flatAt(from + i);
      m = new FlatMetric(flat, n);
      this.last = m;
      this.owned = true;
    }
    m.write(ts, value, this.size);
    return m;
  }

  /** The metric as it stands, or null before the first sample. */
  current(): Metric | null {
    return this.last;
  }
}

/**
 * Default number of samples a probe keeps (and reports) per metric: the newest one. The app keeps
 * each metric's history across reports (runtime/app/share.ts); a ring of eight sent seven samples
 * the app already held, in every report: about two thirds of a report's bytes on a host of 1,000
 * processes, encoded, compressed and sent every 15 s.
 */
export const DEFAULT_RING = 1;

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
