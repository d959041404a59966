/**
 * Rendering a view from the live model: nodes, the edges between them, and
 * the facts each node carries (label, sublabel, shape, rank, metadata, metrics
 * with their short history, parents, children, controls).
 *
 * Edges start at processes (and at endpoints, for flows only conntrack saw).
 * An edge to an endpoint is resolved to the processes that own the endpoint
 * (its `parents.process`, reported by the probe on the server's host), which is
 * how a connection between two hosts becomes one edge. Each end is then lifted
 * to the view's level (process → container → pod → service/controller; any →
 * host), and an edge is kept when the two ends land on different nodes.
 *
 * Each rendered node is serialised here, once; the serialised form is what the
 * REST answers and the WebSocket messages are assembled from, and comparing it
 * is how a new render is diffed against the last. A node whose inputs did not
 * change keeps its previous serialisation (no JSON.stringify per node per render).
 */
import { CONTROLS, TOPOLOGY_NAMES, type ReportNode, type TopologyName } from '../../report';
import type { LiveModel, MergedNode } from '../model';
import { VIEWS, type ViewId, type ViewSpec } from './catalog';
import { KEYS, RUNNING_STATES, SYSTEM_NAMESPACES, text, value } from './keys';
import { imageName, naming, type Shape } from './labels';

export interface MetadataRow {
  id: string;
  value: string | number | boolean;
}

export interface MetricRow {
  id: string;
  /** The newest sample's value. */
  value: number;
  min: number;
  max: number;
  /** [ms since epoch, value], oldest first: the sparkline. */
  samples: ReadonlyArray<readonly [number, number]>;
}

export interface NodeRef {
  id: string;
  topology: TopologyName;
  label: string;
}

export interface ControlRef {
  id: string;
  label: string;
  destructive: boolean;
}

export interface ViewNode {
  id: string;
  /** The raw topology of the node (`group` for nodes of grouped views). */
  topology: TopologyName | 'group';
  label: string;
  labelMinor: string;
  shape: Shape;
  rank: string;
  /** Grouped views: how many raw nodes this one stands for. */
  stack?: number;
  /** Present and true when every probe reporting the node has gone silent. */
  stale?: true;
  adjacency: string[];
  metadata: MetadataRow[];
  metrics: MetricRow[];
  parents: NodeRef[];
  children: Array<{ topology: TopologyName; count: number }>;
  controls: ControlRef[];
}

/**
 * A node's JSON cut into its members, each `"key":value` (or '' when absent), in the order of
 * ViewNode's keys (`PART`): `{` + the non-empty parts joined by commas + `}` is the node's JSON.
 * Kept in parts so that an update carries only the members that changed (`nodePatch`): most
 * changes of a container are one new metric sample, about a third of its JSON.
 */
export type NodeParts = readonly string[];

/** Index of each member in NodeParts; `head` is topology, label, labelMinor, shape, rank (and a group's stack). */
export const PART = { id: 0, head: 1, adjacency: 2, metadata: 3, metrics: 4, parents: 5, children: 6, controls: 7, stale: 8 } as const;

/**
 * True when `next` differs from `prev` (two pictures of one node) in its metric rings alone, by
 * member identity: the model keeps every member of a node whose values did not change (share.ts),
 * so a node whose only change is new samples, the usual change, has the same `latest`,
 * `adjacency`, `parents` and `controls` objects.
 */
function onlyMetricsDiffer(prev: ReportNode, next: ReportNode): boolean {
  return prev.latest === next.latest && prev.adjacency === next.adjacency && prev.parents === next.parents && prev.controls === next.controls;
}

/**
 * `prev` with its `metrics` member rendered again from `node`, every other part the same string:
 * what a node whose inputs differ in their metric rings alone renders to (see renderBase). The
 * unchanged parts are not serialised again, and an update compares them by identity.
 */
function withMetrics(prev: RenderedNode, node: ReportNode): RenderedNode {
  const parts = prev.parts.slice();
  parts[PART.metrics] = metricsPart(metricsOf(node));
  return new PartsNode(prev.id, prev.label, parts, prev.facets, prev.members, node.metrics);
}

function metricsPart(rows: MetricRow[]): string {
  return `"metrics":${JSON.stringify(rows)}`;
}

function partsOf(v: ViewNode): string[] {
  const head = JSON.stringify({ topology: v.topology, label: v.label, labelMinor: v.labelMinor, shape: v.shape, rank: v.rank, stack: v.stack });
  return [
    `"id":${JSON.stringify(v.id)}`,
    head.slice(1, -1),
    `"adjacency":${JSON.stringify(v.adjacency)}`,
    `"metadata":${JSON.stringify(v.metadata)}`,
    metricsPart(v.metrics),
    `"parents":${JSON.stringify(v.parents)}`,
    `"children":${JSON.stringify(v.children)}`,
    `"controls":${JSON.stringify(v.controls)}`,
    v.stale ? '"stale":true' : '',
  ];
}

