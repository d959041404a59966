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
 */
import type { ReportAccepted } from '../control/protocol';
import { decodeReport, decodeReportSync, ReportError, REPORT_CONTENT_ENCODING, REPORT_CONTENT_TYPE, WIRE_LIMITS } from '../report';
import { AppError, type AppErrorCode } from './errors';
import type { Req, Reply } from './http';
import type { AppMetrics } from './metrics';
import type { LiveModel } from './model';

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
    private readonly model: LiveModel,
    private readonly metrics: AppMetrics,
    limits: IngestLimits = {},
  ) {
    this.maxEncodedBytes = limits.maxEncodedBytes ?? WIRE_LIMITS.maxEncodedBytes;
    this.maxDecodedBytes = limits.maxDecodedBytes ?? WIRE_LIMITS.maxDecodedBytes;
    this.maxInFlight = limits.maxInFlight ?? 32;
    this.maxInFlightBytes = limits.maxInFlightBytes ?? 256 * 1024 * 1024;
    this.rate = limits.ratePerToken ?? 400;
    this.burst = limits.burstPerToken ?? 800;
  }

  /** Reports being processed now (for clean shutdown). */
  get pending(): number {
    return this.inFlight;
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

  async handle(req: Req): Promise<Reply> {
    const body = req.body ?? Buffer.alloc(0);
    this.inFlight++;
    this.inFlightBytes += body.length;
    try {
      const limits = { maxEncodedBytes: this.maxEncodedBytes, maxDecodedBytes: this.maxDecodedBytes };
      // A probe's report is ~10 KB compressed, ~50 KB of JSON: inflating it takes ~0.1 ms, less than
      // the async form's stream and thread-pool hand-off cost the main thread per report. Larger
      // bodies (and a gzip bomb, bounded by the decoded limit) are inflated off the main thread.
      const decoded = body.length <= SYNC_INFLATE_MAX_BYTES ? decodeReportSync(body, limits) : await decodeReport(body, limits);
      if (!decoded.ok) {
        const e = decoded.error;
        this.metrics.reports.inc({ kind: 'unknown', result: 'invalid' });
        throw new AppError(statusOf(e.code), e.code as AppErrorCode, e.message, e.path || undefined);
      }
      const report = decoded.value;
      const t0 = performance.now();
      let outcome;
      try {
        outcome = this.model.ingest(report, req.principal!.name, req.arrivedAt);
      } catch (err) {
        this.metrics.reports.inc({ kind: report.kind, result: err instanceof AppError ? err.code.toLowerCase() : 'error' });
        if (err instanceof ReportError) throw new AppError(400, err.code as AppErrorCode, err.message, err.path || undefined);
        throw err;
      }
      const now = performance.now();
      this.metrics.mergeSeconds.observe((now - t0) / 1000);
      this.metrics.ingestSeconds.observe((now - req.started) / 1000);
      this.metrics.reports.inc({ kind: report.kind, result: outcome.applied ? 'applied' : 'duplicate' });
      const accepted: ReportAccepted = { probeId: report.probeId, seq: outcome.seq };
      return { status: 202, json: accepted };
    } finally {
      this.inFlight--;
      this.inFlightBytes -= body.length;
    }
  }
}
