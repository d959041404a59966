/**
 * Three-way decisions for bidirectional sync, as a pure function: given both
 * sides' current state and the per-path baseline (the state both sides had
 * when last equal), decide what to copy where, or that it is a conflict.
 * Identity of a change is the znode's mzxid: it changes on every write and on
 * re-creation, unlike `version`, which restarts at 0.
 */
export type Strategy = 'last-write-wins' | 'source-wins' | 'manual';
export const STRATEGIES: readonly Strategy[] = ['last-write-wins', 'source-wins', 'manual'];

/** One side's state of a path: absent, or present with its data and stat. */
export type SideState = { exists: false } | { exists: true; data: Buffer | null; version: number; mzxid: bigint; mtime: number };

export interface Baseline {
  exists: boolean;
  /** mzxid on each side when last equal (0n when absent). */
  a: bigint;
  b: bigint;
}

export type Decision =
  | { kind: 'in-sync' } // already equal: only the baseline is refreshed
  | { kind: 'copy'; from: 'a' | 'b' }
  | { kind: 'conflict'; winner: 'a' | 'b' | undefined };

export function sameContent(x: SideState, y: SideState): boolean {
  if (!x.exists || !y.exists) return x.exists === y.exists;
  if (x.data === null || y.data === null) return x.data === y.data;
  return x.data.equals(y.data);
}

function unchanged(s: SideState, base: Baseline, side: 'a' | 'b'): boolean {
  if (!s.exists) return !base.exists;
  return base.exists && s.mzxid === base[side];
}

/**
 * `now` stands in for the time of a deletion (ZooKeeper keeps none): a delete
 * detected now is newer than any earlier write.
 */
export function decide(a: SideState, b: SideState, base: Baseline | undefined, strategy: Strategy, now: number): Decision {
  if (sameContent(a, b)) return { kind: 'in-sync' };
  if (base === undefined) {
    // Never seen equal: a path on one side only is new there (not deleted on the other).
    if (!b.exists) return { kind: 'copy', from: 'a' };
    if (!a.exists) return { kind: 'copy', from: 'b' };
  } else {
    const aChanged = !unchanged(a, base, 'a');
    const bChanged = !unchanged(b, base, 'b');
    if (aChanged && !bChanged) return { kind: 'copy', from: 'a' };
    if (bChanged && !aChanged) return { kind: 'copy', from: 'b' };
  }
  return { kind: 'conflict', winner: winner(a, b, strategy, now) };
}

function winner(a: SideState, b: SideState, strategy: Strategy, now: number): 'a' | 'b' | undefined {
  if (strategy === 'manual') return undefined;
  if (strategy === 'source-wins') return 'a';
  const ta = a.exists ? a.mtime : now;
  const tb = b.exists ? b.mtime : now;
  return tb > ta ? 'b' : 'a'; // a tie goes to the source: deterministic on both sides
}