/** A rendered node held as its parts; its JSON is joined when read (REST answers, full views, additions). */
class PartsNode implements RenderedNode {
  constructor(
    readonly id: string,
    readonly label: string,
    readonly parts: NodeParts,
    readonly facets: Facets,
    private readonly memberIds: readonly string[] | (() => readonly string[]),
    readonly metricSource: MetricSource | null = null,
  ) {}

  get json(): string {
    return nodeJson(this.parts);
  }

  get members(): readonly string[] {
    return typeof this.memberIds === 'function' ? this.memberIds() : this.memberIds;
  }
}

/** The node's JSON from its parts. */
export function nodeJson(parts: NodeParts): string {
  let s = '{' + parts[PART.id]!;
  for (let i = 1; i < parts.length; i++) if (parts[i] !== '') s += ',' + parts[i]!;
  return s + '}';
}

/**
 * An update of a node a client holds as `old`: its id and the members that differ in `next`
 * (`"stale":false` when it is no longer stale). The client merges it into the node it has.
 * Metrics whose sample rings only slid (the usual change of a live node: one sample in, the
 * oldest out) go as `metricsTail` (see `metricsTail`), not as the whole `metrics` member.
 */
export function nodePatch(old: RenderedNode, next: RenderedNode): string {
  let s = '{' + next.parts[PART.id]!;
  for (let i = 1; i < next.parts.length; i++) {
    const part = next.parts[i]!;
    if (old.parts[i] === part) continue;
    if (i === PART.metrics && old.metricSource != null && next.metricSource != null) {
      const tail = metricsTail(old.metricSource, next.metricSource);
      if (tail !== null) {
        s += ',"metricsTail":' + tail;
        continue;
      }
    }
    if (part !== '') s += ',' + part;
    else if (i === PART.stale) s += ',"stale":false';
  }
  return s + '}';
}

/** A node's metric rings as the model holds them (immutable: a change is a new object). */
export type MetricSource = ReportNode['metrics'];

/**
 * How the metric rows of `next` follow from those of `old`, as `[{"id","drop","add"}…]`: per
 * metric whose samples changed, drop the `drop` oldest samples and append `add`; value, min and
 * max are the newest sample and the extremes of the result, as `metricsOf` computes them. Null
 * when that cannot say it (a metric came or went, or a kept sample changed): the patch then
 * carries the whole `metrics` member.
 */
export function metricsTail(old: MetricSource, next: MetricSource): string | null {
  const keys = metricKeys(next);
  const oldKeys = metricKeys(old);
  if (keys.length !== oldKeys.length) return null;
  const entries: string[] = [];
  for (let k = 0; k < keys.length; k++) {
    const id = keys[k]!;
    if (oldKeys[k] !== id) return null;
    const a = old[id]!.samples;
    const b = next[id]!.samples;
    if (a === b) continue;
    // Timestamps are strictly increasing, so the first new sample is found at most once.
    let drop = 0;
    while (drop < a.length && a[drop]![0] < b[0]![0]) drop++;
    const kept = a.length - drop;
    if (kept > b.length) return null;
    for (let i = 0; i < kept; i++) if (a[drop + i]![0] !== b[i]![0] || a[drop + i]![1] !== b[i]![1]) return null;
    if (drop === 0 && kept === b.length) continue;
    entries.push(`{"id":${JSON.stringify(id)},"drop":${drop},"add":${JSON.stringify(b.slice(kept))}}`);
  }
  return entries.length === 0 ? null : `[${entries.join(',')}]`;
}

/**
 * The ids of the metric rows `metricsOf` gives: sorted, rings with no sample left out. Called
 * three times per changed node (its render, and both sides of `metricsTail`), so the usual case,
 * keys already in order and no ring empty, returns `Object.keys` as it is: a filter and a sort
 * allocate even for two keys, and were 5 % of what the views allocate per report (in process,
 * 1,000 probes).
 */
function metricKeys(m: MetricSource): string[] {
  const keys = Object.keys(m);
  for (let i = 0; i < keys.length; i++) {
    if (m[keys[i]!]!.samples.length === 0 || (i > 0 && keys[i - 1]! > keys[i]!)) return keys.filter((k) => m[k]!.samples.length > 0).sort();
  }
  return keys;
}

export function sameParts(a: NodeParts, b: NodeParts): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What the filters test; computed with the node, kept out of its JSON. */
export interface Facets {
  namespace: string;
  running: boolean;
  system: boolean;
  connected: boolean;
}

