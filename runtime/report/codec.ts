/**
 * The wire form of a report: UTF-8 JSON, gzip-compressed (node:zlib).
 *
 * Decoding is bounded twice: the compressed input by `maxEncodedBytes`, and the
 * decompressed output by `maxDecodedBytes`, enforced by zlib itself while it
 * inflates (`maxOutputLength`), so a gzip bomb stops at the limit with
 * E_WIRE_TOO_LARGE instead of filling memory. The decoded value then goes
 * through `validateReport`. `decodeReport` never rejects: it resolves to a
 * `Checked` result.
 */
import { createGzip, gunzip, gunzipSync, gzipSync, type ZlibOptions } from 'node:zlib';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { jsonChunks } from './json-pieces';
import { ReportError, type Checked } from './errors';
import { WIRE_LIMITS, type Report } from './schema';
import { validateReport } from './validate';

const gunzipAsync = promisify(gunzip) as (buf: Buffer, opts: ZlibOptions) => Promise<Buffer>;

/** The Content-Type and Content-Encoding of an encoded report over HTTP. */
export const REPORT_CONTENT_TYPE = 'application/json';
export const REPORT_CONTENT_ENCODING = 'gzip';

export interface DecodeLimits {
  maxEncodedBytes?: number;
  maxDecodedBytes?: number;
}

/** zlib's default level: the probe's CPU budget matters more than the last few percent of size. */
const GZIP_OPTIONS: ZlibOptions = { level: 6 };

/**
 * Characters of JSON handed to gzip at a time by encodeReport. Why not the
 * whole text: see runtime/report/json-pieces.ts (a full report's text and
 * its Buffer copy were part of the top of the probe's resident memory).
 */
export const ENCODE_CHUNK_CHARS = 64 * 1024;

/**
 * The report as gzip-compressed JSON, the same bytes a decoder sees as
 * `JSON.stringify(report)`. The text is made and compressed a chunk at a time
 * (ENCODE_CHUNK_CHARS), off the main thread, so neither the whole text nor a
 * copy of it is ever in memory.
 */
export async function encodeReport(report: Report): Promise<Buffer> {
  const gz = createGzip(GZIP_OPTIONS);
  const out: Buffer[] = [];
  gz.on('data', (b: Buffer) => out.push(b));
  const ended = once(gz, 'end');
  // A zlib error rejects both the drain wait and `ended`; the one awaited first reports it.
  ended.catch(() => undefined);
  for (const chunk of jsonChunks(report, ENCODE_CHUNK_CHARS)) {
    if (!gz.write(chunk, 'utf8')) await once(gz, 'drain');
  }
  gz.end();
  await ended;
  return Buffer.concat(out);
}

export function encodeReportSync(report: Report): Buffer {
  return gzipSync(Buffer.from(JSON.stringify(report), 'utf8'), GZIP_OPTIONS);
}

function tooLargeInput(bytes: Uint8Array, limits: DecodeLimits): ReportError | null {
  const max = limits.maxEncodedBytes ?? WIRE_LIMITS.maxEncodedBytes;
  return bytes.length > max ? new ReportError('E_WIRE_TOO_LARGE', `encoded report of ${bytes.length} bytes is over the ${max}-byte limit`) : null;
}

function inflateError(err: unknown, maxDecoded: number): ReportError {
  const code = (err as { code?: unknown }).code;
  if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
    return new ReportError('E_WIRE_TOO_LARGE', `decompressed report is over the ${maxDecoded}-byte limit`);
  }
  return new ReportError('E_WIRE_CORRUPT', `not a gzip stream (${String((err as Error).message ?? err)})`);
}

function parse(json: Buffer): Checked<Report> {
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch (err) {
    return { ok: false, error: new ReportError('E_WIRE_CORRUPT', `not JSON (${(err as Error).message})`) };
  }
  return validateReport(value);
}

/** Decodes and validates one encoded report. Resolves to an error result rather than rejecting. */
export async function decodeReport(bytes: Uint8Array, limits: DecodeLimits = {}): Promise<Checked<Report>> {
  const big = tooLargeInput(bytes, limits);
  if (big) return { ok: false, error: big };
  const maxDecoded = limits.maxDecodedBytes ?? WIRE_LIMITS.maxDecodedBytes;
  let json: Buffer;
  try {
    json = await gunzipAsync(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { maxOutputLength: maxDecoded });
  } catch (err) {
    return { ok: false, error: inflateError(err, maxDecoded) };
  }
  return parse(json);
}

/** The synchronous form of `decodeReport` (for tools and tests; servers use the async one). */
export function decodeReportSync(bytes: Uint8Array, limits: DecodeLimits = {}): Checked<Report> {
  const big = tooLargeInput(bytes, limits);
  if (big) return { ok: false, error: big };
  const maxDecoded = limits.maxDecodedBytes ?? WIRE_LIMITS.maxDecodedBytes;
  let json: Buffer;
  try {
    json = gunzipSync(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { maxOutputLength: maxDecoded });
  } catch (err) {
    return { ok: false, error: inflateError(err, maxDecoded) };
  }
  return parse(json);
}
