/**
 * `POST /api/report`: from untrusted bytes to the live model.
 *
 * Order of checks, cheapest first, so that a flood costs as little as possible:
 * token and role (http.ts) → overload (in-flight reports, bytes held) and the
 * per-token rate → headers (Content-Type, Content-Encoding) → declared and
 * actual body size → gunzip bounded by the decoded-size limit (a gzip bomb
 * stops there) → JSON → `validateReport` → the model. Any refusal happens
 * before the model is touched, and the model applies a report whole or not at
 * all, so a bad report changes nothing.
 *
 * Two halves: `Ingest` admits a report and counts it; `ingestReport` (always on
 * the model thread) decodes it and applies it to the model. On the app's own
 * listener `Ingest` runs on the front thread and hands the body across
 * (model-thread/client.ts); on the ingest listener (`--ingest-listen`,
 * model-thread/ingest-listener.ts) both halves run on the model thread.
 */
import type { ReportAccepted } from '../control/protocol';
import { decodeReport, decodeReportSync, ReportError, REPORT_CONTENT_ENCODING, REPORT_CONTENT_TYPE, WIRE_LIMITS } from '../report';
import { AppError, type AppErrorCode } from './errors';
import type { Req, Reply } from './http';
import type { LiveModel } from './model';

/**
 * What `Ingest` counts (AppMetrics on the front thread; the ingest listener's tally on the model
 * thread, which hands its counts to the front's metrics: model-thread/ingest-listener.ts).
 */
export interface IngestMetrics {
  readonly reports: { inc(labels: { kind: string; result: string }): void };
  readonly mergeSeconds: { observe(seconds: number): void };
  readonly ingestSeconds: { observe(seconds: number): void };
}

/** The decoding bounds, which the model thread applies. */
export interface IntakeLimits {
  maxEncodedBytes: number;
  maxDecodedBytes: number;
}

/** What became of a report on the model thread. `kind` and `result` label the reports counter. */
export type IntakeOutcome =
  | {
      readonly ok: true;
      readonly kind: string;
      readonly result: 'applied' | 'duplicate';
      readonly accepted: ReportAccepted;
      readonly mergeSeconds: number;
      /**
       * When the report was applied, in ms since the epoch with a fraction (`performance.timeOrigin
       * + performance.now()`, one clock for both threads): the ingest time ends here, not when the
       * answer reached the front thread (it may wait there, model-thread/outbox.ts).
       */
      readonly doneAt: number;
    }
  | {
      readonly ok: false;
      readonly kind: string;
      readonly result: string;
      readonly status: number;
      readonly code: AppErrorCode;
      readonly message: string;
      readonly path?: string;
      /** An unexpected failure's stack, for the front thread's log. */
      readonly internal?: string;
    };

export interface IngestLimits {
  /** Compressed body size (413 beyond). Default: the report module's wire limit. */
  maxEncodedBytes?: number;
  /** Decompressed size (413 beyond). Default: the report module's wire limit. */
  maxDecodedBytes?: number;
  /** Reports being decoded at once; 503 beyond. Default 32. */
  maxInFlight?: number;
  /** Compressed bytes held by reports in flight; 503 beyond. Default 256 MiB. */
  maxInFlightBytes?: number;
  /**
   * Reports per second one token may send, on average; 429 beyond. A fleet's
   * probes usually share one token (a DaemonSet's secret), so this is sized for
   * a fleet, not a probe: 1,000 probes at 15 s send about 67 per second. Default 400.
   */
  ratePerToken?: number;
  /** Burst allowance of the per-token rate. Default 800. */
  burstPerToken?: number;
}

/** Compressed bodies up to this size are inflated on the main thread (see `handle`). */
const SYNC_INFLATE_MAX_BYTES = 64 * 1024;

interface Bucket {
  tokens: number;
  at: number;
}

/** Maps report-module error codes to HTTP statuses. */
function statusOf(code: ReportError['code']): number {
  return code === 'E_WIRE_TOO_LARGE' || code === 'E_REPORT_LIMIT' ? 413 : 400;
}

export class Ingest {
  readonly maxEncodedBytes: number;
  private readonly maxDecodedBytes: number;
  private readonly maxInFlight: number;
  private readonly maxInFlightBytes: number;
  private readonly rate: number;
  private readonly burst: number;
  private inFlight = 0;
  private inFlightBytes = 0;
  private readonly buckets = new Map<string, Bucket>();
  private draining = false;

  constructor(
    private readonly metrics: IngestMetrics,
    limits: IngestLimits = {},
  ) {
    this.maxEncodedBytes = limits.maxEncodedBytes ?? WIRE_LIMITS.maxEncodedBytes;
    this.maxDecodedBytes = limits.maxDecodedBytes ?? WIRE_LIMITS.maxDecodedBytes;
    this.maxInFlight = limits.maxInFlight ?? 32;
    this.maxInFlightBytes = limits.maxInFlightBytes ?? 256 * 1024 * 1024;
    this.rate = limits.ratePerToken ?? 400;
    this.burst = limits.burstPerToken ?? 800;
  }