export interface RenderedNode {
  readonly id: string;
  readonly label: string;
  /** The node's JSON, section by section (NodeParts): what updates are cut from. */
  readonly parts: NodeParts;
  /** The node's JSON: the parts joined (built on each read; kept only as parts). */
  readonly json: string;
  readonly facets: Facets;
  /** Raw node ids behind this node (one, or a group's members). */
  readonly members: readonly string[];
  /** The model's metric rings its `metrics` member was rendered from (null: none, e.g. a group). */
  readonly metricSource?: MetricSource | null;
}

export interface RenderedView {
  view: ViewId;
  /** Model version rendered. */
  version: number;
  /** performance.now() at render. */
  at: number;
  nodes: ReadonlyMap<string, RenderedNode>;
  /** id → ids of the nodes with an edge to it (→ how many sources give that edge). */
  incoming: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

interface CacheEntry {
  node: ReportNode;
  /** What the node's render read besides the node (see renderBase), as one string. */
  key: string;
  stale: boolean;
  rendered: RenderedNode;
}

/** What one render produced: the view, and the ids whose serialisation changed (added, updated or removed). */
export interface RenderOutcome {
  view: RenderedView;
  changed: ReadonlySet<string>;
  /** True when the render walked the whole model (a structural change, or the first render). */
  full: boolean;
}

/** A source's (a process's or an endpoint's) edges, lifted to the view: [from, to] pairs. */
type Edges = ReadonlyArray<readonly [string, string]>;

interface MemberState {
  facets: Facets;
  stale: boolean;
  /**
   * The member's `latest` when its facets were read: they come from it (and from its pod's
   * namespace, whose change is structural), and the model keeps the object while none of its
   * values changes (share.ts). A member whose `latest` and staleness are those of its state
   * leaves its group as it was: most changes of a member are new metric samples, which a group
   * node does not show.
   */
  latest: ReportNode['latest'];
}

/**
 * A group's members and the tallies its facets are read from, kept up to date member by
 * member: a group can hold thousands of members (10,000 containers in six images), and one
 * member's new state must not cost a walk over all of them. `members` is filled by a full
 * render and never changed afterwards (membership changes only with a full render, which
 * builds new groups), so a rendered group node can read it later.
 */
interface Group {
  readonly members: Set<string>;
  running: number;
  system: number;
  stale: number;
  /** Namespace → members in it. */
  readonly namespaces: Map<string, number>;
}

function newGroup(): Group {
  return { members: new Set(), running: 0, system: 0, stale: 0, namespaces: new Map() };
}

/** Adds (sign 1) or removes (-1) one member's state to or from its group's tallies. */
function tally(g: Group, s: MemberState, sign: 1 | -1): void {
  if (s.facets.running) g.running += sign;
  if (s.facets.system) g.system += sign;
  if (s.stale) g.stale += sign;
  const n = (g.namespaces.get(s.facets.namespace) ?? 0) + sign;
  if (n > 0) g.namespaces.set(s.facets.namespace, n);
  else g.namespaces.delete(s.facets.namespace);
}

const EMPTY: readonly string[] = [];
const NO_EDGES: Edges = [];

/**
 * Renders one view incrementally.
 *
 * State kept between renders: each source's edges (its contribution), edge
 * counts per (from, to) so that two sources giving one edge keep it until both
 * are gone, children counts, groups and their members, and each node's
 * serialisation. A change that can move nodes between parents, groups or
 * labels (the `structural` flag of `note`, see ChangeClassifier) makes the next
 * render walk the whole model, reusing serialisations whose inputs did not
 * change; any other change re-renders only the changed nodes, the sources
 * among them, and the nodes whose edges those sources changed.
 */
export class ViewRenderer {
  readonly spec: ViewSpec;
  private readonly nodes = new Map<string, RenderedNode>();
  private readonly cache = new Map<string, CacheEntry>();
  /** from → to → how many sources give that edge. */
  private readonly out = new Map<string, Map<string, number>>();
  /** to → from → count (the incoming side of `out`). */
  private readonly inc = new Map<string, Map<string, number>>();
  private readonly contrib = new Map<string, Edges>();
  private childCounts = new Map<string, Map<TopologyName, number>>();
  private readonly groups = new Map<string, Group>();
  private readonly groupOfMember = new Map<string, string>();
  private readonly memberState = new Map<string, MemberState>();
  private needsFull = true;
  private readonly pendingBase = new Set<string>();
  private readonly pendingProcesses = new Set<string>();
  private readonly pendingEndpoints = new Set<string>();

  constructor(
    private readonly model: LiveModel,
    view: ViewId,
  ) {
    this.spec = VIEWS[view];
  }

