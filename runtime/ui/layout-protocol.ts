/**
 * The messages between the page and the layout worker (runtime/ui/layout-worker.ts).
 *
 * The page says only what changed (nodes placed in a group, nodes gone, or
 * "start over" when the grouping changes); the worker answers with positions
 * as one Float32Array per reply, transferred rather than copied. It answers
 * for the nodes it placed, or for every node when groups moved (a repack), so
 * nodes that did not change are neither laid out again nor sent again.
 */

export interface LayoutRequest {
  /** Increases with every request; a reply carries the seq it answers. */
  seq: number;
  /** Forget every placement first (a new grouping or a new view). */
  clear: boolean;
  /** [node id, group key] pairs: new nodes, or nodes whose group changed. */
  place: Array<[string, string]>;
  /** Node ids gone from the view. */
  remove: string[];
}

export interface LayoutReply {
  type: 'positions';
  seq: number;
  /** True when every placed node is in `ids` (groups moved, or the layout started over). */
  all: boolean;
  ids: string[];
  /** x, y of ids[i] at 2i, 2i+1. */
  xy: Float32Array;
  /** Every group: key, and centre x, y and radius at 3i, 3i+1, 3i+2 of `groupGeo`. */
  groups: string[];
  groupGeo: Float32Array;
  /** Extent of everything placed: x0, x1, y0, y1. */
  bounds: [number, number, number, number];
  /** Time the worker spent on this request (ms), for the page's diagnostics. */
  ms: number;
}

export interface LayoutFailure {
  type: 'error';
  seq: number;
  code: 'LAYOUT_BAD_REQUEST' | 'LAYOUT_FAILED';
  message: string;
}

export type LayoutMessage = LayoutReply | LayoutFailure;

/** Checks a request's shape (the worker trusts nothing it is sent). */
export function requestProblem(m: unknown): string | null {
  if (typeof m !== 'object' || m === null) return 'a request must be an object';
  const r = m as Partial<LayoutRequest>;
  if (typeof r.seq !== 'number' || !Number.isInteger(r.seq)) return 'seq must be an integer';
  if (typeof r.clear !== 'boolean') return 'clear must be a boolean';
  if (!Array.isArray(r.place) || !r.place.every((p) => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string')) return 'place must be [id, group] string pairs';
  if (!Array.isArray(r.remove) || !r.remove.every((id) => typeof id === 'string')) return 'remove must be strings';
  return null;
}
