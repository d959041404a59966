/**
 * The simulated fleet's reports as a recording: made and gzipped in the order the driver of
 * bench/app.ts sends them, before the app starts, and replayed from memory at the real cadence
 * (Weave Scope's record and replay of reports).
 *
 * Why: made while the bench measures, the reports cost the driver about 3 ms of CPU each (the
 * fleet's JSON, the delta against the last full report, gzip at the probe's level), a fifth of a
 * core at 1,000 probes, on the same two cores as the app it measures. A real fleet makes its reports
 * on a thousand other hosts. Replayed, a send costs the driver only its HTTP request.
 *
 * What the app receives is what the live driver sends (the same SimProbe, the same sequence of
 * reports, encoded by the probe's own `encodeReport`), with one difference: a report's time is
 * its planned time on the tape, not the clock at its send. The app reads report and sample times
 * only to order a probe's samples (it stamps arrival itself), and the planned times keep each
 * probe's reports one interval apart, as the clock would.
 *
 * Send k of the tape is send k of the fleet's schedule (`fleetSend`, which the live driver follows
 * too). Past what was recorded, `body(k)` makes the next reports on demand, in order.
 */
import { encodeReport } from '../../runtime/report';
import type { SimProbe } from '../../test/app/fleet';

export interface TapePlan {
  /** The time of the load's full reports (ms since the epoch); the replay's reports follow it. */
  readonly startMs: number;
  /** How often each probe reports (ms). */
  readonly intervalMs: number;
  /** Containers per probe: the container flipped at j is j mod this. */
  readonly containersPerProbe: number;
}

/** Reports made and gzipped at once while recording; their gzip runs on libuv's pool meanwhile. */
const RECORD_BATCH = 16;

export class ReportTape {
  private readonly bodies: Buffer[] = [];
  /** Makes the reports past those recorded one at a time, in order: a SimProbe's reports follow each other. */
  private onDemand: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly probes: readonly SimProbe[],
    private readonly plan: TapePlan,
  ) {
    if (probes.length === 0) throw new Error('a report tape needs at least one probe');
    if (!(plan.intervalMs > 0)) throw new Error(`a report tape's interval must be over 0 ms, not ${plan.intervalMs}`);
  }

  /** Sends recorded so far. */
  get length(): number {
    return this.bodies.length;
  }

  /** Bytes recorded so far (gzipped). */
  get bytes(): number {
    let n = 0;
    for (const b of this.bodies) n += b.length;
    return n;
  }

  /** The number of sends that cover `seconds` of replay after the load. */
  sendsFor(seconds: number): number {
    return this.probes.length + Math.ceil((seconds * 1000 * this.probes.length) / this.plan.intervalMs);
  }

  /** Records sends until the tape holds `count`. */
  async record(count: number): Promise<void> {
    while (this.bodies.length < count) {
      const k0 = this.bodies.length;
      const reports = [];
      for (let k = k0; k < Math.min(count, k0 + RECORD_BATCH); k++) reports.push(this.report(k));
      this.bodies.push(...(await Promise.all(reports.map((r) => encodeReport(r)))));
    }
  }

  /** Send k's gzipped body: recorded, or made now with those before it. */
  body(k: number): Promise<Buffer> {
    const recorded = this.bodies[k];
    if (recorded !== undefined) return Promise.resolve(recorded);
    const made = this.onDemand.then(() => this.record(k + 1)).then(() => this.bodies[k]!);
    this.onDemand = made.catch(() => undefined);
    return made;
  }

  /** The probe that send k is from. */
  probeOf(k: number): SimProbe {
    return this.probes[fleetSend(k, this.probes.length, this.plan.containersPerProbe).probe]!;
  }

  private report(k: number): ReturnType<SimProbe['next']> {
    const n = this.probes.length;
    const send = fleetSend(k, n, this.plan.containersPerProbe);
    const p = this.probes[send.probe]!;
    if (send.flip !== null) p.flip(send.flip);
    if (k < n) return p.next(this.plan.startMs);
    // One interval after the load, each probe reports once per interval, spread evenly over it.
    return p.next(this.plan.startMs + this.plan.intervalMs + Math.floor(((k - n) * this.plan.intervalMs) / n));
  }
}

/**
 * Send k of the fleet's schedule, for the tape and the live driver alike: which probe reports, and
 * which of its containers changes state (paused or running) just before. k < probes: the load, each
 * probe's first report; then j = k − probes, probe j mod probes, a container flipped every 7th j.
 */
export function fleetSend(k: number, probes: number, containersPerProbe: number): { probe: number; flip: number | null } {
  if (k < probes) return { probe: k, flip: null };
  const j = k - probes;
  return { probe: j % probes, flip: j % 7 === 0 && containersPerProbe > 0 ? j % containersPerProbe : null };
}