  /**
   * Records a model change for the next render. A change that is not structural changes edges
   * only where a source's adjacency changed (`kind.edgeSources`): a source's edges are its
   * adjacency lifted to the view, and what a lift reads (parents, which nodes exist) changes only
   * structurally. Most changes of a process are new metric samples, and its edges are not lifted
   * again for them.
   */
  note(changed: Readonly<Record<TopologyName, ReadonlySet<string>>>, kind: ChangeKind): void {
    if (this.needsFull) return;
    if (kind.structural) {
      this.needsFull = true;
      this.pendingBase.clear();
      this.pendingProcesses.clear();
      this.pendingEndpoints.clear();
      return;
    }
    for (const id of changed[this.spec.base]) this.pendingBase.add(id);
    for (const id of kind.edgeSources.process) this.pendingProcesses.add(id);
    for (const id of kind.edgeSources.endpoint) this.pendingEndpoints.add(id);
  }

  /** Forgets all incremental state: the next render walks the whole model (tests compare the two paths). */
  invalidate(): void {
    this.needsFull = true;
  }

  /**
   * Drops everything the renderer holds (nodes, serialisations, edges, groups), for a view
   * nobody watches any more: the next render is a full one. Returns nothing a caller could keep.
   */
  reset(): void {
    this.needsFull = true;
    this.nodes.clear();
    this.cache.clear();
    this.out.clear();
    this.inc.clear();
    this.contrib.clear();
    this.childCounts = new Map();
    this.groups.clear();
    this.groupOfMember.clear();
    this.memberState.clear();
    this.pendingBase.clear();
    this.pendingProcesses.clear();
    this.pendingEndpoints.clear();
  }

  render(now: number): RenderOutcome {
    const changed = new Set<string>();
    const full = this.needsFull;
    if (full) this.renderFull(changed);
    else this.renderIncremental(changed);
    this.needsFull = false;
    this.pendingBase.clear();
    this.pendingProcesses.clear();
    this.pendingEndpoints.clear();
    return { view: { view: this.spec.id, version: this.model.version, at: now, nodes: this.nodes, incoming: this.inc }, changed, full };
  }

  private edgesOf(ctx: LiftContext, topology: 'process' | 'endpoint', m: MergedNode | undefined): Edges {
    if (!m || m.node.adjacency.length === 0) return NO_EDGES;
    const from = ctx.lift(topology, m.id);
    if (from.length === 0) return NO_EDGES;
    const out: Array<readonly [string, string]> = [];
    for (const target of m.node.adjacency) {
      const tt = topologyOf(target);
      if (tt === null) continue;
      for (const to of ctx.lift(tt, target)) for (const f of from) if (f !== to) out.push([f, to]);
    }
    return out.length === 0 ? NO_EDGES : out;
  }

  /** Adds (sign 1) or removes (-1) a source's edges; `touched` gets the ids whose adjacency or incoming changed. */
  private applyEdges(edges: Edges, sign: 1 | -1, touched: Set<string> | null): void {
    for (const [f, to] of edges) {
      if (bump(this.out, f, to, sign)) touched?.add(f);
      if (bump(this.inc, to, f, sign)) touched?.add(to);
    }
  }

  private renderFull(changed: Set<string>): void {
    const ctx = new LiftContext(this.model, this.spec);
    this.out.clear();
    this.inc.clear();
    this.contrib.clear();
    const childCounts = new Map<string, Map<TopologyName, number>>();
    const addChild = (parent: string, t: TopologyName): void => {
      let m = childCounts.get(parent);
      if (!m) childCounts.set(parent, (m = new Map()));
      m.set(t, (m.get(t) ?? 0) + 1);
    };
    for (const topology of ['process', 'endpoint'] as const) {
      for (const m of this.model.topology(topology).values()) {
        if (topology === 'process' && this.spec.base !== 'process') for (const up of ctx.lift('process', m.id)) addChild(up, 'process');
        const e = this.edgesOf(ctx, topology, m);
        if (e.length === 0) continue;
        this.contrib.set(m.id, e);
        this.applyEdges(e, 1, null);
      }
    }
    if (this.spec.base === 'host' || this.spec.base === 'pod') {
      for (const c of this.model.topology('container').values()) for (const up of ctx.lift('container', c.id)) addChild(up, 'container');
    }
    if (this.spec.base === 'service' || this.spec.base === 'controller' || this.spec.base === 'host') {
      for (const p of this.model.topology('pod').values()) for (const up of ctx.lift('pod', p.id)) addChild(up, 'pod');
    }
    this.childCounts = childCounts;

    const seen = new Set<string>();
    const base = this.model.topology(this.spec.base);
    if (this.spec.groupBy === undefined) {
      for (const m of base.values()) {
        seen.add(m.id);
        this.renderBase(m, changed);
      }
    } else {
      this.groups.clear();
      this.groupOfMember.clear();
      this.memberState.clear();
      for (const m of base.values()) {
        const gid = ctx.groupOf(m);
        let g = this.groups.get(gid);
        if (!g) this.groups.set(gid, (g = newGroup()));
        g.members.add(m.id);
        this.groupOfMember.set(m.id, gid);
        const state: MemberState = { facets: facetsOf(this.model, m, true), stale: m.stale, latest: m.node.latest };
        this.memberState.set(m.id, state);
        tally(g, state, 1);
      }
      for (const gid of this.groups.keys()) {
        seen.add(gid);
        this.renderGroupNode(gid, changed);
      }
    }
    for (const id of this.nodes.keys()) {
      if (seen.has(id)) continue;
      this.nodes.delete(id);
      this.cache.delete(id);
      changed.add(id);
    }
  }

