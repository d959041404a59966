/**
 * Structural sharing for the live model: a report parsed from JSON shares no
 * object and no string with the one before it, although most of a probe's
 * nodes change only by one metric sample per report. `NodeSharer` rebuilds an
 * incoming node from the previous picture of the same node, reusing every
 * sub-object (latest values, metric rings, sample pairs, adjacency, parents,
 * controls) that is structurally equal, and the previous node itself when all
 * are. Strings that repeat across nodes and probes (values, ids in parents and
 * adjacency) go through a bounded intern table.
 *
 * Metric history: a probe sends the samples it took since its last report
 * (one per metric per pass), and the app keeps the history the views draw as
 * sparklines. A ring is the previous picture's samples older than the incoming
 * ones, then the incoming ones, newest `history` kept (but never fewer than
 * the report itself carries). Why here and not in the probe: a probe that sent
 * its whole ring of eight sent seven samples the app already held, in every
 * report (45 % of a report's bytes at the bench's fleet, about two thirds of
 * a probe's on a host of 1,000 processes), parsed and compared again on arrival.
 *
 * Apart from the history carried into a ring, the result is structurally equal
 * to the input (same keys in the same order, same values): only object
 * identity differs. The previous picture is never mutated. The incoming node
 * is reused as the result where it differs: its containers (records, lists,
 * rings) get the previous picture's equal entries written into them in place,
 * rather than being copied into new containers (a ring with history carried
 * into it is the one new array).
 * Equal values only, so its content (and serialisation) stays the same. Why in
 * place: a report parsed from JSON is the app's own, and a copy of each
 * changed node, ring and record per report was allocated and kept besides it
 * (about 70 KB per report at the bench's fleet); the copies survive young-
 * generation GCs and are copied by them, and those pauses were what a search
 * waited behind. A frozen container (an in-process report may be) is copied
 * once instead.
 */
import type { Latest, Metric, ReportNode, Sample } from '../report';

/** Entries kept before the intern table starts over (bounds it under churn of distinct strings). */
const INTERN_MAX = 200_000;
/** Strings longer than this are not interned (command lines of one process, messages). */
const INTERN_MAX_LENGTH = 256;
/** Samples the app keeps per metric of a node by default: two minutes at the probe's default 15 s interval. */
export const METRIC_HISTORY = 8;

export class Interner {
  private table = new Map<string, string>();

  str(s: string): string {
    if (s.length > INTERN_MAX_LENGTH) return s;
    const have = this.table.get(s);
    if (have !== undefined) return have;
    if (this.table.size >= INTERN_MAX) this.table = new Map();
    this.table.set(s, s);
    return s;
  }

