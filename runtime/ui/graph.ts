/**
 * The graph on screen: sigma.js (WebGL) over a graphology graph, positions
 * from the stable structured layout. Each change of the view is applied as a
 * diff: nodes and edges added, changed attributes merged, and gone ones hidden
 * first and dropped in one batch later (sigma re-indexes the whole graph on
 * every single drop, which is what makes per-node drops slow at thousands of
 * nodes). Collapsed groups are drawn as one node standing for their members,
 * with their members' edges merged.
 */
import Graph from 'graphology';
import Sigma from 'sigma';
import { StableLayout } from './layout';
import { groupKey, stateOf, type Grouping, type ViewStore } from './store';
import type { ViewNode } from './types';

export interface Theme {
  background: string;
  label: string;
  edge: string;
  dim: string;
  accent: string;
  match: string;
  node: Record<string, string>;
}

interface NodeAttrs {
  x: number;
  y: number;
  size: number;
  color: string;
  label: string;
  hidden?: boolean;
  kind: 'node' | 'group';
  group: string;
  members: number;
}

interface EdgeAttrs {
  size: number;
  hidden?: boolean;
}

const GROUP_PREFIX = 'group:';

export interface GraphEvents {
  clickNode(id: string): void;
  clickGroup(key: string): void;
  clickStage(): void;
  /** The first drawing of a complete view (all its nodes). */
  drawn(nodes: number): void;
}

export class GraphView {
  private graph = new Graph<NodeAttrs, EdgeAttrs>({ type: 'directed', multi: false, allowSelfLoops: false });
  private renderer: Sigma<NodeAttrs, EdgeAttrs> | null = null;
  private readonly layout = new StableLayout();
  private grouping: Grouping = 'host';
  private collapsed = new Set<string>();
  private highlight: Set<string> | null = null;
  /** The highlight as displayed ids (a collapsed group stands for its members). */
  private highlightShown: Set<string> | null = null;
  private selected: string | null = null;
  private neighbours = new Set<string>();
  private hidden = 0;
  private bbox: { x: [number, number]; y: [number, number] } | null = null;
  private pendingDrawn = false;
  private displayOf = new Map<string, string>();
  /** Group captions: HTML over the canvas, placed after each drawing. */
  private readonly captions: HTMLElement;
  private captionKey = '';

  constructor(
    private readonly container: HTMLElement,
    private readonly store: ViewStore,
    private theme: Theme,
    private readonly events: GraphEvents,
  ) {
    this.captions = document.createElement('div');
    this.captions.className = 'captions';
    this.container.append(this.captions);
  }

  /** Puts each expanded group's name above its circle (at most 300, and only when the camera or graph moved). */
  private placeCaptions(): void {
    const r = this.renderer;
    if (!r) return;
    const cam = r.getCamera().getState();
    const key = `${cam.x},${cam.y},${cam.ratio},${this.graph.order},${this.syncs}`;
    if (key === this.captionKey) return;
    this.captionKey = key;
    const groups = new Set<string>();
    if (this.grouping !== 'none') {
      for (const n of this.store.nodes.values()) {
        const g = groupKey(n, this.grouping);
        if (!this.collapsed.has(g)) groups.add(g);
        if (groups.size >= 300) break;
      }
    }
    const els: HTMLElement[] = [];
    for (const g of groups) {
      const c = this.layout.groupCenter(g);
      if (!c) continue;
      const p = r.graphToViewport({ x: c.x, y: c.y + this.layout.groupRadius(g) });
      const el = document.createElement('div');
      el.className = 'caption';
      el.textContent = g;
      el.style.transform = `translate(${Math.round(p.x)}px, ${Math.round(p.y) - 18}px) translateX(-50%)`;
      els.push(el);
    }
    this.captions.replaceChildren(...els);
  }

  private syncs = 0;

  get displayedNodes(): number {
    return this.graph.order - this.hidden;
  }

  setGrouping(g: Grouping, collapsed: Set<string>): void {
    const regroup = g !== this.grouping;
    this.grouping = g;
    this.collapsed = collapsed;
    if (regroup) {
      this.layout.clear();
      this.bbox = null;
    }
    this.sync(true);
  }

  setTheme(t: Theme): void {
    this.theme = t;
    this.sync(true);
    if (this.renderer) {
      this.renderer.setSetting('labelColor', { color: t.label });
      this.renderer.setSetting('defaultEdgeColor', t.edge);
    }
  }

