/**
 * The graph on screen: sigma.js (WebGL) over a graphology graph. Positions
 * come from the layout worker (runtime/ui/layout-worker.ts): this class tells
 * it which nodes came, went or changed group, and applies the positions it
 * sends back; it never computes a position itself.
 *
 * A change of the view is applied as a diff of only the nodes that changed
 * (with their edges), not of the whole view: a node whose colour or label
 * changed is re-coloured in sigma's buffers without re-indexing the graph,
 * and gone nodes are hidden first and dropped in one batch later (sigma
 * re-indexes the whole graph on every single drop, which is what makes
 * per-node drops slow at thousands of nodes). Collapsed groups are drawn as
 * one node standing for their members, with their members' edges merged;
 * while any group is collapsed, changes take the whole-view diff.
 */
import Graph from 'graphology';
import Sigma from 'sigma';
import { LayoutClient, type LayoutError } from './layout-client';
import type { LayoutReply } from './layout-protocol';
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

interface Point {
  x: number;
  y: number;
}

type Want = { nodes: Map<string, NodeAttrs>; edges: Map<string, [string, string]> };

const GROUP_PREFIX = 'group:';
/** Up to this many nodes are drawn larger. */
const SMALL_VIEW = 300;

export interface GraphEvents {
  clickNode(id: string): void;
  clickGroup(key: string): void;
  clickStage(): void;
  /** The first drawing of a complete view (all its nodes and edges), finished by the GPU. */
  drawn(nodes: number, edges: number): void;
  /** The layout worker failed or refused a request: nodes without a position cannot be drawn. */
  layoutFailed(err: LayoutError): void;
}

export class GraphView {
  private graph = new Graph<NodeAttrs, EdgeAttrs>({ type: 'directed', multi: false, allowSelfLoops: false });
  private renderer: Sigma<NodeAttrs, EdgeAttrs> | null = null;
  private readonly layout: LayoutClient;
  /** Redraws when the graph's box changes size (see `fitBox`). */
  private readonly boxWatch: ResizeObserver;
  /** The group each node was placed in, as last told to the worker. */
  private readonly placed = new Map<string, string>();
  /** Positions from the worker. */
  private readonly pos = new Map<string, Point>();
  /** Group centres and radii from the worker. */
  private groupGeo = new Map<string, Point & { r: number }>();
  private layoutBounds: [number, number, number, number] = [-1, 1, -1, 1];
  /** The layout must start over (new grouping, new view). */
  private layoutReset = true;
  /** The seq of the newest request the worker has not answered yet. */
  private awaiting: number | null = null;
  /** Node ids changed since the last drawing; null: everything. */
  private changed: Set<string> | null = null;
  private rebuildWanted = true;
  private grouping: Grouping = 'host';
  private collapsed = new Set<string>();
  private highlight: Set<string> | null = null;
  /** The highlight as displayed ids (a collapsed group stands for its members). */
  private highlightShown: Set<string> | null = null;
  private selected: string | null = null;
  private neighbours = new Set<string>();
  private hidden = 0;
  private small = true;
  private bbox: { x: [number, number]; y: [number, number] } | null = null;
  private pendingDrawn = false;
  private displayOf = new Map<string, string>();
  /** Group captions: HTML over the canvas, placed after each drawing. */
  private readonly captions: HTMLElement;
  private captionKey = '';
  private geoVersion = 0;
  private workerAnswered = false;

  constructor(
    private readonly container: HTMLElement,
    private readonly store: ViewStore,
    private theme: Theme,
    private readonly events: GraphEvents,
  ) {
    this.captions = document.createElement('div');
    this.captions.className = 'captions';
    this.container.append(this.captions);
    // Started with the page, so the worker is loaded before the first view arrives. Sigma starts
    // with the first drawing, of the empty view the worker's first answer brings. An explicit
    // warm-up draw here (until round 17) held the page's main thread for half a second of
    // software WebGL work, and the worker could not start until it ended: the first full view was
    // drawn later, not sooner (docs/benchmarks.md, "Web UI").
    this.layout = new LayoutClient(
      (reply, latest) => this.positions(reply, latest),
      (err) => {
        this.awaiting = null;
        this.events.layoutFailed(err);
      },
    );
    this.boxWatch = new ResizeObserver(() => this.fitBox());
    this.boxWatch.observe(this.container);
  }

