/** The nodes of the view on screen, kept current from the feed, and how they group. */
import type { MetricRow, MetricTail, NodePatch, ViewNode } from './types';

export type Grouping = 'none' | 'host' | 'namespace' | 'image';
export const GROUPINGS: ReadonlyArray<{ id: Grouping; label: string }> = [
  { id: 'host', label: 'Host' },
  { id: 'namespace', label: 'Namespace' },
  { id: 'image', label: 'Image' },
  { id: 'none', label: 'None' },
];

export function meta(n: ViewNode, key: string): string {
  const row = n.metadata.find((m) => m.id === key);
  return row === undefined ? '' : String(row.value);
}

export function groupKey(n: ViewNode, by: Grouping): string {
  switch (by) {
    case 'none':
      return '';
    case 'host': {
      if (n.topology === 'host') return n.label;
      const h = n.parents.find((p) => p.topology === 'host');
      return h ? h.label : '(no host)';
    }
    case 'namespace':
      return meta(n, 'namespace') || '(no namespace)';
    case 'image':
      return meta(n, 'image') || (n.topology === 'container_image' ? n.label : '') || '(no image)';
  }
}

/** running | paused | stopped | stale | '' (no state reported). */
export function stateOf(n: ViewNode): string {
  if (n.stale) return 'stale';
  const s = (meta(n, 'state') || meta(n, 'status') || meta(n, 'phase')).toLowerCase();
  if (s === '') return '';
  if (s === 'paused') return 'paused';
  if (s === 'running' || s === 'restarting' || s === 'pending') return 'running';
  return 'stopped';
}

export class ViewStore {
  readonly nodes = new Map<string, ViewNode>();
  /** Incoming edges, kept for the table, keyboard moves and the graph's edges of a node that (re)appears. */
  readonly incoming = new Map<string, Set<string>>();
  version = 0;

  full(nodes: ViewNode[]): void {
    this.nodes.clear();
    this.incoming.clear();
    for (const n of nodes) {
      this.nodes.set(n.id, n);
      this.link(n);
    }
    this.version++;
  }

  /**
   * Applies a delta; the incoming index changes only for the nodes named (not a pass over the view).
   * An update carries the members of a node that changed and is merged into the node held; one
   * for a node not held (the feed never sends that) is ignored.
   */
  delta(add: ViewNode[], update: NodePatch[], remove: string[]): void {
    for (const id of remove) {
      const old = this.nodes.get(id);
      if (old) this.unlink(old);
      this.nodes.delete(id);
    }
    for (const n of add) this.put(n);
    for (const p of update) {
      const old = this.nodes.get(p.id);
      if (!old) continue;
      const { metricsTail, ...members } = p;
      const next: ViewNode = { ...old, ...members };
      if (metricsTail !== undefined) next.metrics = slideMetrics(old.metrics, metricsTail);
      this.put(next);
    }
    this.version++;
  }

  private put(n: ViewNode): void {
    const old = this.nodes.get(n.id);
    if (old) this.unlink(old);
    this.nodes.set(n.id, n);
    this.link(n);
  }

  private link(n: ViewNode): void {
    for (const t of n.adjacency) {
      let s = this.incoming.get(t);
      if (!s) this.incoming.set(t, (s = new Set()));
      s.add(n.id);
    }
  }

  private unlink(n: ViewNode): void {
    for (const t of n.adjacency) {
      const s = this.incoming.get(t);
      if (!s) continue;
      s.delete(n.id);
      if (s.size === 0) this.incoming.delete(t);
    }
  }
}

/** The metric rows after their rings slid (`metricsTail`); rows not named stay as they are. */
export function slideMetrics(rows: readonly MetricRow[], tails: readonly MetricTail[]): MetricRow[] {
  const byId = new Map(tails.map((t) => [t.id, t]));
  return rows.map((row) => {
    const t = byId.get(row.id);
    if (t === undefined) return row;
    const samples = [...row.samples.slice(t.drop), ...t.add];
    let min = Infinity;
    let max = -Infinity;
    for (const s of samples) {
      if (s[1] < min) min = s[1];
      if (s[1] > max) max = s[1];
    }
    return { id: row.id, value: samples[samples.length - 1]![1], min, max, samples };
  });
}
