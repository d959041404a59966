/**
 * Client of the Docker Engine REST API (v1.41 paths) over a unix socket, as
 * served by Docker and by Podman's compatible service. It is what the probe's
 * container collector calls every pass and what its control channel uses to
 * act on containers, so every answer is checked (decode.ts, stats.ts,
 * events.ts, log-frames.ts) and every failure is an EngineError with a code.
 */
import { Client, Pool } from 'undici';
import { CONTAINER_REF, decodeContainerList, decodeDetails, decodeVersion, errorMessage, isStateConflict, parseJson } from './decode';
import { EngineError } from './engine-error';
import { decodeEvent, LineSplitter } from './events';
import { detectFraming, logLines } from './log-frames';
import { CpuHistory, cpuPercent, decodeStats } from './stats';
import { exchange, mapTransportError, readBounded, type RawResponse } from './transport';
import type { ContainerControl, ContainerDetails, ContainerEvent, ContainerStats, EngineContainer, EngineVersion } from './types';

export { EngineError } from './engine-error';
export type { EngineErrorCode } from './engine-error';
export type { ContainerControl, ContainerDetails, ContainerEvent, ContainerPort, ContainerState, ContainerStats, EngineContainer, EngineVersion } from './types';

export interface DockerEngineOptions {
  socketPath: string;
  /** per request, connect to last byte; default 5000 */
  timeoutMs?: number;
  /** larger responses are an ENGINE_BAD_RESPONSE; default 16 MiB */
  maxResponseBytes?: number;
}

const API = '/v1.41';
const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Docker's default grace period; sent explicitly so a stop has a known upper bound. */
const STOP_GRACE_SECONDS = 10;
/** More log lines than a person reads in a control response. */
export const MAX_LOG_LINES = 10_000;
/** One event is a few hundred bytes; labels can make it a few KiB. */
const MAX_EVENT_LINE_BYTES = 1024 * 1024;
/**
 * Enough parallelism for the per-container stats calls of a pass (Docker holds
 * each about a second to take its two samples) without one socket per container.
 */
const POOL_CONNECTIONS = 8;
/**
 * How long an idle connection to the engine is kept. The container collector
 * calls stats every full pass (15 s by default); undici's own 4 s closed the
 * pool's connections between passes, so each pass connected anew (as many
 * sockets as the stats run at once). Longer than any sensible interval: Podman
 * keeps an idle connection open (test/probe/docker-engine.test.ts), and one an
 * engine closes first is simply dialled again by undici.
 */
export const ENGINE_IDLE_CONNECTION_MS = 5 * 60_000;
const EVENTS_PATH = `${API}/events?filters=${encodeURIComponent('{"type":["container"]}')}`;

const CONTROL_REQUESTS: Readonly<Record<ContainerControl, { method: 'POST' | 'DELETE'; suffix: string; graceful: boolean }>> = {
  start: { method: 'POST', suffix: '/start', graceful: false },
  stop: { method: 'POST', suffix: `/stop?t=${STOP_GRACE_SECONDS}`, graceful: true },
  restart: { method: 'POST', suffix: `/restart?t=${STOP_GRACE_SECONDS}`, graceful: true },
  pause: { method: 'POST', suffix: '/pause', graceful: false },
  unpause: { method: 'POST', suffix: '/unpause', graceful: false },
  // Forced: removal is an explicit request from a person, and a running
  // container would otherwise refuse it (Docker's `rm -f`).
  remove: { method: 'DELETE', suffix: '?force=1', graceful: true },
};

/** Path segment for a container id or name; anything else cannot name a container. */
function containerPath(ref: string): string {
  if (!CONTAINER_REF.test(ref)) throw new EngineError('ENGINE_NOT_FOUND', `not a valid container id or name: ${JSON.stringify(ref.slice(0, 80))}`);
  return `${API}/containers/${ref}`;
}