  /**
   * The graph's box changes size: with the window, when the graph is shown again after the table,
   * and without either (the view counts and the filter bar arrive after the first drawing and take
   * height from it, a details panel takes width). Sigma reads its box's size only when it renders,
   * so until the next change of the view it would keep drawing (and placing nodes, captions and
   * clicks) for the old size. One observer for all of them; a render alone, without indexing the
   * graph again (each drawing indexed what changed, shown or not).
   */
  private fitBox(): void {
    this.renderer?.refresh({ partialGraph: {}, skipIndexation: true });
  }

  /** Puts each expanded group's name above its circle (at most 300, and only when the camera, the box or the groups moved). */
  private placeCaptions(): void {
    const r = this.renderer;
    if (!r) return;
    const cam = r.getCamera().getState();
    const box = r.getDimensions();
    const key = `${cam.x},${cam.y},${cam.ratio},${box.width},${box.height},${this.geoVersion}`;
    if (key === this.captionKey) return;
    this.captionKey = key;
    const els: HTMLElement[] = [];
    if (this.grouping !== 'none') {
      for (const [g, c] of this.groupGeo) {
        if (this.collapsed.has(g)) continue;
        const p = r.graphToViewport({ x: c.x, y: c.y + c.r });
        const el = document.createElement('div');
        el.className = 'caption';
        el.textContent = g;
        el.style.transform = `translate(${Math.round(p.x)}px, ${Math.round(p.y) - 18}px) translateX(-50%)`;
        els.push(el);
        if (els.length >= 300) break;
      }
    }
    this.captions.replaceChildren(...els);
  }

  get displayedNodes(): number {
    return this.graph.order - this.hidden;
  }

  /** Edges on screen (not hidden), counted (used once per full view). */
  private displayedEdges(): number {
    let n = 0;
    this.graph.forEachEdge((_, a) => {
      if (!a.hidden) n++;
    });
    return n;
  }