  get size(): number {
    return this.table.size;
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** `o` itself when its entries may be written, else a shallow copy (same keys, same order). */
function writable<T extends object>(o: T): Mutable<T> {
  if (!Object.isFrozen(o)) return o as Mutable<T>;
  return (Array.isArray(o) ? o.slice() : { ...o }) as Mutable<T>;
}

export class NodeSharer {
  /** @param history samples kept per metric (see the module's comment); default METRIC_HISTORY */
  constructor(
    private readonly intern: Interner,
    private readonly history = METRIC_HISTORY,
  ) {}

  /** `next` rebuilt to share with `prev` (the same node's previous picture, if any); `prev` itself when equal. */
  node(next: ReportNode, prev: ReportNode | undefined): ReportNode {
    if (next === prev) return next;
    // A member that is the previous picture's own object (a delta's patch left it out: see
    // model.ts, expandPatches) is kept as it is, not compared entry by entry.
    const latest = next.latest === prev?.latest ? next.latest : this.latest(next.latest, prev?.latest);
    const metrics = next.metrics === prev?.metrics ? next.metrics : this.metrics(next.metrics, prev?.metrics);
    const adjacency = next.adjacency === prev?.adjacency ? next.adjacency : this.ids(next.adjacency, prev?.adjacency);
    const parents = next.parents === prev?.parents ? next.parents : this.parents(next.parents, prev?.parents);
    const controls = next.controls === undefined ? undefined : next.controls === prev?.controls ? next.controls : this.controls(next.controls, prev?.controls);
    if (
      prev !== undefined &&
      latest === prev.latest &&
      metrics === prev.metrics &&
      adjacency === prev.adjacency &&
      parents === prev.parents &&
      controls === prev.controls &&
      sameOrder(next, prev)
    ) {
      return prev;
    }
    if (latest === next.latest && metrics === next.metrics && adjacency === next.adjacency && parents === next.parents && controls === next.controls) return next;
    // Existing keys only are written: the key order (serialisations and fingerprints read it) stays.
    const out = writable(next);
    if (latest !== next.latest) out.latest = latest;
    if (metrics !== next.metrics) out.metrics = metrics;
    if (adjacency !== next.adjacency) out.adjacency = adjacency;
    if (parents !== next.parents) out.parents = parents;
    if (controls !== next.controls) out.controls = controls;
    return out;
  }

  private latest(next: ReportNode['latest'], prev: ReportNode['latest'] | undefined): ReportNode['latest'] {
    let out: Mutable<Record<string, Latest>> | null = null;
    let same = prev !== undefined;
    for (const k in next) {
      const x = next[k]!;
      const p = prev !== undefined && hasOwn(prev, k) ? prev[k] : undefined;
      let y: Latest;
      if (x === undefined) y = x;
      else if (p !== undefined && (p === x || (p.ts === x.ts && p.v === x.v))) y = p;
      else if (typeof x.v === 'string') {
        const v = this.intern.str(x.v);
        if (v === x.v) y = x;
        else {
          const w = writable(x);
          w.v = v;
          y = w;
        }
      } else y = x;
      if (y !== x) (out ??= writable(next))[k] = y;
      if (y !== p) same = false;
    }
    if (same && prev !== undefined && sameOrder(next, prev)) return prev;
    return out ?? next;
  }

  private metrics(next: ReportNode['metrics'], prev: ReportNode['metrics'] | undefined): ReportNode['metrics'] {
    let out: Mutable<Record<string, Metric>> | null = null;
    let same = prev !== undefined;
    for (const k in next) {
      const x = next[k]!;
      const p = prev !== undefined && hasOwn(prev, k) ? prev[k] : undefined;
      if (x === undefined) {
        same = false;
        continue;
      }
      const samples = this.samples(x.samples, p?.samples);
      let y: Metric;
      if (p !== undefined && samples === p.samples) y = p;
      else if (samples === x.samples) y = x;
      else {
        const w = writable(x);
        w.samples = samples;
        y = w;
      }
      if (y !== x) (out ??= writable(next))[k] = y;
      if (y !== p) same = false;
    }
    if (same && prev !== undefined && sameOrder(next, prev)) return prev;
    return out ?? next;
  }

  /**
   * The ring: `prev`'s samples older than `next`'s first, then `next`'s, newest `history` kept (all of
   * `next`'s at least). Sample pairs equal to one of the previous ring's are that pair (rings slide:
   * most are). An empty `next` is taken as it is: the probe says the metric has no samples now.
   */
  private samples(next: readonly Sample[], prev: readonly Sample[] | undefined): readonly Sample[] {
    if (prev === undefined || prev.length === 0 || next === prev || next.length === 0) return next;
    const first = next[0]![0];
    let older = 0;
    while (older < prev.length && prev[older]![0] < first) older++;
    const carried = Math.min(older, Math.max(0, this.history - next.length));
    // With history carried, a new ring sized once (pushing onto [] would leave room for twice its
    // samples); without, `next` itself, written only where one of its pairs is replaced.
    let out: Sample[] | null = carried === 0 ? null : new Array<Sample>(carried + next.length);
    for (let i = 0; i < carried; i++) out![i] = prev[older - carried + i]!;
    let j = older;
    for (let i = 0; i < next.length; i++) {
      const s = next[i]!;
      while (j < prev.length && prev[j]![0] < s[0]) j++;
      const p = j < prev.length ? prev[j]! : undefined;
      const y = p !== undefined && p[0] === s[0] && p[1] === s[1] ? p : s;
      if (out !== null || y !== s) (out ??= writable(next as Sample[]))[carried + i] = y;
    }
    const ring = out ?? next;
    if (ring.length !== prev.length) return ring;
    for (let k = 0; k < ring.length; k++) if (ring[k] !== prev[k]) return ring;
    return prev;
  }

  private ids(next: readonly string[], prev: readonly string[] | undefined): readonly string[] {
    if (next.length === 0) return prev !== undefined && prev.length === 0 ? prev : EMPTY;
    if (prev !== undefined && prev.length === next.length) {
      let same = true;
      for (let i = 0; i < next.length; i++) if (next[i] !== prev[i]) same = false;
      if (same) return prev;
    }
    let out: string[] | null = null;
    for (let i = 0; i < next.length; i++) {
      const v = this.intern.str(next[i]!);
      if (v !== next[i]) (out ??= writable(next as string[]))[i] = v;
    }
    return out ?? next;
  }

  private parents(next: ReportNode['parents'], prev: ReportNode['parents'] | undefined): ReportNode['parents'] {
    let out: Partial<Record<string, readonly string[]>> | null = null;
    let same = prev !== undefined;
    for (const k in next) {
      const x = (next as Record<string, readonly string[] | undefined>)[k];
      const p = prev !== undefined ? (prev as Record<string, readonly string[] | undefined>)[k] : undefined;
      // (An in-process report may carry a key with no list; kept as it is.)
      const y = x === undefined ? x : this.ids(x, p);
      if (y !== x) (out ??= writable(next as Partial<Record<string, readonly string[]>>))[k] = y;
      if (y !== p || (x === undefined && prev !== undefined && !hasOwn(prev, k))) same = false;
    }
    if (same && prev !== undefined && sameOrder(next, prev)) return prev;
    return (out ?? next) as ReportNode['parents'];
  }

  private controls(next: NonNullable<ReportNode['controls']>, prev: ReportNode['controls']): NonNullable<ReportNode['controls']> {
    if (prev !== undefined && prev.ts === next.ts && prev.ids.length === next.ids.length && prev.ids.every((id, i) => id === next.ids[i])) return prev;
    return next;
  }
}

const EMPTY: readonly string[] = Object.freeze([]) as readonly string[];

function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/**
 * The same own keys in the same order (records here have no inherited enumerable keys). Called
 * only once every value matched, to return the previous record whole.
 */
function sameOrder(a: object, b: object): boolean {
  const ka = Object.keys(a);
  let i = 0;
  for (const k in b) if (ka[i++] !== k) return false;
  return i === ka.length;
}

