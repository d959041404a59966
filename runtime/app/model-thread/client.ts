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
import { fromWireError, type ProcessExiting, type ServiceMethod, type ThreadCall, type ThreadData, type ThreadMessage } from './protocol';
import type { IntakeOutcome } from '../ingest';
import type { Filters, ViewId } from '../views/catalog';
import { ViewHub } from '../views/hub';
import { TopicMirrors } from './topic-mirror';
import type { DeltasAfter } from '../feed-catchup';
import type { ModelEvent, ModelService, ModelServiceOptions } from './service';

type Result<K extends ServiceMethod> = Awaited<ReturnType<ModelService[K]>>;
type Args<K extends ServiceMethod> = Parameters<ModelService[K]>;

interface Waiting {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * A ModelEvent as the front thread hands it on: a view's deltas as UTF-8 bytes, encoded once as they
 * arrive, published and kept (topic-mirror.ts) as such.
 */
export type FrontEvent = Exclude<ModelEvent, { type: 'published' }> | PublishedDeltas;

export interface PublishedDeltas {
  readonly type: 'published';
  readonly topics: string[];
  readonly seqs: number[];
  readonly messages: Buffer[];
  readonly arrivedAt: number | null;
}

export interface ModelThreadHooks {
  onEvent: (e: FrontEvent) => void;
  /** The thread ended unexpectedly and a new, empty one was started. */
  onRestart: (reason: string) => void;
}

/** Restarts wait this long, doubled after each restart up to RESTART_MAX_MS; a thread that ran RESTART_RESET_MS starts the count again. */
const RESTART_FIRST_MS = 100;
const RESTART_MAX_MS = 30_000;
const RESTART_RESET_MS = 60_000;
/**
 * How long the front thread keeps the last full message of a topic that crossed from the model
 * thread. The model thread reuses a topic's full message for a second (ViewHub's FULL_REUSE_MS);
 * clients joining within it are answered with its seq and share the copy held here.
 */
const FULL_HELD_MS = 2000;

/**
 * worker.js beside this file when compiled. Run from source (tsx, tap), worker.ts through tsx's
 * require hook: a worker does not always inherit the loader its parent was started with (tsx's
 * CLI registers it in the main thread only).
 */
function startWorker(workerData: ThreadData): Worker {
  const js = join(__dirname, 'worker.js');
  if (existsSync(js)) return new Worker(js, { workerData, name: 'model' });
  const ts = join(__dirname, 'worker.ts');
  return new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(ts)});`, { eval: true, workerData, name: 'model' });
}

/** How long the process's end waits for a model thread to close its ingest listener (ExitGuard). */
const EXIT_LISTENER_WAIT_MS = 2000;

/**
 * Why: a uWebSockets.js listener still open on a worker thread when that thread is stopped aborts
 * the whole process ("uv_loop_close() while having open handles", uWebSockets.js 20.30), and Node
 * stops every worker when the process ends, however it ends (its event loop empty, `process.exit`,
 * an uncaught error), with no chance for the thread to run code first. So when the process ends,
 * each model thread that may hold an ingest listener is told to close it (ProcessExiting), and the
 * process's `exit` handler blocks until it has (Atomics.wait on `ThreadData.listenerClosed`), at most
 * EXIT_LISTENER_WAIT_MS. A thread busy for longer than that cannot be helped: nothing but the thread
 * itself can close its sockets.
 */
const ExitGuard = {
  threads: new Set<ModelThread>(),
  installed: false,
  add(t: ModelThread): void {
    this.threads.add(t);
    if (this.installed) return;
    this.installed = true;
    process.on('exit', () => {
      for (const x of this.threads) x.closeListenerNow();
    });
  },
  delete(t: ModelThread): void {
    this.threads.delete(t);
  },
};

export class ModelThread {
  private worker: Worker;
  /** False once the current worker has ended (or was given up on): nothing of it to close. */
  private workerRunning = false;
  private readonly listenerClosed = new Int32Array(new SharedArrayBuffer(4));
  private closingDone: Promise<void> | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private closing = false;
  /** The port the model thread's ingest listener took (it may change when the thread starts again on port 0), or null. */
  ingestPort: number | null = null;
  /** Settles when the first thread is up (its service built), or failed before. */
  readonly ready: Promise<void>;
  private firstUp: ((err?: Error) => void) | null;
  private startedAt = 0;
  private restartDelayMs = RESTART_FIRST_MS;
  private restartTimer: NodeJS.Timeout | null = null;
  /** The last full message of each topic that crossed, for FULL_HELD_MS: joining clients share it. */
  private readonly fulls = new Map<string, { seq: number; message: string; timer: NodeJS.Timeout }>();
  /** The last subscribe asked per topic, while unanswered. */
  private readonly joining = new Map<string, Promise<unknown>>();
  /** Each watched topic's recent deltas, as published here (topic-mirror.ts). */
  private readonly mirrors = new TopicMirrors();
  /** The model thread's catch-up answers of the last FULL_HELD_MS, by topic and seq. */
  private readonly catchups = new Map<string, Promise<DeltasAfter>>();

  constructor(
    private readonly opts: ModelServiceOptions,
    private readonly hooks: ModelThreadHooks,
  ) {
    let up!: (err?: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => (up = (err) => (err ? reject(err) : resolve())));
    // Handled here too: a thread that cannot start must not end the process as an unhandled
    // rejection when nobody awaits `ready` (an app built and never started); `start()` awaits it.
    this.ready.catch(() => undefined);
    this.firstUp = up;
    this.worker = this.spawn();
    if (opts.ingestListen) ExitGuard.add(this);
  }

  private spawn(): Worker {
    const w = startWorker({ options: this.opts, listenerClosed: this.listenerClosed });
    this.startedAt = performance.now();
    this.workerRunning = true;
    w.on('message', (m: ThreadMessage) => this.onMessage(m));
    w.on('error', (err) => this.lost(w, `model thread failed: ${err.stack ?? err.message}`, err));
    w.on('exit', (code) => {
      if (w === this.worker) this.workerRunning = false;
      this.lost(w, `model thread exited with code ${code}`);
    });
    // The app's listening socket keeps the process alive; its model thread does only until it is
    // up and while a call waits on it (post, onMessage): an app built and never started, or one
    // whose start failed, lets the process end.
    return w;
  }

  private onMessage(m: ThreadMessage): void {
    if ('batch' in m) {
      for (const x of m.batch) this.onMessage(x);
      return;
    }
    if ('ready' in m) {
      this.ingestPort = m.ingestPort;
      this.firstUp?.();
      this.firstUp = null;
      if (this.waiting.size === 0) this.worker.unref();
      return;
    }
    if ('event' in m) {
      const e = m.event;
      if (e.type !== 'published') {
        this.hooks.onEvent(e);
        return;
      }
      const messages = e.messages.map((text) => Buffer.from(text, 'utf8'));
      for (let i = 0; i < e.topics.length; i++) this.mirrors.published(e.topics[i]!, e.seqs[i]!, messages[i]!);
      this.hooks.onEvent({ type: 'published', topics: e.topics, seqs: e.seqs, messages, arrivedAt: e.arrivedAt });
      return;
    }
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if (this.waiting.size === 0 && !this.closing) this.worker.unref();
    if ('error' in m) w.reject(fromWireError(m.error));
    else w.resolve(m.value);
  }

  private lost(w: Worker, reason: string, err?: Error): void {
    if (w !== this.worker || this.closing || this.restartTimer !== null) return;
    // An error ended it (its own handler closed the ingest listener first: worker.ts) or it has exited.
    this.workerRunning = false;
    for (const x of this.waiting.values()) x.reject(new AppError(503, 'OVERLOADED', 'the model thread restarted; retry', undefined, 1));
    this.waiting.clear();
    w.removeAllListeners();
    w.on('error', () => undefined);
    void w.terminate();
    // What was kept of the lost model's topics is not the new one's.
    this.mirrors.clear();
    this.catchups.clear();
    for (const f of this.fulls.values()) clearTimeout(f.timer);
    this.fulls.clear();
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
      if (this.waiting.size === 1) this.worker.ref();
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

  /** A new subscriber of a view: its topic, and the topic's full message and seq (from the copy held here when it is current). */
  async subscribe(view: ViewId, filters: Filters): Promise<{ topic: string; full: string; seq: number }> {
    const topic = ViewHub.topicName(view, filters);
    this.mirrors.watch(topic);
    // Clients joining at once (100 after a restart of the app or a reload across a team) ask one
    // after another, each once the answer before it is in: all but the first then find its full
    // view held here and are not sent a copy of their own.
    const before = this.joining.get(topic);
    const mine = (async () => {
      if (before !== undefined) await before.catch(() => undefined);
      const held = this.fulls.get(topic);
      const r = await this.call('subscribe', view, filters, held?.seq ?? -1);
      this.mirrors.opened(r.topic, r.topicSeq);
      return { topic: r.topic, seq: r.seq, full: r.full === null ? held!.message : this.hold(r.topic, r.seq, r.full) };
    })();
    this.joining.set(topic, mine);
    try {
      return await mine;
    } finally {
      if (this.joining.get(topic) === mine) this.joining.delete(topic);
    }
  }

  /** A subscriber of `topic` is gone (each subscribe is matched by one unsubscribe). */
  unsubscribe(topic: string): void {
    this.mirrors.unwatch(topic);
    void this.call('unsubscribe', topic).catch(() => undefined);
  }

  // What the feed's catch-ups (TopicSource) and the controls (ControlDirectory) ask.
  /** The deltas since `seq` from the copy kept here when it has them all; else the model thread's answer (a catch-up message), shared by the clients at `seq`. */
  deltasAfter(topic: string, seq: number): Promise<DeltasAfter> {
    const local = this.mirrors.deltasAfter(topic, seq);
    if (local !== undefined) return Promise.resolve(local);
    const key = `${topic}\n${seq}`;
    const shared = this.catchups.get(key);
    if (shared !== undefined) return shared;
    const asked = this.call('deltasAfter', topic, seq);
    // Only an answer that brings something is shared: "nothing since" is only true when it is given.
    asked.then(
      (a) => {
        if (a === null || a.messages.length === 0) return;
        this.catchups.set(key, asked);
        setTimeout(() => this.catchups.delete(key), FULL_HELD_MS).unref();
      },
      () => undefined,
    );
    return asked;
  }

  async full(topic: string): Promise<{ seq: number; message: string } | null> {
    const held = this.fulls.get(topic);
    const r = await this.call('full', topic, held?.seq ?? -1);
    if (r === null) return null;
    return { seq: r.seq, message: r.message === null ? held!.message : this.hold(topic, r.seq, r.message) };
  }

  private hold(topic: string, seq: number, message: string): string {
    const old = this.fulls.get(topic);
    if (old) clearTimeout(old.timer);
    const timer = setTimeout(() => this.fulls.delete(topic), FULL_HELD_MS);
    timer.unref();
    this.fulls.set(topic, { seq, message, timer });
    return message;
  }

  probeOwner(probeId: string): Promise<string | null> {
    return this.call('probeOwner', probeId);
  }

  controlOffer(...args: Args<'controlOffer'>): Promise<Result<'controlOffer'>> {
    return this.call('controlOffer', ...args);
  }

  /**
   * Blocks until the model thread has closed its ingest listener, at most EXIT_LISTENER_WAIT_MS
   * (see ExitGuard): before the thread is stopped, or the process ends. True when it has (or there
   * was nothing to close).
   */
  closeListenerNow(): boolean {
    if (!this.opts.ingestListen || !this.workerRunning) return true;
    Atomics.store(this.listenerClosed, 0, 0);
    this.worker.postMessage({ exiting: true } satisfies ProcessExiting);
    return Atomics.wait(this.listenerClosed, 0, 0, EXIT_LISTENER_WAIT_MS) !== 'timed-out';
  }

  /** Stops the model thread's timers and ends it. */
  close(): Promise<void> {
    this.closingDone ??= this.closeOnce();
    return this.closingDone;
  }

  private async closeOnce(): Promise<void> {
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    if (this.closing) {
      // It never came up (lost): nothing of it runs.
      await this.worker.terminate();
      ExitGuard.delete(this);
      return;
    }
    this.closing = true;
    // Held until it has ended: the app's other handles may all be closed by now.
    this.worker.ref();
    const done = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    // The worker's port closes after its answer to close(): it exits with nothing left to run.
    const closed = Promise.all([this.call('close').catch(() => undefined), done]);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
    await Promise.race([closed, timeout]);
    for (const x of this.waiting.values()) x.reject(new AppError(503, 'SHUTTING_DOWN', 'the app is shutting down', undefined, 5));
    this.waiting.clear();
    // Still running after the wait (busy): stopped, its listener closed first or the process would abort.
    this.closeListenerNow();
    await this.worker.terminate();
    this.workerRunning = false;
    ExitGuard.delete(this);
  }
}