  /** Resolves once no report is in progress, or after `graceMs` (clean shutdown, after `drain`). */
  async settled(graceMs: number): Promise<void> {
    const deadline = performance.now() + graceMs;
    while (this.inFlight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** Refuses new reports from now on (shutdown). */
  drain(): void {
    this.draining = true;
  }

  /** Runs before the body is read: overload and rate checks. */
  admit(req: Req): void {
    if (this.draining) throw new AppError(503, 'SHUTTING_DOWN', 'the app is shutting down', undefined, 5);
    const declared = Number(req.headers.get('content-length') ?? 0);
    if (this.inFlight >= this.maxInFlight || this.inFlightBytes + declared > this.maxInFlightBytes) {
      this.metrics.reports.inc({ kind: 'unknown', result: 'overloaded' });
      throw new AppError(503, 'OVERLOADED', 'too many reports in progress; retry later', undefined, 1);
    }
    const who = req.principal!.name;
    const now = performance.now();
    const b = this.buckets.get(who) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    this.buckets.set(who, b);
    if (b.tokens < 1) {
      this.metrics.reports.inc({ kind: 'unknown', result: 'rate_limited' });
      throw new AppError(429, 'RATE_LIMITED', `more than ${this.rate} reports per second from this token`, undefined, Math.ceil((1 - b.tokens) / this.rate));
    }
    b.tokens -= 1;
    const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== REPORT_CONTENT_TYPE) throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${REPORT_CONTENT_TYPE}`, 'content-type');
    const enc = (req.headers.get('content-encoding') ?? '').trim().toLowerCase();
    if (enc !== REPORT_CONTENT_ENCODING) throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Encoding must be ${REPORT_CONTENT_ENCODING}`, 'content-encoding');
  }

  /** The decoding bounds the model thread applies (ModelService). */
  get limits(): IntakeLimits {
    return { maxEncodedBytes: this.maxEncodedBytes, maxDecodedBytes: this.maxDecodedBytes };
  }

  /** Hands the admitted report to the model thread (`take`) and answers with what became of it. */
  async handle(req: Req, take: (body: Buffer, owner: string, arrivedAt: number) => Promise<IntakeOutcome>): Promise<Reply> {
    const body = req.body ?? Buffer.alloc(0);
    // Read once: `take` may move the body's memory to the model thread.
    const size = body.length;
    this.inFlight++;
    this.inFlightBytes += size;
    try {
      const out = await take(body, req.principal!.name, req.arrivedAt);
      this.metrics.reports.inc({ kind: out.kind, result: out.result });
      if (!out.ok) {
        if (out.internal !== undefined) throw new Error(out.internal);
        throw new AppError(out.status, out.code, out.message, out.path);
      }
      this.metrics.mergeSeconds.observe(out.mergeSeconds);
      this.metrics.ingestSeconds.observe(Math.max(0, out.doneAt - (performance.timeOrigin + req.started)) / 1000);
      return { status: 202, json: out.accepted };
    } finally {
      this.inFlight--;
      this.inFlightBytes -= size;
    }
  }
}

/**
 * Decodes a report's compressed body and applies it to the model (the model thread's half).
 * Never throws: every outcome, a refusal or an unexpected failure, is a value the front thread
 * answers with.
 */
export async function ingestReport(model: LiveModel, body: Buffer, limits: IntakeLimits, owner: string, arrivedAt: number): Promise<IntakeOutcome> {
  // A probe's report is ~10 KB compressed, ~50 KB of JSON: inflating it takes ~0.1 ms, less than
  // the async form's stream and thread-pool hand-off cost per report. Larger bodies (and a gzip
  // bomb, bounded by the decoded limit) are inflated on the thread pool.
  const decoded = body.length <= SYNC_INFLATE_MAX_BYTES ? decodeReportSync(body, limits) : await decodeReport(body, limits);
  if (!decoded.ok) {
    const e = decoded.error;
    return { ok: false, kind: 'unknown', result: 'invalid', status: statusOf(e.code), code: e.code as AppErrorCode, message: e.message, ...(e.path ? { path: e.path } : {}) };
  }
  const report = decoded.value;
  const t0 = performance.now();
  try {
    const outcome = model.ingest(report, owner, arrivedAt);
    const accepted: ReportAccepted = { probeId: report.probeId, seq: outcome.seq };
    const done = performance.now();
    return { ok: true, kind: report.kind, result: outcome.applied ? 'applied' : 'duplicate', accepted, mergeSeconds: (done - t0) / 1000, doneAt: performance.timeOrigin + done };
  } catch (err) {
    if (err instanceof AppError) {
      return { ok: false, kind: report.kind, result: err.code.toLowerCase(), status: err.status, code: err.code, message: err.message, ...(err.path ? { path: err.path } : {}) };
    }
    if (err instanceof ReportError) {
      return { ok: false, kind: report.kind, result: 'error', status: 400, code: err.code as AppErrorCode, message: err.message, ...(err.path ? { path: err.path } : {}) };
    }
    return { ok: false, kind: report.kind, result: 'error', status: 500, code: 'INTERNAL', message: 'internal error', internal: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
}
