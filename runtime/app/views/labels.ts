/**
 * How a raw node is named for people: label, sublabel, shape and rank. Used by
 * the views, node detail and search, so a node reads the same everywhere.
 */
import type { ReportNode, TopologyName } from '../../report';
import { KEYS, text } from './keys';

export type Shape = 'circle' | 'square' | 'hexagon' | 'heptagon' | 'cloud' | 'triangle' | 'diamond';

export interface Naming {
  label: string;
  labelMinor: string;
  shape: Shape;
  rank: string;
}

const SHAPES: Readonly<Record<TopologyName, Shape>> = {
  host: 'circle',
  process: 'square',
  container: 'hexagon',
  container_image: 'hexagon',
  pod: 'heptagon',
  service: 'cloud',
  controller: 'triangle',
  endpoint: 'diamond',
};

/** The readable parts of an id (`process;web-1;42;9001` → `web-1`, for a host part). */
function idPart(id: string, index: number): string {
  const f = id.split(';')[index] ?? id;
  try {
    return decodeURIComponent(f);
  } catch {
    return f;
  }
}

/** The host name a node id or node carries, '' when none. */
export function hostnameOf(id: string, node: ReportNode | undefined, topology: TopologyName): string {
  if (topology === 'host' || topology === 'process') return idPart(id, 1);
  const host = node?.parents.host?.[0];
  return host ? idPart(host, 1) : '';
}

export function naming(topology: TopologyName, id: string, node: ReportNode | undefined): Naming {
  const n = node;
  const name = n ? text(n, KEYS.name) : '';
  switch (topology) {
    case 'host':
      return { label: name || idPart(id, 1), labelMinor: n ? text(n, KEYS.os) : '', shape: SHAPES.host, rank: name || idPart(id, 1) };
    case 'process': {
      const pid = idPart(id, 2);
      const host = idPart(id, 1);
      return { label: name || `pid ${pid}`, labelMinor: `${host} (${pid})`, shape: SHAPES.process, rank: name };
    }
    case 'container': {
      const image = n ? text(n, KEYS.image) : '';
      return { label: name || idPart(id, 1).slice(0, 12), labelMinor: image, shape: SHAPES.container, rank: imageName(image) };
    }
    case 'container_image': {
      const image = n ? text(n, KEYS.image) || name : '';
      return { label: imageName(image) || idPart(id, 1).slice(0, 19), labelMinor: imageTag(image), shape: SHAPES.container_image, rank: imageName(image) };
    }
    case 'pod':
    case 'service':
    case 'controller': {
      const ns = n ? text(n, KEYS.namespace) : '';
      const kind = topology === 'controller' && n ? text(n, KEYS.kind) : '';
      return { label: name || idPart(id, 1), labelMinor: kind ? `${kind} in ${ns}` : ns, shape: SHAPES[topology], rank: ns };
    }
    case 'endpoint': {
      const addr = idPart(id, 2);
      return { label: `${addr.includes(':') ? `[${addr}]` : addr}:${idPart(id, 3)}`, labelMinor: idPart(id, 1), shape: SHAPES.endpoint, rank: '' };
    }
  }
}

/** `registry/ns/nginx:1.25` → `registry/ns/nginx` (the part that groups versions). */
export function imageName(image: string): string {
  const at = image.indexOf('@');
  const noDigest = at >= 0 ? image.slice(0, at) : image;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

export function imageTag(image: string): string {
  const name = imageName(image);
  return image.length > name.length ? image.slice(name.length + 1) : '';
}
