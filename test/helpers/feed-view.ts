/**
 * A client's view of a topology feed, kept as the UI's store keeps it (runtime/ui/store.ts): a
 * `full` message replaces it, a `delta` adds nodes, merges each update (the members of a node
 * that changed) into the node held and removes ids, a `catchup` adds (upserts) and removes.
 * `snapshot` gives each node's JSON as a full view would carry it, to compare with one.
 */
export type FeedNode = Record<string, unknown> & { id: string };

export class FeedView {
  readonly nodes = new Map<string, FeedNode>();

  /** Applies one feed message; returns the nodes it added or changed, as merged. */
  apply(m: { type: string; nodes?: FeedNode[]; add?: FeedNode[]; update?: FeedNode[]; remove?: string[] }): FeedNode[] {
    if (m.type === 'full') {
      this.nodes.clear();
      for (const n of m.nodes ?? []) this.nodes.set(n.id, n);
      return m.nodes ?? [];
    }
    if (m.type !== 'delta' && m.type !== 'catchup') return [];
    for (const id of m.remove ?? []) this.nodes.delete(id);
    const touched: FeedNode[] = [];
    for (const n of m.add ?? []) {
      this.nodes.set(n.id, n);
      touched.push(n);
    }
    for (const patch of m.update ?? []) {
      const old = this.nodes.get(patch.id);
      if (old === undefined) throw new Error(`an update of ${patch.id}, which the view does not hold`);
      const merged: FeedNode = { ...old, ...patch };
      // A full view leaves `stale` out when false; an update says `"stale":false`.
      if (merged.stale === false) delete merged.stale;
      this.nodes.set(patch.id, merged);
      touched.push(merged);
    }
    return touched;
  }

  /** id → the node's JSON (members in the order the full view gives them). */
  snapshot(): Map<string, string> {
    return new Map([...this.nodes].map(([id, n]) => [id, JSON.stringify(n)]));
  }
}
