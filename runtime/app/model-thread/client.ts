/**
 * The front thread's handle on the model thread: starts it (worker.ts), calls ModelService
 * methods as promises, and hands the service's events to `onEvent` in the order they happened.
 *
 * A model thread that ends unexpectedly (a bug: the service answers every bad input with a value)
 * fails the calls waiting on it with 503 and is started again, empty: the probes' next deltas
 * are refused (their base is unknown) and their full reports rebuild the model; `onRestart` lets
 * the front drop what it held of the old one (feed subscriptions, the search index).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors';
import { fromWireError, type ServiceMethod, type ThreadCall, type ThreadMessage } from './protocol';
import type { IntakeOutcome } from '../ingest';
import type { ModelEvent, ModelService, ModelServiceOptions } from './service';

type Result<K extends ServiceMethod> = Awaited<ReturnType<ModelService[K]>>;
type Args<K extends ServiceMethod> = Parameters<ModelService[K]>;

interface Waiting {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export interface ModelThreadHooks {
  onEvent: (e: ModelEvent) => void;
  /** The thread ended unexpectedly and a new, empty one was started. */
  onRestart: (reason: string) => void;
}

/** Restarts wait this long, doubled after each restart up to RESTART_MAX_MS; a thread that ran RESTART_RESET_MS starts the count again. */
const RESTART_FIRST_MS = 100;
const RESTART_MAX_MS = 30_000;
const RESTART_RESET_MS = 60_000;

/**
 * worker.js beside this file when compiled. Run from source (tsx, tap), worker.ts through tsx's
 * require hook: a worker does not always inherit the loader its parent was started with (tsx's
 * CLI registers it in the main thread only).
 */
function startWorker(workerData: ModelServiceOptions): Worker {
  const js = join(__dirname, 'worker.js');
  if (existsSync(js)) return new Worker(js, { workerData, name: 'model' });
  const ts = join(__dirname, 'worker.ts');
  return new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(ts)});`, { eval: true, workerData, name: 'model' });
}

export class ModelThread {
  private worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private closing = false;
  /** Settles when the first thread is up (its service built), or failed before. */
  readonly ready: Promise<void>;
  private firstUp: ((err?: Error) => void) | null;
  private startedAt = 0;
  private restartDelayMs = RESTART_FIRST_MS;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly opts: ModelServiceOptions,
    private readonly hooks: ModelThreadHooks,
  ) {
    let up!: (err?: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => (up = (err) => (err ? reject(err) : resolve())));
    this.firstUp = up;
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const w = startWorker(this.opts);
    this.startedAt = performance.now();
    w.on('message', (m: ThreadMessage) => this.onMessage(m));
    w.on('error', (err) => this.lost(w, `model thread failed: ${err.stack ?? err.message}`, err));
    w.on('exit', (code) => this.lost(w, `model thread exited with code ${code}`));
    return w;
  }

  private onMessage(m: ThreadMessage): void {
    if ('ready' in m) {
      this.firstUp?.();
      this.firstUp = null;
      return;
    }
    if ('event' in m) {
      this.hooks.onEvent(m.event);
      return;
    }
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if ('error' in m) w.reject(fromWireError(m.error));
    else w.resolve(m.value);
  }

  private lost(w: Worker, reason: string, err?: Error): void {
    if (w !== this.worker || this.closing || this.restartTimer !== null) return;
    for (const x of this.waiting.values()) x.reject(new AppError(503, 'OVERLOADED', 'the model thread restarted; retry', undefined, 1));
    this.waiting.clear();
    w.removeAllListeners();
    w.on('error', () => undefined);
    void w.terminate();
    if (this.firstUp !== null) {
      // It never came up (a broken build, a missing file): starting it again would fail the same way.
      this.firstUp(err ?? new Error(reason));
      this.firstUp = null;
      this.closing = true;
      return;
    }
    if (performance.now() - this.startedAt >= RESTART_RESET_MS) this.restartDelayMs = RESTART_FIRST_MS;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(RESTART_MAX_MS, delay * 2);
    this.hooks.onRestart(`${reason}; starting it again in ${delay} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.closing) this.worker = this.spawn();
    }, delay);
  }

  /** Calls one ModelService method on the model thread. A Buffer argument is copied, not shared. */
  call<K extends ServiceMethod>(method: K, ...args: Args<K>): Promise<Result<K>> {
    return this.post(method, args, []) as Promise<Result<K>>;
  }

  private post(method: ServiceMethod, args: unknown[], transfer: ArrayBuffer[]): Promise<unknown> {
    if (this.closing && method !== 'close') return Promise.reject(new AppError(503, 'SHUTTING_DOWN', 'the app is shutting down', undefined, 5));
    if (this.restartTimer !== null) return Promise.reject(new AppError(503, 'OVERLOADED', 'the model thread is starting again; retry', undefined, 1));
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const call: ThreadCall = { id, method, args };
      this.worker.postMessage(call, transfer);
    });
  }

  /**
   * Hands a report's body to the model thread (ModelService.report). A body that owns its whole
   * memory (http.ts copies each request's body once) is moved, not copied: it is unusable here after.
   */
  report(body: Buffer, owner: string, arrivedAt: number): Promise<IntakeOutcome> {
    const owned = body.buffer instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    return this.post('report', [body, owner, arrivedAt], owned ? [body.buffer as ArrayBuffer] : []) as Promise<IntakeOutcome>;
  }

  // What the feed's catch-ups (TopicSource) and the controls (ControlDirectory) ask.
  deltasAfter(topic: string, seq: number): Promise<Result<'deltasAfter'>> {
    return this.call('deltasAfter', topic, seq);
  }

  full(topic: string): Promise<Result<'full'>> {
    return this.call('full', topic);
  }

  probeOwner(probeId: string): Promise<string | null> {
    return this.call('probeOwner', probeId);
  }

  controlOffer(...args: Args<'controlOffer'>): Promise<Result<'controlOffer'>> {
    return this.call('controlOffer', ...args);
  }

  /** Stops the model thread's timers and ends it. */
  async close(): Promise<void> {
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    if (this.closing) {
      await this.worker.terminate();
      return;
    }
    this.closing = true;
    const done = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    // The worker's port closes after its answer to close(): it exits with nothing left to run.
    const closed = Promise.all([this.call('close').catch(() => undefined), done]);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
    await Promise.race([closed, timeout]);
    for (const x of this.waiting.values()) x.reject(new AppError(503, 'SHUTTING_DOWN', 'the app is shutting down', undefined, 5));
    this.waiting.clear();
    await this.worker.terminate();
  }
}
