/**
 * Errors the app answers with. Every refusal has a stable `code` (what a
 * client branches on), an HTTP status, and a message naming the problem; the
 * body is the protocol's `ApiError`, so probes and people read one shape.
 */
import type { ApiError } from '../control/protocol';

export type AppErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'UNKNOWN_VIEW'
  | 'UNKNOWN_NODE'
  | 'BAD_REQUEST'
  | 'BAD_QUERY'
  | 'TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PROBE_MISMATCH'
  | 'DELTA_BASE_UNKNOWN'
  | 'RATE_LIMITED'
  | 'OVERLOADED'
  | 'SHUTTING_DOWN'
  | 'CONTROL_NOT_OFFERED'
  | 'PROBE_UNREACHABLE'
  | 'CONTROL_TIMEOUT'
  | 'CONTROL_FAILED'
  | 'INTERNAL'
  // Codes of runtime/report, passed through as they are.
  | 'E_REPORT_INVALID'
  | 'E_REPORT_LIMIT'
  | 'E_REPORT_VERSION'
  | 'E_REPORT_KIND'
  | 'E_DELTA_BASE_MISMATCH'
  | 'E_DELTA_PATCH'
  | 'E_WIRE_TOO_LARGE'
  | 'E_WIRE_CORRUPT';

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: AppErrorCode,
    message: string,
    /** Where in the input the problem is (a report path, a query parameter). */
    readonly path?: string,
    /** Seconds to wait before retrying (429/503). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }

  toBody(): ApiError {
    const error: ApiError['error'] = { code: this.code, message: this.message };
    if (this.path) error.path = this.path;
    return { error };
  }
}

export const notFound = (what: string): AppError => new AppError(404, 'NOT_FOUND', `${what} not found`);
export const badRequest = (message: string, path?: string): AppError => new AppError(400, 'BAD_REQUEST', message, path);
