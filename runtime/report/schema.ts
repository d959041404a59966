/**
 * The report: what a probe sees on one host, and what the app ingests from every
 * probe. This module is the single definition of its shape; the probe produces
 * it, the app consumes it, and they meet only through it (and the wire codec).
 *
 * Shape (version 1):
 *
 *     Report = FullReport | DeltaReport
 *     header      version, kind, probeId, hostId, seq, timestamp (+ baseSeq, removed on deltas)
 *     topologies  one Topology per TopologyName, each { nodes: { [nodeId]: ReportNode } }
 *     errors      one CollectorError per failing collector of this pass
 *
 *     ReportNode  latest    { [key]: { ts, v } }           newest value wins on merge
 *                 metrics   { [key]: { samples: [ts, v][] } } newest samples, merged and bounded
 *                 adjacency [nodeId]                        edges from this node (client → server)
 *                 parents   { [topology]: [nodeId] }        process → container → pod → host
 *                 controls? { ts, ids: [ControlId] }        what the app may ask the probe to do
 *
 * Node ids follow the grammar in `ids.ts`. Parents and adjacency are references:
 * a report need not hold the node they name (another probe's report may).
 *
 * A full report is the whole picture at `timestamp`. A delta report holds only the
 * nodes that differ from the full report numbered `baseSeq` (each such node
 * whole, not a patch), plus the ids that have gone since. Deltas are cumulative
 * against their base, so a consumer that missed one loses nothing: the next delta
 * or full report brings it level again.
 *
 * Timestamps are integer milliseconds since the Unix epoch.
 */

/** Bumped on any change a version-1 reader could misread. */
export const REPORT_VERSION = 1 as const;

/** The topologies a report has, in a fixed order (used wherever order matters). */
export const TOPOLOGY_NAMES = [
  'host',
  'process',
  'container',
  'container_image',
  'pod',
  'service',
  'controller',
  'endpoint',
] as const;
export type TopologyName = (typeof TOPOLOGY_NAMES)[number];

/**
 * Controls a node may offer. Container controls are carried out by the probe on
 * the container engine when the app asks through the control channel.
 */
export const CONTROL_IDS = ['start', 'stop', 'restart', 'pause', 'unpause', 'remove', 'logs'] as const;
export type ControlId = (typeof CONTROL_IDS)[number];

/** Human-facing description of each control, for the app's UI and API. */
export const CONTROLS: Readonly<Record<ControlId, { label: string; destructive: boolean }>> = {
  start: { label: 'Start', destructive: false },
  stop: { label: 'Stop', destructive: true },
  restart: { label: 'Restart', destructive: true },
  pause: { label: 'Pause', destructive: true },
  unpause: { label: 'Unpause', destructive: false },
  remove: { label: 'Remove', destructive: true },
  logs: { label: 'Logs', destructive: false },
};

export type LatestValue = string | number | boolean;

/** One observed value and when it was last seen to change (ms since epoch). */
export interface Latest {
  ts: number;
  v: LatestValue;
}

/** A timestamped sample: [ms since epoch, value]. */
export type Sample = readonly [number, number];

/**
 * Samples, oldest first, at most one per timestamp. A probe reports the newest (one per pass); the
 * app keeps the history across reports; merging two reports unions them by time.
 */
export interface Metric {
  samples: readonly Sample[];
}

/** The controls a node offers, as of `ts`. The newest set wins on merge. */
export interface NodeControls {
  ts: number;
  ids: readonly ControlId[];
}

export interface ReportNode {
  latest: Readonly<Record<string, Latest>>;
  metrics: Readonly<Record<string, Metric>>;
  /** Ids of nodes this node has an edge to; sorted, unique. */
  adjacency: readonly string[];
  /** Ids of the nodes this node belongs to, by their topology; each list sorted, unique. */
  parents: Readonly<Partial<Record<TopologyName, readonly string[]>>>;
  controls?: NodeControls;
}

export interface Topology {
  nodes: Readonly<Record<string, ReportNode>>;
}

/**
 * A node of a delta's base that the delta changes, as the members that differ from the base's
 * node, each whole; a member left out is the base's. Why: a live node changes by its metric
 * samples in every pass, and sent whole it brought its unchanged latest values, adjacency and
 * parents along every time (a delta was 90 % of its full report at the bench's fleet).
 */