/** Maps an error status to a code, keeping the engine's own message. */
function statusError(res: RawResponse, what: string): EngineError {
  const message = `${what}: ${errorMessage(res.body)}`;
  if (res.status === 404) return new EngineError('ENGINE_NOT_FOUND', message, res.status);
  if (res.status === 409 || (res.status === 500 && isStateConflict(res.body))) return new EngineError('ENGINE_CONFLICT', message, res.status);
  if (res.status >= 400) return new EngineError('ENGINE_REJECTED', message, res.status);
  return new EngineError('ENGINE_BAD_RESPONSE', `${what}: unexpected status ${res.status}`, res.status);
}

export class DockerEngine {
  private readonly socketPath: string;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly pool: Pool;
  /** Event streams hold their own connection (see events()); close() ends them. */
  private readonly streams = new Set<Client>();
  private readonly cpuHistory = new CpuHistory();
  private closed = false;

  constructor(opts: DockerEngineOptions) {
    this.socketPath = opts.socketPath;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (!(this.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
    if (!(this.maxResponseBytes > 0)) throw new RangeError('maxResponseBytes must be positive');
    this.pool = new Pool('http://localhost', {
      socketPath: this.socketPath,
      connections: POOL_CONNECTIONS,
      connect: { timeout: this.timeoutMs },
      keepAliveTimeout: ENGINE_IDLE_CONNECTION_MS,
      keepAliveMaxTimeout: ENGINE_IDLE_CONNECTION_MS,
    });
  }

  private async get(path: string, what: string): Promise<RawResponse> {
    const res = await exchange(this.pool, { method: 'GET', path, timeoutMs: this.timeoutMs, maxBytes: this.maxResponseBytes });
    if (res.status !== 200) throw statusError(res, what);
    return res;
  }

  async version(): Promise<EngineVersion> {
    const res = await this.get(`${API}/version`, 'GET /version');
    return decodeVersion(parseJson(res.body, 'GET /version'));
  }

  /** All containers, stopped ones included. */
  async listContainers(): Promise<EngineContainer[]> {
    const res = await this.get(`${API}/containers/json?all=1`, 'GET /containers/json');
    return decodeContainerList(parseJson(res.body, 'GET /containers/json'));
  }

  async inspect(id: string): Promise<ContainerDetails> {
    const res = await this.get(`${containerPath(id)}/json`, `inspect ${id}`);
    return decodeDetails(parseJson(res.body, `inspect ${id}`), Date.now());
  }

  /**
   * One stats sample. A container that is not running has no stats: Podman
   * answers 200 with an empty body, which is reported as ENGINE_CONFLICT (the
   * container's state, not a broken engine).
   */
  async stats(id: string): Promise<ContainerStats> {
    const what = `stats ${id}`;
    // one-shot: Docker otherwise holds the answer about a second to fill precpu;
    // without it the CPU delta comes from CpuHistory (as with Podman, which ignores it).
    const res = await this.get(`${containerPath(id)}/stats?stream=false&one-shot=true`, what);
    if (res.body.length === 0) throw new EngineError('ENGINE_CONFLICT', `${what}: engine returned no stats (container not running)`, res.status);
    const decoded = decodeStats(parseJson(res.body, what));
    let pct = 0;
    if (decoded.cpu !== undefined) {
      const fromEngine = decoded.precpu !== undefined ? cpuPercent(decoded.cpu, decoded.precpu) : undefined;
      pct = fromEngine ?? this.cpuHistory.next(decoded.id ?? id, decoded.cpu);
    }
    return { cpuPercent: pct, ...decoded.stats };
  }

  /**
   * Container events until `signal` aborts (then it resolves) or the stream
   * breaks (then it rejects with an EngineError; the caller reconnects with
   * backoff and re-lists, since events during the gap are lost). A throwing
   * `onEvent` ends the stream and its error is rethrown as is.
   *
   * The stream gets its own connection, outside the pool, so that it never
   * holds a slot the per-pass requests need and can be torn down alone.
   *
   * `onOpen` is called once the engine has accepted the stream (status 200):
   * from then on no container event is missed, so a list made after it, plus
   * the events that follow, is the whole picture (the container collector's
   * table relies on that).
   */
  async events(onEvent: (e: ContainerEvent) => void, signal: AbortSignal, onOpen?: () => void): Promise<void> {
    if (signal.aborted || this.closed) return;
    const what = 'GET /events';
    const client = new Client('http://localhost', {
      socketPath: this.socketPath,
      connect: { timeout: this.timeoutMs },
      headersTimeout: this.timeoutMs,
      bodyTimeout: 0, // a quiet host sends no events for hours
    });
    this.streams.add(client);
    let callbackError: { error: unknown } | undefined;
    try {
      const res = await client.request({ method: 'GET', path: EVENTS_PATH, signal, headersTimeout: this.timeoutMs, bodyTimeout: 0 });
      if (res.statusCode !== 200) {
        const body = await readBounded(res.body, res.headers['content-length'], 64 * 1024, what);
        throw statusError({ status: res.statusCode, contentType: undefined, body }, what);
      }
      // Leaving the loop early destroys the body; its abort error is ours, not news.
      res.body.on('error', () => undefined);
      onOpen?.();
      const splitter = new LineSplitter(MAX_EVENT_LINE_BYTES);
      const onLine = (line: Buffer): void => {
        if (line.length === 0 || (line.length === 1 && line[0] === 0x0d)) return;
        const event = decodeEvent(line);
        if (event === undefined) return;
        try {
          onEvent(event);
        } catch (error) {
          callbackError = { error };
          throw error;
        }
      };
      for await (const chunk of res.body as AsyncIterable<Buffer>) splitter.push(chunk, onLine);
      if (signal.aborted || this.closed) return;
      throw new EngineError('ENGINE_UNREACHABLE', `${what}: the engine ended the event stream`);
    } catch (err) {
      if (callbackError !== undefined) throw callbackError.error;
      if (signal.aborted || this.closed) return;
      // Unlike a one-shot answer, a stream that breaks midway means the engine
      // went away (restart, crash), not that it sent a bad answer: so 'connect'.
      throw mapTransportError(err, 'connect', what, false);
    } finally {
      this.streams.delete(client);
      client.destroy().catch(() => undefined);
    }
  }

  /** 204 and 304 (already in that state) both succeed; refusals carry the engine's message. */
  async control(id: string, action: ContainerControl): Promise<void> {
    const req = CONTROL_REQUESTS[action];
    if (req === undefined) throw new RangeError(`unknown container control: ${String(action)}`);
    const what = `${action} ${id}`;
    // A graceful stop may legitimately take the whole grace period before the engine answers.
    const timeoutMs = req.graceful ? this.timeoutMs + STOP_GRACE_SECONDS * 1000 : this.timeoutMs;
    const res = await exchange(this.pool, { method: req.method, path: `${containerPath(id)}${req.suffix}`, timeoutMs, maxBytes: 64 * 1024 });
    if (res.status === 204 || res.status === 304 || res.status === 200) return;
    throw statusError(res, what);
  }

  /** The last `tail` lines of stdout and stderr together, oldest first, without line ends. */
  async logs(id: string, tail: number): Promise<string[]> {
    if (!Number.isInteger(tail) || tail < 0 || tail > MAX_LOG_LINES) throw new RangeError(`tail must be an integer from 0 to ${MAX_LOG_LINES}`);
    const base = containerPath(id); // validates the reference even when nothing is fetched
    if (tail === 0) return [];
    const res = await this.get(`${base}/logs?stdout=1&stderr=1&tail=${tail}`, `logs ${id}`);
    const lines = logLines(res.body, detectFraming(res.body, res.contentType));
    // The engine counts `tail` per stream on some versions; the caller asked for N in total.
    return lines.length > tail ? lines.slice(lines.length - tail) : lines;
  }

  /** Ends open event streams (their events() calls resolve) and the connection pool. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const streams = [...this.streams];
    this.streams.clear();
    await Promise.all(streams.map((c) => c.destroy().catch(() => undefined)));
    await this.pool.close().catch(() => this.pool.destroy());
  }
}
