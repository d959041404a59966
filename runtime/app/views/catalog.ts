/**
 * The views the app offers and the filters each one takes. This is the one
 * list the renderer, the REST and WebSocket routes, the request schemas and the
 * OpenAPI document read, so a view added here appears in all of them.
 */
import type { TopologyName } from '../../report';

export const VIEW_IDS = [
  'processes',
  'processes-by-name',
  'containers',
  'containers-by-image',
  'pods',
  'services',
  'controllers',
  'hosts',
] as const;
export type ViewId = (typeof VIEW_IDS)[number];

export const FILTER_NAMES = ['namespace', 'status', 'system', 'unconnected'] as const;
export type FilterName = (typeof FILTER_NAMES)[number];

/** Filters as validated query values; an absent filter shows everything. */
export interface Filters {
  namespace?: string;
  status?: 'running' | 'stopped';
  system?: 'application' | 'system';
  unconnected?: 'hide';
}

export interface ViewSpec {
  id: ViewId;
  label: string;
  /** The raw topology whose nodes make this view's nodes (one each, or grouped). */
  base: TopologyName;
  /** Grouped views: one rendered node per group of base nodes. */
  groupBy?: 'name' | 'image';
  filters: readonly FilterName[];
}

export const VIEWS: Readonly<Record<ViewId, ViewSpec>> = {
  processes: { id: 'processes', label: 'Processes', base: 'process', filters: ['system', 'unconnected'] },
  'processes-by-name': { id: 'processes-by-name', label: 'Processes by name', base: 'process', groupBy: 'name', filters: ['system', 'unconnected'] },
  containers: { id: 'containers', label: 'Containers', base: 'container', filters: ['namespace', 'status', 'system', 'unconnected'] },
  'containers-by-image': { id: 'containers-by-image', label: 'Containers by image', base: 'container', groupBy: 'image', filters: ['namespace', 'status', 'system', 'unconnected'] },
  pods: { id: 'pods', label: 'Pods', base: 'pod', filters: ['namespace', 'status', 'system', 'unconnected'] },
  services: { id: 'services', label: 'Services', base: 'service', filters: ['namespace', 'system', 'unconnected'] },
  controllers: { id: 'controllers', label: 'Controllers', base: 'controller', filters: ['namespace', 'system', 'unconnected'] },
  hosts: { id: 'hosts', label: 'Hosts', base: 'host', filters: ['unconnected'] },
};

export function isViewId(x: string): x is ViewId {
  return Object.prototype.hasOwnProperty.call(VIEWS, x);
}

/** A canonical string for a filter set: equal filters share one WebSocket topic. */
export function filterKey(f: Filters): string {
  const parts: string[] = [];
  for (const name of FILTER_NAMES) if (f[name] !== undefined) parts.push(`${name}=${encodeURIComponent(f[name]!)}`);
  return parts.join('&');
}
