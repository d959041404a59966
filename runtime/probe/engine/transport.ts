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

/** Reads a response body into one buffer, failing as soon as it passes `maxBytes`. */
export async function readBounded(body: Dispatcher.ResponseData['body'], declaredLength: string | string[] | undefined, maxBytes: number, what: string): Promise<Buffer> {
  // Destroying a body that has not ended makes undici emit an abort error; it is
  // expected here (we are the ones giving up), so it must not become uncaught.
  body.on('error', ignore);
  const declared = typeof declaredLength === 'string' ? Number(declaredLength) : NaN;
  if (declared > maxBytes) {
    body.destroy();
    throw badResponse(`${what}: body of ${declared} bytes exceeds the limit of ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      // Leaving the loop by throwing destroys the body, which closes the connection.
      throw badResponse(`${what}: body exceeds the limit of ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, total);
}

export async function exchange(dispatcher: Dispatcher, spec: ExchangeSpec): Promise<RawResponse> {
  const what = `${spec.method} ${spec.path}`;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, spec.timeoutMs);
  let phase: 'connect' | 'body' = 'connect';
  try {
    const res = await dispatcher.request({
      origin: 'http://localhost',
      method: spec.method,
      path: spec.path,
      signal: controller.signal,
      headersTimeout: spec.timeoutMs,
      bodyTimeout: spec.timeoutMs,
    });
    phase = 'body';
    const contentType = res.headers['content-type'];
    const body = await readBounded(res.body, res.headers['content-length'], spec.maxBytes, what);
    return { status: res.statusCode, contentType: typeof contentType === 'string' ? contentType : undefined, body };
  } catch (err) {
    throw mapTransportError(err, phase, what, timedOut);
  } finally {
    clearTimeout(timer);
  }
}