  private renderIncremental(changed: Set<string>): void {
    const ctx = new LiftContext(this.model, this.spec);
    const touched = new Set<string>();
    for (const [topology, ids] of [['process', this.pendingProcesses], ['endpoint', this.pendingEndpoints]] as const) {
      for (const id of ids) {
        const old = this.contrib.get(id) ?? NO_EDGES;
        const next = this.edgesOf(ctx, topology, this.model.get(topology, id));
        if (sameEdges(old, next)) continue;
        this.applyEdges(old, -1, touched);
        this.applyEdges(next, 1, touched);
        if (next.length > 0) this.contrib.set(id, next);
        else this.contrib.delete(id);
      }
    }
    if (this.spec.groupBy === undefined) {
      // A node whose edges did not change reads, besides itself, what only a full render changes.
      for (const id of this.pendingBase) {
        if (touched.has(id)) continue;
        const m = this.model.get(this.spec.base, id);
        if (m && !this.renderUnmoved(m, changed)) this.renderBase(m, changed);
      }
      for (const id of touched) {
        const m = this.model.get(this.spec.base, id);
        if (m) this.renderBase(m, changed);
      }
      return;
    }
    const dirty = new Set<string>();
    for (const id of this.pendingBase) {
      const m = this.model.get(this.spec.base, id);
      const gid = this.groupOfMember.get(id);
      // Members come and go only with a structural change (a full render).
      if (!m || gid === undefined) continue;
      const g = this.groups.get(gid)!;
      const old = this.memberState.get(id);
      if (old !== undefined && old.latest === m.node.latest && old.stale === m.stale) continue;
      if (old !== undefined) tally(g, old, -1);
      const state: MemberState = { facets: facetsOf(this.model, m, true), stale: m.stale, latest: m.node.latest };
      this.memberState.set(id, state);
      tally(g, state, 1);
      dirty.add(gid);
    }
    for (const id of touched) if (this.groups.has(id)) dirty.add(id);
    for (const gid of dirty) this.renderGroupNode(gid, changed);
  }

  /**
   * Renders a node whose edges an incremental render left as they were, if it can be done from its
   * last render: true when it was. Besides the node itself, a render reads its edges, its children
   * counts and its parents' labels, and its namespace (`key` in renderBase): between full renders
   * only edges change (a parent's new label, a new namespace and a new child are structural), so
   * the key need not be made again. When the node's metric rings alone changed, the render is its
   * last one with its metrics again (withMetrics).
   */
  private renderUnmoved(m: MergedNode, changed: Set<string>): boolean {
    const cached = this.cache.get(m.id);
    return cached !== undefined && cached.stale === m.stale && this.place(m, cached.key, changed, null);
  }

  private renderBase(m: MergedNode, changed: Set<string>): void {
    const outs = this.out.get(m.id);
    const adjacency = outs ? [...outs.keys()].sort() : (EMPTY as string[]);
    const children = childList(this.childCounts.get(m.id));
    const parents = this.parentRefs(m.node);
    const hasIncoming = this.inc.has(m.id);
    const ns = m.topology === 'container' ? namespaceOf(this.model, m) : '';
    const key = `${m.stale ? 1 : 0}|${adjacency.join(',')}|${JSON.stringify(children)}|${parents.map((p) => p.label).join(',')}|${hasIncoming ? 1 : 0}|${ns}`;
    this.place(m, key, changed, () => this.renderOne(m, adjacency, children, parents, hasIncoming));
  }

  /**
   * Puts the node's render for `key` (what it read besides the node) in the view: its last render
   * when neither changed, that render with its metrics again when the node's metric rings alone
   * changed, else `fresh()`; `changed` gets its id when its serialisation changed. False, and
   * nothing done, when a fresh render is needed and `fresh` is null.
   */
  private place(m: MergedNode, key: string, changed: Set<string>, fresh: (() => RenderedNode) | null): boolean {
    const cached = this.cache.get(m.id);
    const same = cached !== undefined && cached.key === key;
    if (same && cached.node === m.node) {
      if (this.nodes.get(m.id) !== cached.rendered) {
        this.nodes.set(m.id, cached.rendered);
        changed.add(m.id);
      }
      return true;
    }
    const rendered = same && onlyMetricsDiffer(cached.node, m.node) ? withMetrics(cached.rendered, m.node) : fresh?.();
    if (rendered === undefined) return false;
    this.cache.set(m.id, { node: m.node, key, stale: m.stale, rendered });
    const prev = this.nodes.get(m.id);
    this.nodes.set(m.id, rendered);
    if (prev === undefined || !sameParts(prev.parts, rendered.parts)) changed.add(m.id);
    return true;
  }