  setGrouping(g: Grouping, collapsed: Set<string>): void {
    const regroup = g !== this.grouping;
    this.grouping = g;
    this.collapsed = collapsed;
    this.geoVersion++;
    if (regroup) {
      this.layoutReset = true;
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
    const prev = this.highlight;
    this.highlight = ids;
    this.mapHighlight();
    // Called after every change of the view: redraw only when the highlight itself changed.
    if (prev === ids || (prev !== null && ids !== null && prev.size === ids.size && [...ids].every((id) => prev.has(id)))) return;
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
    this.neighbours = this.neighboursOf(id);
    this.renderer?.refresh({ skipIndexation: true });
  }

  private neighboursOf(id: string | null): Set<string> {
    const out = new Set<string>();
    const disp = id === null ? null : (this.displayOf.get(id) ?? null);
    if (disp !== null && this.graph.hasNode(disp)) for (const n of this.graph.neighbors(disp)) out.add(n);
    return out;
  }

  /** The node shown for a view node (itself, or its collapsed group). */
  displayed(id: string): string | null {
    return this.displayOf.get(id) ?? null;
  }

  /** Replaces everything on screen with the store's content (a full view), laid out afresh. */
  reset(): void {
    this.layoutReset = true;
    this.bbox = null;
    this.sync(true);
  }

  /**
   * Applies the store's current content. `changed` names the nodes added,
   * updated or removed since the last call (a delta); without it the whole
   * view is compared. `rebuild` builds a fresh graph instead of diffing.
   * Positions come back from the worker; the drawing follows its reply.
   */
  sync(rebuild = false, changed?: Iterable<string>): void {
    this.rebuildWanted ||= rebuild;
    if (rebuild || changed === undefined) this.changed = null;
    else if (this.changed !== null) for (const id of changed) this.changed.add(id);
    if (this.postLayout(rebuild || changed === undefined ? null : changed)) return;
    // Nothing to lay out: draw now, unless a reply is on its way (it will draw).
    if (this.awaiting === null) this.draw();
  }

  /** Tells the worker what changed; returns whether a request was sent. */
  private postLayout(changed: Iterable<string> | null): boolean {
    const store = this.store.nodes;
    const place: Array<[string, string]> = [];
    const remove: string[] = [];
    const clear = this.layoutReset;
    this.layoutReset = false;
    if (clear) {
      this.placed.clear();
      this.pos.clear();
      this.groupGeo = new Map();
      for (const n of store.values()) place.push([n.id, groupKey(n, this.grouping)]);
    } else if (changed === null) {
      for (const n of store.values()) {
        const g = groupKey(n, this.grouping);
        if (this.placed.get(n.id) !== g) place.push([n.id, g]);
      }
      for (const id of this.placed.keys()) if (!store.has(id)) remove.push(id);
    } else {
      for (const id of changed) {
        const n = store.get(id);
        if (!n) {
          if (this.placed.has(id)) remove.push(id);
          continue;
        }
        const g = groupKey(n, this.grouping);
        if (this.placed.get(id) !== g) place.push([id, g]);
      }
    }
    if (!clear && place.length === 0 && remove.length === 0) return false;
    for (const id of remove) {
      this.placed.delete(id);
      this.pos.delete(id);
    }
    for (const [id, g] of place) this.placed.set(id, g);
    this.awaiting = this.layout.post({ clear, place, remove });
    return true;
  }

  /** A reply from the worker: apply its positions; draw when it answers the newest request. */
  private positions(reply: LayoutReply, latest: boolean): void {
    // The worker has started and answered (bench/ui.ts reports when, relative to navigation).
    if (!this.workerAnswered) {
      this.workerAnswered = true;
      performance.mark('topology-layout-worker-ready');
    }
    const { ids, xy } = reply;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      // A node removed after this request was sent stays removed.
      if (this.placed.has(id)) this.pos.set(id, { x: xy[2 * i]!, y: xy[2 * i + 1]! });
    }
    const geo = new Map<string, Point & { r: number }>();
    for (let i = 0; i < reply.groups.length; i++) geo.set(reply.groups[i]!, { x: reply.groupGeo[3 * i]!, y: reply.groupGeo[3 * i + 1]!, r: reply.groupGeo[3 * i + 2]! });
    this.groupGeo = geo;
    this.layoutBounds = reply.bounds;
    this.geoVersion++;
    // Groups moved: every node's position changed, not only the delta's.
    if (reply.all) this.changed = null;
    if (!latest) return;
    this.awaiting = null;
    this.draw();
  }

  /** Draws the store's content with the positions known. */
  private draw(): void {
    const small = this.store.nodes.size <= SMALL_VIEW;
    const whole = this.rebuildWanted || this.changed === null || !this.renderer || small !== this.small || (this.grouping !== 'none' && this.collapsed.size > 0);
    if (whole) {
      this.small = small;
      const want = this.desired();
      const changes = this.diffSize(want);
      if (this.rebuildWanted || !this.renderer || changes > Math.max(200, this.graph.order * 0.2) || this.hidden > Math.max(100, this.graph.order * 0.1)) this.rebuild(want);
      else this.patch(want);
    } else if (this.hidden > Math.max(100, this.graph.order * 0.1)) {
      this.rebuild(this.desired());
    } else {
      this.patchChanged(this.changed!);
    }
    this.rebuildWanted = false;
    this.changed = new Set();
    this.updateBBox();
    this.mapHighlight();
    if (this.selected !== null) {
      const next = this.neighboursOf(this.selected);
      if (next.size !== this.neighbours.size || [...next].some((n) => !this.neighbours.has(n))) this.setSelected(this.selected);
    }
  }

  private attrsOf(n: ViewNode, p: Point, g: string): NodeAttrs {
    return { x: p.x, y: p.y, size: this.small ? 7 : 3.5, color: this.colorOf(n), label: n.label, kind: 'node', group: g, members: 1 };
  }

