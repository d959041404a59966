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
 * The result is structurally equal to the input (same keys in the same order,
 * same values): only object identity differs. Nothing is mutated.
 */
import type { Latest, Metric, ReportNode, Sample } from '../report';

/** Entries kept before the intern table starts over (bounds it under churn of distinct strings). */
const INTERN_MAX = 200_000;
/** Strings longer than this are not interned (command lines of one process, messages). */
const INTERN_MAX_LENGTH = 256;

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

export class NodeSharer {
  constructor(private readonly intern: Interner) {}

  /** `next` rebuilt to share with `prev` (the same node's previous picture, if any); `prev` itself when equal. */
  node(next: ReportNode, prev: ReportNode | undefined): ReportNode {
    if (next === prev) return next;
    const latest = this.latest(next.latest, prev?.latest);
    const metrics = this.metrics(next.metrics, prev?.metrics);
    const adjacency = this.ids(next.adjacency, prev?.adjacency);
    const parents = this.parents(next.parents, prev?.parents);
    const controls = next.controls === undefined ? undefined : this.controls(next.controls, prev?.controls);
    if (
      prev !== undefined &&
      latest === prev.latest &&
      metrics === prev.metrics &&
      adjacency === prev.adjacency &&
      parents === prev.parents &&
      controls === prev.controls &&
      sameKeys(next, prev)
    ) {
      return prev;
    }
    if (latest === next.latest && metrics === next.metrics && adjacency === next.adjacency && parents === next.parents && controls === next.controls) return next;
    // Same keys in the same order as `next` (serialisations and fingerprints read the order).
    const out = {} as Mutable<ReportNode>;
    for (const k in next) {
      switch (k) {
        case 'latest':
          out.latest = latest;
          break;
        case 'metrics':
          out.metrics = metrics;
          break;
        case 'adjacency':
          out.adjacency = adjacency;
          break;
        case 'parents':
          out.parents = parents;
          break;
        case 'controls':
          out.controls = controls;
          break;
        default:
          (out as Record<string, unknown>)[k] = (next as unknown as Record<string, unknown>)[k];
      }
    }
    return out;
  }

  private latest(next: ReportNode['latest'], prev: ReportNode['latest'] | undefined): ReportNode['latest'] {
    let out: Record<string, Latest> | null = null;
    let same = prev !== undefined;
    let n = 0;
    const keys = Object.keys(next);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const x = next[k]!;
      const p = prev !== undefined && hasOwn(prev, k) ? prev[k] : undefined;
      let y: Latest;
      if (x === undefined) y = x;
      else if (p !== undefined && (p === x || (p.ts === x.ts && p.v === x.v))) y = p;
      else y = typeof x.v === 'string' ? { ts: x.ts, v: this.intern.str(x.v) } : x;
      if (y !== x && out === null) {
        out = {};
        for (let j = 0; j < i; j++) out[keys[j]!] = next[keys[j]!]!;
      }
      if (out !== null) out[k] = y;
      if (y !== p) same = false;
      n++;
    }
    if (same && prev !== undefined && n === Object.keys(prev).length && sameOrder(keys, prev)) return prev;
    return out ?? next;
  }

  private metrics(next: ReportNode['metrics'], prev: ReportNode['metrics'] | undefined): ReportNode['metrics'] {
    let out: Record<string, Metric> | null = null;
    let same = prev !== undefined;
    const keys = Object.keys(next);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const x = next[k]!;
      const p = prev !== undefined && hasOwn(prev, k) ? prev[k] : undefined;
 if (x === undefined) {
        if (out !== null) out[k] = x;
        same = false;
        continue;
      }
      const samples = this.samples(x.samples, p?.samples);
      const y: Metric = p !== undefined && samples === p.samples ? p : samples === x.samples ? x : { samples };
      if (y !== x && out === null) {
        out = {};
        for (let j = 0; j < i; j++) out[keys[j]!] = next[keys[j]!]!;
      }
      if (out !== null) out[k] = y;
      if (y !== p) same = false;
    }
    if (same && prev !== undefined && keys.length === Object.keys(prev).length && sameOrder(keys, prev)) return prev;
    return out ?? next;
  }

  /** Sample pairs equal to one of the previous ring's are that pair (rings slide: most are). */
  private samples(next: readonly Sample[], prev: readonly Sample[] | undefined): readonly Sample[] {
    if (prev === undefined || prev.length === 0 || next === prev) return next;
    let out: Sample[] | null = null;
    let j = 0;
    let all = next.length === prev.length;
    for (let i = 0; i < next.length; i++) {
      const s = next[i]!;
      while (j < prev.length && prev[j]![0] < s[0]) j++;
      const p = j < prev.length ? prev[j]! : undefined;
      const y = p !== undefined && p[0] === s[0] && p[1] === s[1] ? p : s;
      if (y !== s && out === null) out = next.slice(0, i);
      if (out !== null) out.push(y);
      if (y !== prev[i]) all = false;
    }
    if (all) return prev;
    return out ?? next;
  }

  private ids(next: readonly string[], prev: readonly string[] | undefined): readonly string[] {
    if (next.length === 0) return prev !== undefined && prev.length === 0 ? prev : EMPTY;
    if (prev !== undefined && prev.length === next.length) {
      let same = true;
      for (let i = 0; i < next.length; i++) if (next[i] !== prev[i]) same = false;
      if (same) return prev;
    }
    return next.map((s) => this.intern.str(s));
  }

  private parents(next: ReportNode['parents'], prev: ReportNode['parents'] | undefined): ReportNode['parents'] {
    const out: Partial<Record<string, readonly string[]>> = {};
    let same = prev !== undefined;
    let n = 0;
    for (const k in next) {
      const x = (next as Record<string, readonly string[] | undefined>)[k];
      const p = prev !== undefined ? (prev as Record<string, readonly string[] | undefined>)[k] : undefined;
      // (An in-process report may carry a key with no list; kept as it is.)
      const y = x === undefined ? x : this.ids(x, p);
      out[k] = y;
      if (y !== p || (x === undefined && prev !== undefined && !hasOwn(prev, k))) same = false;
      n++;
    }
    if (same && prev !== undefined && n === Object.keys(prev).length && sameOrder(Object.keys(next), prev)) return prev;
    return out as ReportNode['parents'];
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

function sameOrder(keys: string[], prev: object): boolean {
  let i = 0;
  for (const k in prev) if (keys[i++] !== k) return false;
  return true;
}

function sameKeys(a: object, b: object): boolean {
  const ka = Object.keys(a);
  return sameOrder(ka, b) && ka.length === Object.keys(b).length;
}
