/**
 * A client's view of a topology feed, kept by the UI's own store (runtime/ui/store.ts), so that
 * the tests check the merge the page does: a `full` message replaces the view, a `delta` adds
 * nodes, merges each update (the members of a node that changed) into the node held and removes
 * ids, a `catchup` adds (upserts) and removes. `snapshot` gives each node's JSON as a full view
 * would carry it, to compare with one.
 */
import { ViewStore } from '../../runtime/ui/store';
import type { NodePatch, ViewNode } from '../../runtime/ui/types';

export type FeedNode = Record<string, unknown> & { id: string };

export class FeedView {
  private readonly store = new ViewStore();

  get nodes(): Map<string, FeedNode> {
    return this.store.nodes as unknown as Map<string, FeedNode>;
  }

  /** Applies one feed message; returns the nodes it added or changed, as merged. */
  apply(m: { type: string; nodes?: FeedNode[]; add?: FeedNode[]; update?: FeedNode[]; remove?: string[] }): FeedNode[] {
    if (m.type === 'full') {
      this.store.full((m.nodes ?? []) as unknown as ViewNode[]);
      return m.nodes ?? [];
    }
    if (m.type !== 'delta' && m.type !== 'catchup') return [];
    const update = m.update ?? [];
    // The store ignores an update of a node it does not hold; the feed must never send one.
    for (const p of update) if (!this.store.nodes.has(p.id) || (m.remove ?? []).includes(p.id)) throw new Error(`an update of ${p.id}, which the view does not hold`);
    this.store.delta((m.add ?? []) as unknown as ViewNode[], update as unknown as NodePatch[], m.remove ?? []);
    return [...(m.add ?? []), ...update].map((n) => this.nodes.get(n.id)!);
  }

  /** id → the node's JSON (members in the order the full view gives them; `stale` left out when false, as a full view does). */
  snapshot(): Map<string, string> {
    return new Map([...this.nodes].map(([id, n]) => [id, JSON.stringify(n.stale === false ? { ...n, stale: undefined } : n)]));
  }
}