  private desired(): Want {
    const nodes = new Map<string, NodeAttrs>();
    const edges = new Map<string, [string, string]>();
    const store = this.store.nodes;
    this.displayOf.clear();
    const groupCount = new Map<string, number>();
    for (const n of store.values()) {
      const g = groupKey(n, this.grouping);
      if (this.grouping !== 'none' && this.collapsed.has(g)) {
        const gid = GROUP_PREFIX + g;
        this.displayOf.set(n.id, gid);
        groupCount.set(g, (groupCount.get(g) ?? 0) + 1);
        continue;
      }
      const p = this.pos.get(n.id);
      // Not placed yet (the worker failed): not drawn rather than drawn at a made-up place.
      if (!p) continue;
      this.displayOf.set(n.id, n.id);
      nodes.set(n.id, this.attrsOf(n, p, g));
    }
    for (const [g, count] of groupCount) {
      const c = this.groupGeo.get(g);
      if (!c) continue;
      nodes.set(GROUP_PREFIX + g, { x: c.x, y: c.y, size: Math.min(28, 8 + 2 * Math.sqrt(count)), color: this.theme.node.group ?? this.theme.accent, label: `${g || 'all'} (${count})`, kind: 'group', group: g, members: count });
    }
    for (const n of store.values()) {
      const s = this.displayOf.get(n.id);
      if (s === undefined) continue;
      for (const t of n.adjacency) {
        const d = this.displayOf.get(t);
        if (d === undefined || d === s) continue;
        edges.set(`${s}>${d}`, [s, d]);
      }
    }
    return { nodes, edges };
  }

  /**
   * Applies a delta's nodes only (no collapsed group): each changed node and
   * its edges. A change of colour or label alone is written into the node's
   * attributes without a graph event and handed to sigma as a partial refresh
   * that skips re-indexing, so a paused container costs one node's worth of
   * work, not a pass over the whole graph.
   */
  private patchChanged(ids: Set<string>): void {
    const g = this.graph;
    const store = this.store.nodes;
    const repaint: string[] = [];
    const ensureEdge = (s: string, d: string): void => {
      const key = `${s}>${d}`;
      if (!g.hasEdge(key)) g.addDirectedEdgeWithKey(key, s, d, { size: 1 });
      else if (g.getEdgeAttribute(key, 'hidden')) g.setEdgeAttribute(key, 'hidden', false);
    };
    for (const id of ids) {
      const n = store.get(id);
      const p = n ? this.pos.get(id) : undefined;
      if (!n || !p) {
        this.displayOf.delete(id);
        if (g.hasNode(id) && !g.getNodeAttribute(id, 'hidden')) {
          g.setNodeAttribute(id, 'hidden', true);
          this.hidden++;
          g.forEachEdge(id, (key, a) => {
            if (!a.hidden) g.setEdgeAttribute(key, 'hidden', true);
          });
        }
        continue;
      }
      const want = this.attrsOf(n, p, this.placed.get(id) ?? '');
      this.displayOf.set(id, id);
      if (!g.hasNode(id)) {
        g.addNode(id, want);
      } else {
        const cur = g.getNodeAttributes(id);
        if (cur.hidden) {
          this.hidden--;
          g.replaceNodeAttributes(id, want);
        } else if (cur.x !== want.x || cur.y !== want.y || cur.size !== want.size || cur.group !== want.group) {
          g.replaceNodeAttributes(id, want);
        } else if (cur.color !== want.color || cur.label !== want.label) {
          // No graph event on purpose: sigma would answer it by re-indexing every node.
          cur.color = want.color;
          cur.label = want.label;
          repaint.push(id);
        }
      }
    }
    // Edges: a changed node's outgoing edges follow its adjacency; a node that
    // (re)appeared gets the edges other nodes point at it with.
    for (const id of ids) {
      const n = store.get(id);
      if (!n || !this.displayOf.has(id)) continue;
      const out = new Set<string>();
      for (const t of n.adjacency) if (t !== id && this.displayOf.get(t) === t) out.add(t);
      g.forEachOutEdge(id, (key, a, _s, d) => {
        if (!out.has(d) && !a.hidden) g.setEdgeAttribute(key, 'hidden', true);
      });
      for (const t of out) ensureEdge(id, t);
      const incoming = this.store.incoming.get(id);
      if (incoming) for (const s of incoming) if (s !== id && this.displayOf.get(s) === s) ensureEdge(s, id);
    }
    if (repaint.length > 0) this.renderer?.refresh({ partialGraph: { nodes: repaint }, skipIndexation: true, schedule: true });
  }

