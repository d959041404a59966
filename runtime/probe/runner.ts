/**
 * Runs one collector inside the probe's pass: catches what it throws, bounds
 * how long it may take, and backs off after failures, so that one broken
 * collector (engine down, permission denied, garbage from an API) costs the
 * others nothing.
 */
import type { CollectorError } from '../report';
import { failureCode, type Collector, type Fragment, type PassContext } from './collector';

export interface BackoffPolicy {
  /** Delay after the first failure. */
  initialMs: number;
  /** Longest delay, reached by doubling. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 5_000, maxMs: 5 * 60_000 };

export interface RunOutcome {
  /** The collector's nodes, or null when it failed or is backing off. */
  fragment: Fragment | null;
  /** Report-shaped errors: its failure, or the partial issues of a successful pass. */
  errors: CollectorError[];
  /** True when the collector actually ran in this pass. */
  ran: boolean;
  /** Its run time, less the time it waited for other collectors of the pass. */
  durationMs: number;
}

export interface RunnerOptions {
  probeId: string;
  timeoutMs: number;
  backoff?: BackoffPolicy;
  /** Source of jitter in [0, 1); injectable so tests can pin it. */
  random?: () => number;
}

class TimeoutError extends Error {
  readonly code = 'E_COLLECTOR_TIMEOUT';
}

export class CollectorRunner {
  private failures = 0;
  private retryAt = 0;
  private lastFailure: CollectorError | null = null;
  private inFlight: Promise<unknown> | null = null;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;

  constructor(
    readonly collector: Collector,
    private readonly opts: RunnerOptions,
  ) {
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.random = opts.random ?? Math.random;
  }

  get name(): string {
    return this.collector.name;
  }

  /** Consecutive failures so far (0 when the last run succeeded). */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Runs the collector unless it is backing off or still busy. Never throws. */
  async run(now: number, pass?: PassContext): Promise<RunOutcome> {
    if (now < this.retryAt || this.inFlight !== null) {
      return { fragment: null, errors: this.lastFailure ? [this.lastFailure] : [], ran: false, durationMs: 0 };
    }
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    // Time spent waiting for another collector of the pass is not this one's collection time.
    let waitedMs = 0;
    const ctx: PassContext | undefined =
      pass?.settled === undefined
        ? pass
        : {
            ...pass,
            settled: async (name) => {
              const t = performance.now();
              await pass.settled!(name);
              waitedMs += performance.now() - t;
            },
          };
    const work = Promise.resolve().then(() => this.collector.collect(now, ctx));
    this.inFlight = work;
    // The collector may outlive its timeout; it is not started again until it settles.
    work.then(
      () => (this.inFlight = null),
      () => (this.inFlight = null),
    );
    try {
      const result = await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError(`no answer within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
        }),
      ]);
      this.failures = 0;
      this.retryAt = 0;
      this.lastFailure = null;
      const errors = result.issues.map((i) => ({
        probeId: this.opts.probeId,
        collector: this.name,
        code: i.code,
        message: i.message.slice(0, 1024),
        ts: now,
        count: i.count,
      }));
      return { fragment: result.nodes, errors, ran: true, durationMs: performance.now() - started - waitedMs };
    } catch (err) {
      this.failures++;
      const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (this.failures - 1));
      // Jitter in [delay/2, delay): probes restarted together do not retry together.
      const wait = Math.round(delay / 2 + (delay / 2) * this.random());
      this.retryAt = now + wait;
      const message = err instanceof Error ? err.message : String(err);
      this.lastFailure = {
        probeId: this.opts.probeId,
        collector: this.name,
        code: failureCode(err),
        message: `${message} (failure ${this.failures}; retry in ${Math.round(wait / 1000)} s)`.slice(0, 1024),
        ts: now,
        count: 1,
      };
      return { fragment: null, errors: [this.lastFailure], ran: true, durationMs: performance.now() - started - waitedMs };
    } finally {
      clearTimeout(timer);
    }
  }
}