export type NodePatch = Readonly<Partial<ReportNode>>;

export type Topologies = Readonly<Record<TopologyName, Topology>>;

/**
 * A collector that failed (or partly failed) in the pass that made the report.
 * `count` is how many times the problem occurred in that pass (e.g. the number of
 * /proc entries that could not be read for lack of permission).
 */
export interface CollectorError {
  probeId: string;
  collector: string;
  code: string;
  message: string;
  ts: number;
  count: number;
}

interface ReportHeader {
  version: typeof REPORT_VERSION;
  /** Unique per probe process: a restarted probe has a new id, so its seq may restart. */
  probeId: string;
  /** Node id of the host the probe runs on (`host;<hostname>`). */
  hostId: string;
  /** Increases by one with every report this probe emits, full or delta. */
  seq: number;
  timestamp: number;
  topologies: Topologies;
  errors: readonly CollectorError[];
}

export interface FullReport extends ReportHeader {
  kind: 'full';
}

export interface DeltaReport extends ReportHeader {
  kind: 'delta';
  /** seq of the full report this delta applies to. */
  baseSeq: number;
  /** Ids present in the base full report and gone since, by topology. */
  removed: Readonly<Partial<Record<TopologyName, readonly string[]>>>;
  /**
   * Nodes of the base that changed without losing a member, as patches (NodePatch), by topology.
   * `topologies` holds the nodes new since the base, and changed ones that lost a member (their
   * controls), whole. An id is in at most one of `topologies`, `patches` and `removed`.
   */
  patches?: Readonly<Partial<Record<TopologyName, Readonly<Record<string, NodePatch>>>>>;
}

export type Report = FullReport | DeltaReport;

/**
 * Limits that `validateReport` enforces on untrusted input and that the probe
 * stays within. They bound the app's memory per report; a real host sits far
 * below them (a busy host: a few thousand processes, tens of thousands of
 * connections).
 */
export const LIMITS: Readonly<Record<LimitName, number>> = Object.freeze({
  /** Nodes over all topologies of one report (and removals of one delta). */
  maxNodes: 100_000,
  /** Node ids, and the ids in adjacency and parents. */
  maxIdLength: 512,
  /** Keys of latest and metrics: `^[a-z][a-z0-9_.-]*$`. */
  maxKeyLength: 64,
  /** String values of latest (command lines are cut to this by the probe). */
  maxStringLength: 4096,
  maxLatestPerNode: 64,
  maxMetricsPerNode: 32,
  maxSamplesPerMetric: 120,
  maxAdjacencyPerNode: 10_000,
  /** Adjacency entries over the whole report. */
  maxEdges: 1_000_000,
  maxParentsPerTopology: 64,
  maxErrors: 256,
  /** probeId, collector names, error codes. */
  maxNameLength: 128,
  maxErrorMessageLength: 1024,
});

export type LimitName =
  | 'maxNodes'
  | 'maxIdLength'
  | 'maxKeyLength'
  | 'maxStringLength'
  | 'maxLatestPerNode'
  | 'maxMetricsPerNode'
  | 'maxSamplesPerMetric'
  | 'maxAdjacencyPerNode'
  | 'maxEdges'
  | 'maxParentsPerTopology'
  | 'maxErrors'
  | 'maxNameLength'
  | 'maxErrorMessageLength';

/** Compressed and decompressed size limits of one encoded report on the wire. */
export const WIRE_LIMITS: Readonly<{ maxEncodedBytes: number; maxDecodedBytes: number }> = Object.freeze({
  maxEncodedBytes: 16 * 1024 * 1024,
  maxDecodedBytes: 64 * 1024 * 1024,
});

/** A node with nothing in it; collectors start from this. */
export const EMPTY_NODE: ReportNode = Object.freeze({
  latest: Object.freeze({}),
  metrics: Object.freeze({}),
  adjacency: Object.freeze([]) as readonly string[],
  parents: Object.freeze({}),
});

/** A topologies object with every topology present and empty. */
export function emptyTopologies(): Record<TopologyName, Topology> {
  const out = {} as Record<TopologyName, Topology>;
  for (const name of TOPOLOGY_NAMES) out[name] = { nodes: {} };
  return out;
}
