/**
 * One bounded HTTP exchange with the engine over its unix socket: a deadline
 * for the whole exchange (not per phase), a byte limit on the body, and every
 * transport failure mapped to an EngineError code by when it happened.
 */
import type { Dispatcher } from 'undici';
import { errors } from 'undici';
import { badResponse, EngineError } from './engine-error';

export interface RawResponse {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

export interface ExchangeSpec {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  timeoutMs: number;
  maxBytes: number;
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * `phase` is where the exchange was: before the status line arrived, a broken
 * connection means the engine is unreachable; after it, the engine started an
 * answer it did not finish, which is a bad response.
 */
export function mapTransportError(err: unknown, phase: 'connect' | 'body', what: string, timedOut: boolean): EngineError {
  if (err instanceof EngineError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (timedOut || err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError || err instanceof errors.ConnectTimeoutError) {
    return new EngineError('ENGINE_TIMEOUT', `${what}: engine did not answer in time`, undefined, { cause: err });
  }
  if (err instanceof errors.HTTPParserError || err instanceof errors.ResponseContentLengthMismatchError || phase === 'body') {
    return new EngineError('ENGINE_BAD_RESPONSE', `${what}: broken response (${message})`, undefined, { cause: err });
  }
  // Refused, missing socket, reset, closed client: and anything else that broke
  // the exchange before an answer began, which leaves the engine unusable all the same.
  const code = errorCode(err);
  const reason = code !== undefined && code !== message ? `${code}: ${message}` : message;
  return new EngineError('ENGINE_UNREACHABLE', `${what}: engine unreachable (${reason})`, undefined, { cause: err });
}

function ignore(): void {}

/** The error for a body over `maxBytes`: by its declared length when there is one, else as it streamed past. */
function bodyTooLarge(what: string, maxBytes: number, declared?: number): EngineError {
  return badResponse(declared === undefined ? `${what}: body exceeds the limit of ${maxBytes} bytes` : `${what}: body of ${declared} bytes exceeds the limit of ${maxBytes}`);
}

/** Reads a response body into one buffer, failing as soon as it passes `maxBytes`. */
export async function readBounded(body: Dispatcher.ResponseData['body'], declaredLength: string | string[] | undefined, maxBytes: number, what: string): Promise<Buffer> {
  // Destroying a body that has not ended makes undici emit an abort error; it is
  // expected here (we are the ones giving up), so it must not become uncaught.
  body.on('error', ignore);
  const declared = typeof declaredLength === 'string' ? Number(declaredLength) : NaN;
  if (declared > maxBytes) {
    body.destroy();
    throw bodyTooLarge(what, maxBytes, declared);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      // Leaving the loop by throwing destroys the body, which closes the connection.
      throw bodyTooLarge(what, maxBytes);
    }
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, total);
}

/** The value of header `name` (lower case) in undici's raw headers, as latin1 text. */
function rawHeader(raw: readonly Buffer[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length === name.length && key.toString('latin1').toLowerCase() === name) return raw[i + 1]!.toString('latin1');
  }
  return undefined;
}

/**
 * One exchange through undici's `dispatch` and a handler of our own rather than `request()`:
 * `request()` wraps every body in a Readable stream read back through an async iterator, which
 * the probe (interpreter only, 20+ engine calls per pass) paid for per request, for bodies it
 * only ever collects whole. Same deadline, limits and error mapping as before.
 */
export function exchange(dispatcher: Dispatcher, spec: ExchangeSpec): Promise<RawResponse> {
  const what = `${spec.method} ${spec.path}`;
  return new Promise<RawResponse>((resolve, reject) => {
    let phase: 'connect' | 'body' = 'connect';
    let timedOut = false;
    let settled = false;
    let abort: ((err?: Error) => void) | null = null;
    let status = 0;
    let contentType: string | undefined;
    const chunks: Buffer[] = [];
    let total = 0;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(mapTransportError(err, phase, what, timedOut));
    };
    // Stops the exchange: through undici once it has the request on a connection (its onError
    // then reports `err`), directly while the request still waits in the pool's queue.
    const stop = (err: Error): void => {
      if (abort !== null) abort(err);
      else fail(err);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop(new errors.RequestAbortedError(`${what}: deadline of ${spec.timeoutMs} ms passed`));
    }, spec.timeoutMs);
    dispatcher.dispatch(
      { origin: 'http://localhost', method: spec.method, path: spec.path, headersTimeout: spec.timeoutMs, bodyTimeout: spec.timeoutMs },
      {
        onConnect(abortRequest: (err?: Error) => void): void {
          abort = abortRequest;
          // The deadline passed while the request waited for a connection.
          if (settled) abortRequest(new errors.RequestAbortedError(`${what}: deadline passed`));
        },
        onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
          if (statusCode < 200) return true; // informational: the answer follows
          phase = 'body';
          status = statusCode;
          contentType = rawHeader(rawHeaders, 'content-type');
          const declared = Number(rawHeader(rawHeaders, 'content-length'));
          if (declared > spec.maxBytes) {
            stop(bodyTooLarge(what, spec.maxBytes, declared));
            return false;
          }
          return true;
        },
        onData(chunk: Buffer): boolean {
          total += chunk.length;
          if (total > spec.maxBytes) {
            stop(bodyTooLarge(what, spec.maxBytes));
            return false;
          }
          chunks.push(chunk);
          return true;
        },
        onComplete(): void {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status, contentType, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total) });
        },
        onError(err: Error): void {
          fail(err);
        },
      } as Dispatcher.DispatchHandler,
    );
  });
}
