/**
 * The one interface every collector implements: host, processes and
 * connections now; containers (Docker Engine API) and Kubernetes next.
 *
 * A collector returns fragments of topologies: nodes keyed by id, possibly
 * partial (the connections collector adds adjacency to process nodes that the
 * processes collector describes). The probe merges all fragments of a pass with
 * the report's `mergeNodes`, so two collectors may describe one node.
 *
 * A collector that cannot work at all throws (preferably a `CollectorFailure`
 * with a code); the probe records the error in the report and retries with
 * backoff while the other collectors go on. Problems that leave most of the
 * picture intact (a few unreadable /proc entries) are returned as `issues`.
 */
import type { ReportNode, TopologyName } from '../report';

export type Fragment = Partial<Record<TopologyName, Record<string, ReportNode>>>;

/** A partial problem of one pass: counted, reported, not fatal. */
export interface CollectorIssue {
  code: string;
  message: string;
  count: number;
}

export interface CollectorResult {
  nodes: Fragment;
  issues: CollectorIssue[];
}

/** What kind of pass a collector runs in, and how it waits for the others. */
export interface PassContext {
  /**
   * 'interval': a pass of the interval, every collector, whatever report it makes (a full report,
   * or a delta between full reports); everything is sampled. 'event': a pass an event asked for
   * (a container changed state), of the collectors the event names.
   */
  kind: 'interval' | 'event';
  /**
   * Resolves when the named collector has finished its part of this pass (at
   * once when it does not run in this pass). The collectors of a pass run
   * concurrently, so that the engine's and the API server's answers arrive
   * while the /proc walk runs; one that reads another's result of the same
   * pass (connections and containers read the process table) awaits it here.
   */
  settled?: (collector: string) => Promise<void>;
  /**
   * In a pass of the interval of a running probe loop: ms from this pass's
   * start until the next one is due to start. A collector with background
   * upkeep (the container collector's stats) times it to end before that pass.
   * Absent for passes run by hand.
   */
  nextPassInMs?: number;
  /**
   * True when no report the probe emitted before this pass is read any more
   * (see ProbeOptions.reuseNodes): a collector may then update the nodes it
   * returned last time in place instead of making new ones. Never set on a
   * pass an event asked for.
   */
  reuseNodes?: boolean;
}

export interface Collector {
  /** Stable name used in reports, logs and metrics: 'host', 'processes', … */
  readonly name: string;
  /**
   * Collects one pass. `now` is the pass's wall-clock time (ms since epoch),
   * the timestamp of every value and sample it produces. `pass.kind` is
   * 'event' for a pass an event asked for between passes of the interval: a
   * collector should then refresh what the event may have changed and leave
   * periodic sampling (metrics) to the next pass of the interval, so that the
   * delta carries only the changes that caused it.
   */
  collect(now: number, pass?: PassContext): Promise<CollectorResult>;
  /** Releases what the collector holds (watch streams, sockets). Optional. */
  close?(): Promise<void>;
}

/** A collector-level failure with a code the report and the metrics carry. */
export class CollectorFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CollectorFailure';
  }
}

/** The code of anything a collector threw: its own code, a Node errno code, or a generic one. */
export function failureCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(code)) return code;
  return 'E_COLLECTOR_FAILED';
}

/** Identity of the probe and the host it describes, shared by its collectors. */
export interface ProbeIdentity {
  hostname: string;
  /** `host;<hostname>` */
  hostId: string;
  /** Unique per probe process (see FullReport.probeId). */
  probeId: string;
}
