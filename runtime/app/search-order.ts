/**
 * The string order of the search index's doc ids as numbers, by doc number: ranking's last
 * tie-break (the smaller id first, search.ts) compares two numbers instead of two docs' ids.
 *
 * Why: a broad query ties thousands of docs (a one-letter prefix matches 54,000 of 61,000 at
 * 1,000 probes, most with one score and label length), and its ties are broken by id. Each
 * comparison read a Doc and its id string, two objects scattered over the heap; a query every
 * 100 ms finds them out of the CPU's caches, and those reads were the largest part of a search in
 * the app (docs/app.md, "Round 14").
 *
 * How: `sorted` holds the ids in order as of the last rebuild, and a doc there has its index as
 * its key. An id added since is given its place between two of them (index − ½ of the first id
 * after it), so ids added between the same two share a key, and `compare` falls back to the
 * strings for them alone. A removed id stays in `sorted` as a neighbour for those places (a ghost).
 * When the ids added and removed since the last rebuild reach an eighth of the index (at least
 * `MIN_REBUILD`), the added ones are sorted and merged into `sorted` without its ghosts: a linear
 * pass, not a sort of every id. Keys are then every doc's index again.
 *
 * Keys only ever order: equal keys say nothing, so `compare` is the string order whatever the
 * state (test/app/search-order.test.ts).
 */
export class IdOrder {
  /** Doc number → key (see the class comment). The ranking reads it through `compare`; public for its test. */
  keys = new Float64Array(1024);
  /** Doc number → id, for the ties that keys leave. */
  private readonly ids: Array<string | undefined> = [];
  /** Ids in string order as of the last rebuild (ghosts included). */
  private sorted: string[] = [];
  /** The doc number of each id in `sorted`; -1 for a ghost. */
  private sortedNums: number[] = [];
  /** Doc numbers added since the last rebuild. */
  private pending: number[] = [];
  private ghosts = 0;

  constructor(private readonly minRebuild = MIN_REBUILD) {}

  /** Gives doc `num` its place (`num` is not in use). */
  add(num: number, id: string): void {
    if (num >= this.keys.length) this.grow(num + 1);
    this.ids[num] = id;
    const at = this.firstNotBefore(id);
    // An id equal to a ghost's takes its key: no live doc holds it.
    this.keys[num] = at < this.sorted.length && this.sorted[at] === id ? at : at - 0.5;
    this.pending.push(num);
    this.rebuildIfDue();
  }

  /** Takes doc `num` out (its number may be given to another id). */
  remove(num: number): void {
    const id = this.ids[num];
    if (id === undefined) return;
    this.ids[num] = undefined;
    // In `sorted` under its own number, or else added since (a ghost of its id has -1, not `num`):
    // the binary search first, as most docs removed were there at the last rebuild.
    const at = this.firstNotBefore(id);
    if (this.sortedNums[at] === num) {
      this.sortedNums[at] = -1;
      this.ghosts++;
      this.rebuildIfDue();
      return;
    }
    const p = this.pending.indexOf(num);
    if (p >= 0) {
      this.pending[p] = this.pending[this.pending.length - 1]!;
      this.pending.pop();
    }
  }

  /** Negative when doc `a`'s id sorts before doc `b`'s, positive after, 0 for the same doc. */
  compare(a: number, b: number): number {
    const ka = this.keys[a]!;
    const kb = this.keys[b]!;
    if (ka !== kb) return ka - kb;
    const ia = this.ids[a]!;
    const ib = this.ids[b]!;
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  }

  /** The first index of `sorted` whose id is not before `id` (its length when none). */
  private firstNotBefore(id: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private rebuildIfDue(): void {
    const live = this.sorted.length - this.ghosts + this.pending.length;
    if (this.pending.length + this.ghosts >= Math.max(this.minRebuild, live >> 3)) this.rebuild();
  }

  /** Merges the pending ids into `sorted`, drops the ghosts, and makes every key an index again. */
  private rebuild(): void {
    const ids = this.ids;
    const added = this.pending.sort((a, b) => (ids[a]! < ids[b]! ? -1 : 1));
    const sorted: string[] = [];
    const nums: number[] = [];
    let j = 0;
    const put = (num: number): void => {
      this.keys[num] = sorted.length;
      sorted.push(ids[num]!);
      nums.push(num);
    };
    for (let i = 0; i < this.sorted.length; i++) {
      const num = this.sortedNums[i]!;
      if (num < 0) continue;
      const id = this.sorted[i]!;
      while (j < added.length && ids[added[j]!]! < id) put(added[j++]!);
      put(num);
    }
    while (j < added.length) put(added[j++]!);
    this.sorted = sorted;
    this.sortedNums = nums;
    this.pending = [];
    this.ghosts = 0;
  }

  private grow(n: number): void {
    const keys = new Float64Array(capacityFor(this.keys.length, n));
    keys.set(this.keys);
    this.keys = keys;
  }
}

/** The length an array indexed by doc number grows to from `length` to hold `n` entries: doubled until it does. */
export function capacityFor(length: number, n: number): number {
  let size = length;
  while (size < n) size *= 2;
  return size;
}

/** Rebuilds wait for at least this many ids added and removed (an eighth of the index above 2,048). */
const MIN_REBUILD = 256;
