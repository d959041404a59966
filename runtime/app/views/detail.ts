/**
 * One node in detail: the rendered node, its connections in and out with
 * labels, the raw nodes below it (a container's processes, a host's
 * containers, a group's members), and the probes that report it.
 */
import { TOPOLOGY_NAMES, type TopologyName } from '../../report';
import type { LiveModel } from '../model';
import { naming } from './labels';
import type { RenderedView, ViewNode } from './render';

export interface NodeDetail {
  node: ViewNode;
  connections: { outgoing: Array<{ id: string; label: string }>; incoming: Array<{ id: string; label: string }> };
  children: Array<{ id: string; topology: TopologyName; label: string }>;
  probes: string[];
}

const MAX_CHILDREN = 500;

/** Which raw topologies hold a node's children, and through which parent key. */
const CHILD_TOPOLOGIES: Readonly<Partial<Record<TopologyName, readonly TopologyName[]>>> = {
  host: ['container', 'process'],
  container: ['process'],
  pod: ['container'],
  service: ['pod'],
  controller: ['pod'],
  container_image: ['container'],
};

export function nodeDetail(model: LiveModel, view: RenderedView, id: string): NodeDetail | null {
  const r = view.nodes.get(id);
  if (!r) return null;
  const node = JSON.parse(r.json) as ViewNode;
  const label = (x: string): string => view.nodes.get(x)?.label ?? x;
  const outgoing = node.adjacency.map((x) => ({ id: x, label: label(x) }));
  const incoming = [...(view.incoming.get(id)?.keys() ?? [])].sort().map((x) => ({ id: x, label: label(x) }));
  const children: NodeDetail['children'] = [];
  const probes = new Set<string>();
  if (node.topology === 'group') {
    const base = TOPOLOGY_NAMES.find((t) => model.get(t, r.members[0] ?? '') !== undefined);
    for (const m of r.members.slice(0, MAX_CHILDREN)) {
      if (base) children.push({ id: m, topology: base, label: naming(base, m, model.get(base, m)?.node).label });
    }
  } else {
    const topology = node.topology;
    for (const p of model.get(topology, id)?.probes ?? []) probes.add(p);
    for (const t of CHILD_TOPOLOGIES[topology] ?? []) {
      for (const m of model.topology(t).values()) {
        if (children.length >= MAX_CHILDREN) break;
        const parents = m.node.parents[topology];
        const isChild = parents ? parents.includes(id) : topology === 'host' && t === 'process' && id === `host;${m.id.split(';')[1]}`;
        if (isChild) children.push({ id: m.id, topology: t, label: naming(t, m.id, m.node).label });
      }
    }
  }
  return { node, connections: { outgoing, incoming }, children, probes: [...probes].sort() };
}