  private renderGroupNode(gid: string, changed: Set<string>): void {
    const g = this.groups.get(gid);
    if (!g || g.members.size === 0) return;
    const outs = this.out.get(gid);
    const adjacency = outs ? [...outs.keys()].sort() : [];
    const rendered = this.renderGroup(gid, g, adjacency, this.inc.has(gid));
    const prev = this.nodes.get(gid);
    this.nodes.set(gid, rendered);
    if (prev === undefined || !sameParts(prev.parts, rendered.parts)) changed.add(gid);
  }

  private parentRefs(node: ReportNode): NodeRef[] {
    const out: NodeRef[] = [];
    for (const t of TOPOLOGY_NAMES) {
      const ids = node.parents[t];
      if (!ids) continue;
      for (const id of ids) out.push({ id, topology: t, label: naming(t, id, this.model.get(t, id)?.node).label });
    }
    return out;
  }

  private renderOne(m: MergedNode, adjacency: string[], children: ViewNode['children'], parents: NodeRef[], hasIncoming: boolean): RenderedNode {
    const nm = naming(m.topology, m.id, m.node);
    const v: ViewNode = {
      id: m.id,
      topology: m.topology,
      label: nm.label,
      labelMinor: nm.labelMinor,
      shape: nm.shape,
      rank: nm.rank,
      adjacency,
      metadata: metadataOf(m.node),
      metrics: metricsOf(m.node),
      parents,
      children,
      controls: controlsOf(m.node),
    };
    if (m.stale) v.stale = true;
    return new PartsNode(m.id, nm.label, partsOf(v), facetsOf(this.model, m, adjacency.length > 0 || hasIncoming), [m.id], m.node.metrics);
  }

  private renderGroup(gid: string, g: Group, adjacency: string[], hasIncoming: boolean): RenderedNode {
    const members = g.members;
    const firstId = members.values().next().value as string;
    const first = this.model.get(this.spec.base, firstId)!;
    const nm = naming(first.topology, first.id, first.node);
    const label = this.spec.groupBy === 'image' ? imageName(text(first.node, KEYS.image)) || '(no image)' : nm.label;
    const n = members.size;
    const v: ViewNode = {
      id: gid,
      topology: 'group',
      label,
      labelMinor: `${n} ${plural(n, this.spec.base === 'process' ? ['process', 'processes'] : ['container', 'containers'])}`,
      shape: nm.shape,
      rank: label,
      stack: n,
      adjacency,
      metadata: [],
      metrics: [],
      parents: [],
      children: [{ topology: this.spec.base, count: n }],
      controls: [],
    };
    if (g.stale === n) v.stale = true;
    // One namespace shared by every member is the group's; members in several give none.
    const namespace = g.namespaces.size === 1 ? (g.namespaces.keys().next().value as string) : '';
    let snapshot: string[] | null = null;
    // Copied and sorted when asked (node detail), not per render: a group can hold thousands of
    // members. The set does not change after the full render that built it (see Group).
    const facets = { namespace, running: g.running > 0, system: g.system === n, connected: adjacency.length > 0 || hasIncoming };
    return new PartsNode(gid, label, partsOf(v), facets, () => (snapshot ??= [...members].sort()));
  }
}

/** Adds or removes one (a, b) count; true when the pair appeared or disappeared. */
function bump(map: Map<string, Map<string, number>>, a: string, b: string, sign: 1 | -1): boolean {
  let m = map.get(a);
  if (sign > 0) {
    if (!m) map.set(a, (m = new Map()));
    const c = (m.get(b) ?? 0) + 1;
    m.set(b, c);
    return c === 1;
  }
  if (!m) return false;
  const c = (m.get(b) ?? 0) - 1;
  if (c > 0) {
    m.set(b, c);
    return false;
  }
  m.delete(b);
  if (m.size === 0) map.delete(a);
  return true;
}

function sameEdges(a: Edges, b: Edges): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  return true;
}

/** What kind of change a model change set is, for the views (ChangeClassifier). */
export interface ChangeKind {
  /** It can move nodes between parents, groups or labels: views render whole (see ChangeClassifier). */
  readonly structural: boolean;
  /**
   * The changed processes and endpoints whose adjacency changed: the only sources whose edges a
   * change that is not structural can change (see ViewRenderer.note).
   */
  readonly edgeSources: { readonly process: readonly string[]; readonly endpoint: readonly string[] };
}

