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
  readonly json: string;
  readonly facets: Facets;
  /** Raw node ids behind this node (one, or a group's members). */
  readonly members: readonly string[];
}

export interface RenderedView {
  view: ViewId;
  /** Model version rendered. */
  version: number;
  /** performance.now() at render. */
  at: number;
  nodes: ReadonlyMap<string, RenderedNode>;
  /** id → ids of the nodes with an edge to it. */
  incoming: ReadonlyMap<string, ReadonlySet<string>>;
}

interface CacheEntry {
  node: ReportNode;
  key: string;
  rendered: RenderedNode;
}

const EMPTY: readonly string[] = [];

/** Renders one view, reusing the serialisations of its previous render where nothing changed. */
export class ViewRenderer {
  private cache = new Map<string, CacheEntry>();
  readonly spec: ViewSpec;

  constructor(
    private readonly model: LiveModel,
    view: ViewId,
  ) {
    this.spec = VIEWS[view];
  }

  render(now: number): RenderedView {
    const ctx = new LiftContext(this.model, this.spec);
    const edges = new Map<string, Set<string>>();
    const incoming = new Map<string, Set<string>>();
    const childCounts = new Map<string, Map<TopologyName, number>>();
    const addChild = (parent: string, t: TopologyName): void => {
      let m = childCounts.get(parent);
      if (!m) childCounts.set(parent, (m = new Map()));
      m.set(t, (m.get(t) ?? 0) + 1);
    };

    // Edges, and the children counts that come from processes.
    for (const [topology, sourceTopology] of [['process', 'process'], ['endpoint', 'endpoint']] as const) {
      for (const m of this.model.topology(topology).values()) {
        if (sourceTopology === 'process' && this.spec.base !== 'process') for (const up of ctx.lift('process', m.id)) addChild(up, 'process');
        if (m.node.adjacency.length === 0) continue;
        const from = ctx.lift(topology, m.id);
        if (from.length === 0) continue;
        for (const target of m.node.adjacency) {
          const tt = topologyOf(target);
          if (tt === null) continue;
          for (const to of ctx.lift(tt, target)) {
            for (const f of from) {
              if (f === to) continue;
              let set = edges.get(f);
              if (!set) edges.set(f, (set = new Set()));
              set.add(to);
              let inc = incoming.get(to);
              if (!inc) incoming.set(to, (inc = new Set()));
              inc.add(f);
            }
          }
        }
      }
    }
    // Children counts from the other levels.
    if (this.spec.base === 'host' || this.spec.base === 'pod') {
      for (const c of this.model.topology('container').values()) for (const up of ctx.lift('container', c.id)) addChild(up, 'container');
    }
    if (this.spec.base === 'service' || this.spec.base === 'controller' || this.spec.base === 'host') {
      for (const p of this.model.topology('pod').values()) for (const up of ctx.lift('pod', p.id)) addChild(up, 'pod');
    }

    const nodes = new Map<string, RenderedNode>();
    const nextCache = new Map<string, CacheEntry>();
    const base = this.model.topology(this.spec.base);
    if (this.spec.groupBy === undefined) {
      for (const m of base.values()) {
        const adjacency = edges.has(m.id) ? [...edges.get(m.id)!].sort() : (EMPTY as string[]);
        const children = childList(childCounts.get(m.id));
        const parents = this.parentRefs(m.node);
        const key = `${m.stale ? 1 : 0}|${adjacency.join(',')}|${JSON.stringify(children)}|${parents.map((p) => p.label).join(',')}|${incoming.has(m.id) ? 1 : 0}`;
        const cached = this.cache.get(m.id);
        if (cached && cached.node === m.node && cached.key === key) {
          nodes.set(m.id, cached.rendered);
          nextCache.set(m.id, cached);
          continue;
        }
        const rendered = this.renderOne(m, adjacency, children, parents, incoming.has(m.id));
        nodes.set(m.id, rendered);
        nextCache.set(m.id, { node: m.node, key, rendered });
      }
    } else {
      const groups = new Map<string, MergedNode[]>();
      for (const m of base.values()) {
        const g = ctx.groupOf(m);
        let list = groups.get(g);
        if (!list) groups.set(g, (list = []));
        list.push(m);
      }
      for (const [gid, members] of groups) {
        const adjacency = edges.has(gid) ? [...edges.get(gid)!].sort() : [];
        nodes.set(gid, this.renderGroup(gid, members, adjacency, incoming.has(gid)));
      }
    }
    this.cache = nextCache;
    return { view: this.spec.id, version: this.model.version, at: now, nodes, incoming };
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
    return { id: m.id, label: nm.label, json: JSON.stringify(v), facets: facetsOf(this.model, m, adjacency.length > 0 || hasIncoming), members: [m.id] };
  }

  private renderGroup(gid: string, members: MergedNode[], adjacency: string[], hasIncoming: boolean): RenderedNode {
    const first = members[0]!;
    const nm = naming(first.topology, first.id, first.node);
    const label = this.spec.groupBy === 'image' ? imageName(text(first.node, KEYS.image)) || '(no image)' : nm.label;
    const facets = members.map((m) => facetsOf(this.model, m, true));
    const v: ViewNode = {
      id: gid,
      topology: 'group',
      label,
      labelMinor: `${members.length} ${plural(members.length, this.spec.base === 'process' ? ['process', 'processes'] : ['container', 'containers'])}`,
      shape: nm.shape,
      rank: label,
      stack: members.length,
      adjacency,
      metadata: [],
      metrics: [],
      parents: [],
      children: [{ topology: this.spec.base, count: members.length }],
      controls: [],
    };
    if (members.every((m) => m.stale)) v.stale = true;
    const namespaces = new Set(facets.map((f) => f.namespace));
    return {
      id: gid,
      label,
      json: JSON.stringify(v),
      facets: {
        namespace: namespaces.size === 1 ? [...namespaces][0]! : '',
        running: facets.some((f) => f.running),
        system: facets.every((f) => f.system),
        connected: adjacency.length > 0 || hasIncoming,
      },
      members: members.map((m) => m.id).sort(),
    };
  }
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
    if (this.spec.groupBy === 'image') return `image;${encodeURIComponent(imageName(text(m.node, KEYS.image)))}`;
    return `process_name;${encodeURIComponent(text(m.node, KEYS.name))}`;
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
  return Object.keys(node.metrics)
    .sort()
    .flatMap((k) => {
      const samples = node.metrics[k]!.samples;
      if (samples.length === 0) return [];
      let min = Infinity;
      let max = -Infinity;
      for (const s of samples) {
        if (s[1] < min) min = s[1];
        if (s[1] > max) max = s[1];
      }
      return [{ id: k, value: samples[samples.length - 1]![1], min, max, samples }];
    });
}

export function controlsOf(node: ReportNode): ControlRef[] {
  return (node.controls?.ids ?? []).map((id) => ({ id, label: CONTROLS[id].label, destructive: CONTROLS[id].destructive }));
}

function namespaceOf(model: LiveModel, m: MergedNode): string {
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