  setHighlight(ids: Set<string> | null): void {
    this.highlight = ids;
    this.mapHighlight();
    this.renderer?.refresh({ skipIndexation: true });
  }

  private mapHighlight(): void {
    if (this.highlight === null) {
      this.highlightShown = null;
      return;
    }
    const shown = new Set<string>();
    for (const id of this.highlight) {
      const d = this.displayOf.get(id);
      if (d !== undefined) shown.add(d);
    }
    this.highlightShown = shown;
  }

  setSelected(id: string | null): void {
    this.selected = id;
    this.neighbours = new Set();
    const disp = id === null ? null : (this.displayOf.get(id) ?? null);
    if (disp !== null && this.graph.hasNode(disp)) for (const n of this.graph.neighbors(disp)) this.neighbours.add(n);
    this.renderer?.refresh({ skipIndexation: true });
  }

  /** The node shown for a view node (itself, or its collapsed group). */
  displayed(id: string): string | null {
    return this.displayOf.get(id) ?? null;
  }

  /** Replaces everything on screen with the store's content (a full view). */
  reset(): void {
    this.layout.clear();
    this.bbox = null;
    this.sync(true);
  }

  /** Applies the store's current content; `rebuild` builds a fresh graph instead of diffing. */
  sync(rebuild = false): void {
    const want = this.desired();
    const changes = this.diffSize(want);
    if (rebuild || !this.renderer || changes > Math.max(200, this.graph.order * 0.2) || this.hidden > Math.max(100, this.graph.order * 0.1)) {
      this.rebuild(want);
    } else {
      this.patch(want);
    }
    this.syncs++;
    this.updateBBox();
    this.mapHighlight();
    if (this.selected !== null) this.setSelected(this.selected);
  }

  private desired(): { nodes: Map<string, NodeAttrs>; edges: Map<string, [string, string]> } {
    const nodes = new Map<string, NodeAttrs>();
    const edges = new Map<string, [string, string]>();
    const store = this.store.nodes;
    for (const id of [...this.displayOf.keys()]) if (!store.has(id)) this.layout.remove(id);
    this.displayOf.clear();
    for (const n of store.values()) this.layout.place(n.id, groupKey(n, this.grouping));
    this.layout.pack();
    const small = store.size <= 300;
    const groupCount = new Map<string, number>();
    for (const n of store.values()) {
      const g = groupKey(n, this.grouping);
      if (this.grouping !== 'none' && this.collapsed.has(g)) {
        const gid = GROUP_PREFIX + g;
        this.displayOf.set(n.id, gid);
        groupCount.set(g, (groupCount.get(g) ?? 0) + 1);
        continue;
      }
      this.displayOf.set(n.id, n.id);
      const p = this.layout.position(n.id)!;
      nodes.set(n.id, { x: p.x, y: p.y, size: small ? 7 : 3.5, color: this.colorOf(n), label: n.label, kind: 'node', group: g, members: 1 });
    }
    for (const [g, count] of groupCount) {
      const c = this.layout.groupCenter(g)!;
      nodes.set(GROUP_PREFIX + g, { x: c.x, y: c.y, size: Math.min(28, 8 + 2 * Math.sqrt(count)), color: this.theme.node.group ?? this.theme.accent, label: `${g || 'all'} (${count})`, kind: 'group', group: g, members: count });
    }
    for (const n of store.values()) {
      const s = this.displayOf.get(n.id)!;
      for (const t of n.adjacency) {
        const d = this.displayOf.get(t);
        if (d === undefined || d === s) continue;
        edges.set(`${s}>${d}`, [s, d]);
      }
    }
    return { nodes, edges };
  }

  private colorOf(n: ViewNode): string {
    const s = stateOf(n);
    if (s === 'paused' || s === 'stopped' || s === 'stale') return this.theme.node[s]!;
    return this.theme.node[n.topology] ?? this.theme.accent;
  }

  private diffSize(want: { nodes: Map<string, NodeAttrs>; edges: Map<string, [string, string]> }): number {
    let n = 0;
    for (const id of want.nodes.keys()) if (!this.graph.hasNode(id)) n++;
    for (const id of this.graph.nodes()) if (!want.nodes.has(id) && !this.graph.getNodeAttribute(id, 'hidden')) n++;
    return n;
  }

