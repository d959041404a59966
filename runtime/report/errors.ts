/**
 * Errors of the report module. Every failure has a stable `code` (what a caller
 * branches on) and, for problems inside a report, the `path` of the offending
 * value (e.g. `topologies.process.nodes["process;h;1;2"].latest.cmdline`).
 */
export type ReportErrorCode =
  | 'E_REPORT_INVALID' // a value has the wrong type or grammar
  | 'E_REPORT_LIMIT' // a documented size limit is exceeded
  | 'E_REPORT_VERSION' // a report version this build does not read
  | 'E_REPORT_KIND' // a full report was expected and a delta given, or the reverse
  | 'E_DELTA_BASE_MISMATCH' // a delta applied to a full report that is not its base
  | 'E_DELTA_PATCH' // a delta patches a node its base does not have
  | 'E_WIRE_TOO_LARGE' // encoded or decoded size over the wire limit (e.g. a gzip bomb)
  | 'E_WIRE_CORRUPT' // not gzip, or not JSON inside
  | 'E_RECORD_FORMAT' // a recording file that is not one, or is truncated
  | 'E_ID_INVALID'; // a node id that does not follow the grammar

export class ReportError extends Error {
  readonly code: ReportErrorCode;
  readonly path: string;

  constructor(code: ReportErrorCode, message: string, path = '') {
    super(path ? `${message} at ${path}` : message);
    this.name = 'ReportError';
    this.code = code;
    this.path = path;
  }
}

/** The outcome of checking or decoding untrusted input: never thrown, always returned. */
export type Checked<T> = { ok: true; value: T } | { ok: false; error: ReportError };
