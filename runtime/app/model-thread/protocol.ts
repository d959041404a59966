/**
 * The messages between the front thread (client.ts) and the model thread (worker.ts): a call of
 * one ModelService method, its answer, and the service's events.
 */
import { AppError, type AppErrorCode } from '../errors';
import type { ModelEvent, ModelService, ModelServiceOptions } from './service';

/** The model thread's name in /proc (`top -H`, `ps -L`, bench/app.ts's CPU per thread), which it sets itself (worker.ts). */
export const MODEL_THREAD_NAME = 'orch-model';

/** The ModelService methods the front thread may call. */
export const SERVICE_METHODS = [
  'report',
  'viewNodes',
  'viewJson',
  'node',
  'probes',
  'probeOwner',
  'controlOffer',
  'stats',
  'subscribe',
  'unsubscribe',
  'full',
  'deltasAfter',
  'topicSeq',
  'removeProbe',
  'sweep',
  'inspect',
  'merged',
  'stopIngest',
  'close',
] as const satisfies ReadonlyArray<keyof ModelService>;

export type ServiceMethod = (typeof SERVICE_METHODS)[number];

const METHOD_SET: ReadonlySet<string> = new Set(SERVICE_METHODS);

export function isServiceMethod(m: string): m is ServiceMethod {
  return METHOD_SET.has(m);
}

export interface ThreadCall {
  id: number;
  method: string;
  args: unknown[];
}

/**
 * The process is ending (its `exit` event) while the model thread may hold its ingest listener
 * open: the thread closes it and then sets `ThreadData.listenerClosed` (see client.ts, ExitGuard).
 * Sent outside the calls: the front thread waits for it synchronously, with no answer to read.
 */
export interface ProcessExiting {
  exiting: true;
}

/** What the front thread sends the model thread. */
export type FrontMessage = ThreadCall | ProcessExiting;

/** The model thread's `workerData`. */
export interface ThreadData {
  options: ModelServiceOptions;
  /** One Int32: 1 once the thread has closed its ingest listener on `ProcessExiting` (Atomics.notify). */
  listenerClosed: Int32Array;
}

export type ThreadMessage =
  /** The service is built; `ingestPort`: the port its ingest listener took, or null without one. */
  | { ready: true; ingestPort: number | null }
  | { id: number; value: unknown }
  | { id: number; error: WireError }
  | { event: ModelEvent }
  /** Several of the above, in the order they happened (outbox.ts). */
  | { batch: ThreadMessage[] };

/** An error as it crosses threads: an AppError keeps its status and code. */
export interface WireError {
  message: string;
  stack?: string;
  app?: { status: number; code: AppErrorCode; path?: string; retryAfter?: number };
}

export function toWireError(err: unknown): WireError {
  if (err instanceof AppError) {
    return {
      message: err.message,
      app: { status: err.status, code: err.code, ...(err.path !== undefined ? { path: err.path } : {}), ...(err.retryAfter !== undefined ? { retryAfter: err.retryAfter } : {}) },
    };
  }
  if (err instanceof Error) return { message: err.message, ...(err.stack !== undefined ? { stack: err.stack } : {}) };
  return { message: String(err) };
}

export function fromWireError(e: WireError): Error {
  if (e.app) return new AppError(e.app.status, e.app.code, e.message, e.app.path, e.app.retryAfter);
  const err = new Error(`model thread: ${e.message}`);
  if (e.stack !== undefined) err.stack = `${err.message}\n(model thread) ${e.stack}`;
  return err;
}