  private colorOf(n: ViewNode): string {
    const s = stateOf(n);
    if (s === 'paused' || s === 'stopped' || s === 'stale') return this.theme.node[s]!;
    return this.theme.node[n.topology] ?? this.theme.accent;
  }

  private diffSize(want: Want): number {
    let n = 0;
    for (const id of want.nodes.keys()) if (!this.graph.hasNode(id)) n++;
    for (const id of this.graph.nodes()) if (!want.nodes.has(id) && !this.graph.getNodeAttribute(id, 'hidden')) n++;
    return n;
  }

  private rebuild(want: Want): void {
    const g = new Graph<NodeAttrs, EdgeAttrs>({ type: 'directed', multi: false, allowSelfLoops: false });
    for (const [id, a] of want.nodes) g.addNode(id, a);
    for (const [key, [s, d]] of want.edges) g.addDirectedEdgeWithKey(key, s, d, { size: 1 });
    this.graph = g;
    this.hidden = 0;
    this.pendingDrawn = true;
    if (!this.renderer) this.renderer = this.startRenderer(g);
    else this.renderer.setGraph(g);
    if (this.renderer.getSetting('hideEdgesOnMove') !== g.size > 3000) this.renderer.setSetting('hideEdgesOnMove', g.size > 3000);
  }

  private startRenderer(g: Graph<NodeAttrs, EdgeAttrs>): Sigma<NodeAttrs, EdgeAttrs> {
    const r = new Sigma(g, this.container, {
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
    r.on('clickNode', ({ node }) => {
      const a = this.graph.getNodeAttributes(node);
      if (a.kind === 'group') this.events.clickGroup(a.group);
      else this.events.clickNode(node);
    });
    r.on('clickStage', () => this.events.clickStage());
    r.on('afterRender', () => {
      this.placeCaptions();
      if (!this.pendingDrawn) return;
      this.pendingDrawn = false;
      this.finishGpu();
      this.events.drawn(this.displayedNodes, this.displayedEdges());
    });
    return r;
  }

  /**
   * Waits until the GPU has carried out what sigma just drew: reading one pixel
   * back blocks until every WebGL command before it ran. Without it, "drawn"
   * would be said when the draw calls were issued, which with software WebGL
   * is hundreds of ms before the picture exists. Once per full view only.
   */
  private finishGpu(): void {
    if (!this.renderer) return;
    const px = new Uint8Array(4);
    for (const name of ['edges', 'nodes']) {
      const canvas = this.renderer.getCanvases()[name];
      // The context sigma made for this canvas (asking again returns the same one).
      const gl = canvas ? ((canvas.getContext('webgl2') as WebGL2RenderingContext | null) ?? (canvas.getContext('webgl') as WebGLRenderingContext | null)) : null;
      gl?.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
    }
  }

  private patch(want: Want): void {
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
    const [x0, x1, y0, y1] = this.layoutBounds;
    const b = { x: [x0, x1], y: [y0, y1] };
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

  /** Where a displayed node is in graph coordinates (as the layout worker sent it); null if not shown. */
  graphPosition(id: string): Point | null {
    if (!this.graph.hasNode(id) || this.graph.getNodeAttribute(id, 'hidden')) return null;
    const a = this.graph.getNodeAttributes(id);
    return { x: a.x, y: a.y };
  }

  /** The colour the node is drawn with (its own, or its collapsed group's); null if not shown. */
  colourOf(id: string): string | null {
    const disp = this.displayOf.get(id) ?? (this.graph.hasNode(id) ? id : null);
    if (disp === null || !this.graph.hasNode(disp) || this.graph.getNodeAttribute(disp, 'hidden')) return null;
    return this.graph.getNodeAttribute(disp, 'color');
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

  kill(): void {
    this.boxWatch.disconnect();
    this.renderer?.kill();
    this.renderer = null;
    this.layout.terminate();
  }
}