  private rebuild(want: { nodes: Map<string, NodeAttrs>; edges: Map<string, [string, string]> }): void {
    const g = new Graph<NodeAttrs, EdgeAttrs>({ type: 'directed', multi: false, allowSelfLoops: false });
    for (const [id, a] of want.nodes) g.addNode(id, a);
    for (const [key, [s, d]] of want.edges) g.addDirectedEdgeWithKey(key, s, d, { size: 1 });
    this.graph = g;
    this.hidden = 0;
    this.pendingDrawn = true;
    if (!this.renderer) {
      this.renderer = new Sigma(g, this.container, {
        labelColor: { color: this.theme.label },
        defaultEdgeColor: this.theme.edge,
        labelRenderedSizeThreshold: 6,
        labelDensity: 0.5,
        hideEdgesOnMove: g.size > 3000,
        allowInvalidContainer: true,
        zIndex: true,
        nodeReducer: (key, attrs) => this.reduceNode(key, attrs),
        edgeReducer: (key, attrs) => this.reduceEdge(key, attrs),
      });
      this.renderer.on('clickNode', ({ node }) => {
        const a = this.graph.getNodeAttributes(node);
        if (a.kind === 'group') this.events.clickGroup(a.group);
        else this.events.clickNode(node);
      });
      this.renderer.on('clickStage', () => this.events.clickStage());
      this.renderer.on('afterRender', () => {
        this.placeCaptions();
        if (!this.pendingDrawn) return;
        this.pendingDrawn = false;
        this.events.drawn(this.displayedNodes);
      });
    } else {
      this.renderer.setGraph(g);
    }
  }

  private patch(want: { nodes: Map<string, NodeAttrs>; edges: Map<string, [string, string]> }): void {
    const g = this.graph;
    for (const [id, a] of want.nodes) {
      if (!g.hasNode(id)) {
        g.addNode(id, a);
        continue;
      }
      const cur = g.getNodeAttributes(id);
      if (cur.hidden) {
        this.hidden--;
        g.replaceNodeAttributes(id, a);
      } else if (cur.x !== a.x || cur.y !== a.y || cur.color !== a.color || cur.label !== a.label || cur.size !== a.size || cur.members !== a.members) {
        g.replaceNodeAttributes(id, a);
      }
    }
    for (const id of g.nodes()) {
      if (want.nodes.has(id)) continue;
      const a = g.getNodeAttributes(id);
      if (!a.hidden) {
        g.setNodeAttribute(id, 'hidden', true);
        this.hidden++;
      }
    }
    for (const [key, [s, d]] of want.edges) {
      if (!g.hasEdge(key)) g.addDirectedEdgeWithKey(key, s, d, { size: 1 });
      else if (g.getEdgeAttribute(key, 'hidden')) g.setEdgeAttribute(key, 'hidden', false);
    }
    for (const key of g.edges()) if (!want.edges.has(key) && !g.getEdgeAttribute(key, 'hidden')) g.setEdgeAttribute(key, 'hidden', true);
  }

  private updateBBox(): void {
    if (!this.renderer) return;
    const b = this.layout.bounds();
    const cur = this.bbox;
    // Keep the frame while everything fits, so the camera does not jump as nodes come and go.
    if (cur && b.x[0] >= cur.x[0] && b.x[1] <= cur.x[1] && b.y[0] >= cur.y[0] && b.y[1] <= cur.y[1]) return;
    const pad = (lo: number, hi: number): [number, number] => {
      const m = Math.max(20, (hi - lo) * 0.05);
      return [lo - m, hi + m];
    };
    this.bbox = { x: pad(b.x[0], b.x[1]), y: pad(b.y[0], b.y[1]) };
    this.renderer.setCustomBBox(this.bbox);
    this.renderer.refresh();
  }