interface SeenNode {
  parents: ReportNode['parents'];
  latest: ReportNode['latest'];
  adjacency: ReportNode['adjacency'];
  sig: string;
}

/**
 * Decides, per model change, whether it is structural: whether it can change
 * anything beyond the changed nodes' own rendering and their own edges. A node
 * appearing or disappearing, new parents, or a new label, name, image or
 * namespace (what lifts, groups, parent labels and namespace facets read) is
 * structural; metrics, states and other values are not. Of the rest, it names
 * the processes and endpoints whose adjacency changed: the edge sources to lift
 * again. One classifier serves every view; it keeps one small record per raw node.
 */
export class ChangeClassifier {
  /** Per topology (not one map keyed by topology and id: that key was a string made per changed node). */
  private readonly seen = new Map<TopologyName, Map<string, SeenNode>>(TOPOLOGY_NAMES.map((t) => [t, new Map()]));

  constructor(private readonly model: LiveModel) {}

  classify(changed: Readonly<Record<TopologyName, ReadonlySet<string>>>): ChangeKind {
    let structural = false;
    const edgeSources = { process: [] as string[], endpoint: [] as string[] };
    for (const t of TOPOLOGY_NAMES) {
      const seen = this.seen.get(t)!;
      for (const id of changed[t]) {
        const m = this.model.get(t, id);
        const prev = seen.get(id);
        if (!m) {
          if (prev) seen.delete(id);
          structural = true;
          continue;
        }
        if (!prev) {
          seen.set(id, { parents: m.node.parents, latest: m.node.latest, adjacency: m.node.adjacency, sig: signature(t, m) });
          structural = true;
          continue;
        }
        // The signature reads the id and `latest` only, and the model keeps a node's `latest`
        // object while none of its values changes (share.ts): most changes (new metric samples)
        // need no new signature.
        if (prev.latest !== m.node.latest) {
          const sig = signature(t, m);
          if (prev.sig !== sig) structural = true;
          prev.sig = sig;
          prev.latest = m.node.latest;
        }
        if (!sameParents(prev.parents, m.node.parents)) structural = true;
        prev.parents = m.node.parents;
        // Kept as the same object while its ids do not change (share.ts), as `latest` is: a merge
        // of several probes' lists may be a new one each time, and is then named every time.
        if (prev.adjacency !== m.node.adjacency) {
          prev.adjacency = m.node.adjacency;
          if (t === 'process' || t === 'endpoint') edgeSources[t].push(id);
        }
      }
    }
    return { structural, edgeSources };
  }
}

function signature(t: TopologyName, m: MergedNode): string {
  const n = m.node;
  return `${naming(t, m.id, n).label}\u0000${text(n, KEYS.name)}\u0000${text(n, KEYS.image)}\u0000${text(n, KEYS.namespace)}`;
}

