/**
 * The shapes the UI reads from the app's REST and WebSocket API (see
 * docs/openapi.json). Declared here, not imported from runtime/app: the UI
 * meets the app only over HTTP and WebSocket.
 */
export interface MetricRow {
  id: string;
  value: number;
  min: number;
  max: number;
  samples: ReadonlyArray<readonly [number, number]>;
}

export interface NodeRef {
  id: string;
  topology: string;
  label: string;
}

export interface ControlRef {
  id: string;
  label: string;
  destructive: boolean;
}

export interface ViewNode {
  id: string;
  topology: string;
  label: string;
  labelMinor: string;
  shape: string;
  rank: string;
  stack?: number;
  stale?: boolean;
  adjacency: string[];
  metadata: Array<{ id: string; value: string | number | boolean }>;
  metrics: MetricRow[];
  parents: NodeRef[];
  children: Array<{ topology: string; count: number }>;
  controls: ControlRef[];
}

export interface NodeDetail {
  node: ViewNode;
  connections: { outgoing: Array<{ id: string; label: string }>; incoming: Array<{ id: string; label: string }> };
  children: Array<{ id: string; topology: string; label: string }>;
  probes: string[];
}

export interface ViewSummary {
  id: string;
  label: string;
  nodes: number;
  filters: string[];
}

export interface SearchHit {
  id: string;
  topology: string;
  view: string | null;
  label: string;
  labelMinor: string;
  score: number;
  matches: Array<{ field: string; value: string }>;
  stale: boolean;
}

export interface SearchResult {
  query: string;
  total: number;
  hits: SearchHit[];
}

export interface Session {
  name: string;
  role: 'viewer' | 'admin' | 'probe';
}

/**
 * Metric rings that slid: drop the `drop` oldest samples of the row `id`, append `add`, and take
 * value, min and max from the result (the newest sample, the extremes).
 */
export interface MetricTail {
  id: string;
  drop: number;
  add: Array<[number, number]>;
}

/**
 * An update of a node the client holds: its id and the members that changed (`stale: false` when
 * no longer stale); `metricsTail` instead of `metrics` when only metric rings slid.
 */
export type NodePatch = Partial<ViewNode> & { id: string; metricsTail?: MetricTail[] };

export type FeedMessage =
  | { type: 'full'; view: string; filter: string; seq: number; nodes: ViewNode[] }
  | { type: 'delta'; view: string; filter: string; seq: number; add: ViewNode[]; update: NodePatch[]; remove: string[] }
  /** What changed after `base` (the client's seq), up to `seq`: the nodes as they are now, and the ids gone. */
  | { type: 'catchup'; view: string; filter: string; seq: number; base: number; add: ViewNode[]; remove: string[] }
  | { type: 'reset'; reason: string };

/** The views the page offers (the app's ids), in menu order. */
export const VIEWS: ReadonlyArray<{ id: string; label: string }> = [
  { id: 'processes', label: 'Processes' },
  { id: 'processes-by-name', label: 'Processes by name' },
  { id: 'containers', label: 'Containers' },
  { id: 'containers-by-image', label: 'Containers by image' },
  { id: 'pods', label: 'Pods' },
  { id: 'services', label: 'Services' },
  { id: 'controllers', label: 'Controllers' },
  { id: 'hosts', label: 'Hosts' },
];

/** The view that shows nodes of a raw topology (for parents and search hits). */
export const VIEW_OF_TOPOLOGY: Readonly<Record<string, string>> = {
  host: 'hosts',
  process: 'processes',
  container: 'containers',
  container_image: 'containers-by-image',
  pod: 'pods',
  service: 'services',
  controller: 'controllers',
};

export const FILTERS = ['namespace', 'status', 'system', 'unconnected'] as const;
export type FilterName = (typeof FILTERS)[number];