  private reduceNode(key: string, attrs: NodeAttrs): Partial<NodeAttrs> & { highlighted?: boolean; forceLabel?: boolean; zIndex?: number } {
    if (attrs.hidden) return attrs;
    const out: Partial<NodeAttrs> & { highlighted?: boolean; forceLabel?: boolean; zIndex?: number } = { ...attrs, zIndex: 0 };
    const isSel = this.selected !== null && this.displayOf.get(this.selected) === key;
    const hl = this.highlightShown;
    if (hl) {
      const hit = hl.has(key);
      if (hit) {
        out.color = this.theme.match;
        out.forceLabel = hl.size <= 50;
        out.size = attrs.size * 1.6;
        out.zIndex = 1;
      } else if (!isSel) {
        out.color = this.theme.dim;
        out.label = '';
      }
    }
    if (isSel) {
      out.highlighted = true;
      out.forceLabel = true;
      out.size = (out.size ?? attrs.size) * 1.4;
      out.zIndex = 2;
    } else if (this.neighbours.has(key)) {
      out.forceLabel = this.neighbours.size <= 30;
    }
    return out;
  }

  private reduceEdge(key: string, attrs: EdgeAttrs): Partial<EdgeAttrs> & { color?: string } {
    if (attrs.hidden) return attrs;
    const sel = this.selected === null ? null : (this.displayOf.get(this.selected) ?? null);
    if (sel !== null) {
      const [s, d] = this.graph.extremities(key);
      if (s === sel || d === sel) return { ...attrs, color: this.theme.accent, size: 2 };
      return { ...attrs, color: this.theme.dim };
    }
    const hl = this.highlightShown;
    if (hl) {
      const [s, d] = this.graph.extremities(key);
      if (!hl.has(s) && !hl.has(d)) return { ...attrs, color: this.theme.dim };
    }
    return attrs;
  }

  /** Where a displayed node is on the page (for tests and keyboard moves); null if not shown. */
  screenPosition(id: string): { x: number; y: number } | null {
    const disp = this.displayOf.get(id) ?? (this.graph.hasNode(id) ? id : null);
    if (!this.renderer || disp === null || !this.graph.hasNode(disp) || this.graph.getNodeAttribute(disp, 'hidden')) return null;
    const a = this.graph.getNodeAttributes(disp);
    const p = this.renderer.graphToViewport({ x: a.x, y: a.y });
    const r = this.container.getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }

  /** Visible node ids (not groups, not hidden). */
  visibleNodeIds(): string[] {
    const out: string[] = [];
    this.graph.forEachNode((id, a) => {
      if (!a.hidden && a.kind === 'node') out.push(id);
    });
    return out;
  }

  groupIds(): string[] {
    const out: string[] = [];
    this.graph.forEachNode((_, a) => {
      if (!a.hidden && a.kind === 'group') out.push(a.group);
    });
    return out;
  }

  /** The nearest shown node from `from` in an arrow key's direction. */
  nearest(from: string, dir: 'up' | 'down' | 'left' | 'right'): string | null {
    const disp = this.displayOf.get(from);
    if (!disp || !this.graph.hasNode(disp)) return null;
    const o = this.graph.getNodeAttributes(disp);
    let best: string | null = null;
    let bestScore = Infinity;
    this.graph.forEachNode((id, a) => {
      if (id === disp || a.hidden || a.kind !== 'node') return;
      const dx = a.x - o.x;
      const dy = a.y - o.y;
      // Graph y grows upwards.
      const along = dir === 'right' ? dx : dir === 'left' ? -dx : dir === 'up' ? dy : -dy;
      const across = dir === 'right' || dir === 'left' ? Math.abs(dy) : Math.abs(dx);
      if (along <= 0) return;
      const score = along + 2 * across;
      if (score < bestScore) {
        bestScore = score;
        best = id;
      }
    });
    return best;
  }

  focus(id: string): void {
    const disp = this.displayOf.get(id);
    if (!this.renderer || !disp || !this.graph.hasNode(disp)) return;
    const d = this.renderer.getNodeDisplayData(disp);
    if (!d) return;
    const cam = this.renderer.getCamera();
    void cam.animate({ x: d.x, y: d.y, ratio: Math.min(cam.ratio, 0.6) }, { duration: 250 });
  }

  zoom(factor: number): void {
    const cam = this.renderer?.getCamera();
    if (!cam) return;
    void cam.animate({ ratio: cam.ratio / factor }, { duration: 150 });
  }

  resetCamera(): void {
    void this.renderer?.getCamera().animatedReset({ duration: 200 });
  }

  resize(): void {
    this.renderer?.resize();
    this.renderer?.refresh();
  }

  kill(): void {
    this.renderer?.kill();
    this.renderer = null;
  }
}