function sameParents(a: ReportNode['parents'], b: ReportNode['parents']): boolean {
  if (a === b) return true;
  for (const t of TOPOLOGY_NAMES) {
    const x = a[t];
    const y = b[t];
    if (x === y) continue;
    if (x === undefined || y === undefined || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  }
  return true;
}

/**
 * Lifting raw ids to the view's level, memoised for one render (many edges
 * share their ends).
 */
class LiftContext {
  private memo = new Map<string, string[]>();

  constructor(
    private readonly model: LiveModel,
    private readonly spec: ViewSpec,
  ) {}

  /** Rendered ids of the view that contain the raw node `id`. */
  lift(topology: TopologyName, id: string): string[] {
    const key = id;
    let out = this.memo.get(key);
    if (out === undefined) {
      out = this.compute(topology, id);
      this.memo.set(key, out);
    }
    return out;
  }

  groupOf(m: MergedNode): string {
    return groupKey(this.spec, m);
  }

  private parentsOf(topology: TopologyName, id: string, parent: TopologyName): readonly string[] {
    return this.model.get(topology, id)?.node.parents[parent] ?? EMPTY;
  }

  private compute(topology: TopologyName, id: string): string[] {
    if (topology === 'endpoint') {
      // The join across probes: an endpoint stands for the processes that own it.
      const owners = this.parentsOf('endpoint', id, 'process');
      if (owners.length === 0) return [];
      const out = new Set<string>();
      for (const p of owners) for (const r of this.lift('process', p)) out.add(r);
      return [...out];
    }
    const base = this.spec.base;
    if (topology === base) {
      const m = this.model.get(topology, id);
      if (!m) return [];
      return [this.spec.groupBy ? this.groupOf(m) : id];
    }
    const up = (t: TopologyName, parent: TopologyName): string[] => {
      const out = new Set<string>();
      for (const p of this.parentsOf(t, id, parent)) for (const r of this.lift(parent, p)) out.add(r);
      return [...out];
    };
    switch (topology) {
      case 'process':
        if (base === 'host') {
          const hosts = this.parentsOf('process', id, 'host');
          const list = hosts.length > 0 ? hosts : [`host;${id.split(';')[1]}`];
          return list.filter((h) => this.model.get('host', h) !== undefined);
        }
        if (base === 'container') return up('process', 'container');
        if (base === 'pod' || base === 'service' || base === 'controller') {
          const direct = up('process', 'pod');
          return direct.length > 0 ? direct : up('process', 'container');
        }
        return [];
      case 'container':
        if (base === 'host') return up('container', 'host');
        if (base === 'pod' || base === 'service' || base === 'controller') return up('container', 'pod');
        return [];
      case 'pod':
        if (base === 'host') return up('pod', 'host');
        if (base === 'service') return up('pod', 'service');
        if (base === 'controller') return up('pod', 'controller');
        return [];
      default:
        return [];
    }
  }
}

/** The id of the group node a base node belongs to, in a grouped view. */
/** The group a base node belongs to in a grouped view (its rendered node's id). */
export function groupKey(spec: ViewSpec, m: MergedNode): string {
  if (spec.groupBy === 'image') return `image;${encodeURIComponent(imageName(text(m.node, KEYS.image)))}`;
  return `process_name;${encodeURIComponent(text(m.node, KEYS.name))}`;
}

/**
 * How many nodes a render of the view would have, from the model alone: the
 * renderer's node-selection step (one node per base node, or one per group of
 * them) without lifting edges or building payloads: the full count that the
 * hub's incremental counts (GroupCounts) are tested against. It walks the
 * base topology (40,000 processes at 1,000 probes), so the app itself does
 * not call it per scrape.
 */
export function countViewNodes(model: LiveModel, spec: ViewSpec): number {
  const base = model.topology(spec.base);
  if (spec.groupBy === undefined) return base.size;
  const groups = new Set<string>();
  for (const m of base.values()) groups.add(groupKey(spec, m));
  return groups.size;
}

function plural(n: number, forms: [string, string]): string {
  return n === 1 ? forms[0] : forms[1];
}

const TOPOLOGY_SET: ReadonlySet<string> = new Set(TOPOLOGY_NAMES);

function topologyOf(id: string): TopologyName | null {
  const cut = id.indexOf(';');
  const t = cut > 0 ? id.slice(0, cut) : '';
  return TOPOLOGY_SET.has(t) ? (t as TopologyName) : null;
}

function childList(m: Map<TopologyName, number> | undefined): ViewNode['children'] {
  if (!m) return [];
  return TOPOLOGY_NAMES.filter((t) => m.has(t)).map((t) => ({ topology: t, count: m.get(t)! }));
}

export function metadataOf(node: ReportNode): MetadataRow[] {
  return Object.keys(node.latest)
    .sort()
    .map((k) => ({ id: k, value: node.latest[k]!.v }));
}

export function metricsOf(node: ReportNode): MetricRow[] {
  return metricKeys(node.metrics).map((k) => {
    const samples = node.metrics[k]!.samples;
    let min = Infinity;
    let max = -Infinity;
    for (const s of samples) {
      if (s[1] < min) min = s[1];
      if (s[1] > max) max = s[1];
    }
    return { id: k, value: samples[samples.length - 1]![1], min, max, samples };
  });
}

export function controlsOf(node: ReportNode): ControlRef[] {
  return (node.controls?.ids ?? []).map((id) => ({ id, label: CONTROLS[id].label, destructive: CONTROLS[id].destructive }));
}

export function namespaceOf(model: LiveModel, m: MergedNode): string {
  const own = text(m.node, KEYS.namespace);
  if (own || m.topology !== 'container') return own;
  const pod = m.node.parents.pod?.[0];
  const p = pod ? model.get('pod', pod) : undefined;
  return p ? text(p.node, KEYS.namespace) : '';
}

export function facetsOf(model: LiveModel, m: MergedNode, connected: boolean): Facets {
  const namespace = namespaceOf(model, m);
  const state = text(m.node, KEYS.state);
  let running = true;
  if (m.topology === 'container' || m.topology === 'pod') running = state === '' || RUNNING_STATES.has(state);
  let system = SYSTEM_NAMESPACES.has(namespace);
  if (m.topology === 'process') {
    // Kernel threads (no command line: the probe shows them as [name]) and init.
    system = text(m.node, KEYS.cmdline).startsWith('[') || value(m.node, KEYS.pid) === 1;
  } else if (m.topology === 'container') {
    system ||= text(m.node, KEYS.k8sContainerName) === 'POD';
  }
  return { namespace, running, system, connected };
}
