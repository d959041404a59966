/**
 * Talking to the app: REST with the bearer token in a header, and the view
 * feed over a WebSocket with the token as the `bearer.<token>` subprotocol.
 * The token never goes into a URL, so it never lands in a server's access log.
 */
import type { FeedMessage, NodePatch, ViewNode } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const TOKEN_KEY = 'orchestrator.token';

/** The token: from the page's fragment (`#token=…`, as the app prints it) or sessionStorage. */
export function takeToken(): string | null {
  const frag = new URLSearchParams(location.hash.slice(1));
  const fromHash = frag.get('token');
  if (fromHash) {
    sessionStorage.setItem(TOKEN_KEY, fromHash);
    frag.delete('token');
    const rest = frag.toString();
    history.replaceState(history.state, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
    return fromHash;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class Api {
  constructor(private readonly token: () => string | null) {}

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const t = this.token();
    if (t) headers.authorization = `Bearer ${t}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, { method, headers, cache: 'no-store', ...(body !== undefined ? { body: JSON.stringify(body) } : {}), ...(signal ? { signal } : {}) });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiError(0, 'NETWORK', 'the app cannot be reached');
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: reported below if the status is an error
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } } | null)?.error;
      throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? (text.slice(0, 200) || res.statusText));
    }
    return json as T;
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, undefined, signal);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }
}

export type FeedState = 'connecting' | 'live' | 'lost' | 'unauthorized';

export interface FeedHandlers {
  full(nodes: ViewNode[]): void;
  delta(add: ViewNode[], update: NodePatch[], remove: string[]): void;
  state(s: FeedState, detail: string): void;
}

/**
 * One view's feed. Reconnects on its own (1 s, doubling to 15 s); a missed
 * sequence number or a `reset` reconnects at once for a fresh full view.
 * When the socket cannot open, a REST call tells a refused token (401) from
 * an unreachable app. A socket that brings no full view within
 * FULL_VIEW_WAIT_MS (never opened, or opened and silent) is given up and
 * reconnected, and the page says so, rather than waiting on "connecting"
 * for ever.
 */
export const FULL_VIEW_WAIT_MS = 15_000;

export class Feed {
  private ws: WebSocket | null = null;
  private seq = -1;
  private backoff = 1000;
  private timer: number | null = null;
  private closed = false;
  private opened = false;

  constructor(
    private readonly path: string,
    private readonly token: () => string | null,
    private readonly api: Api,
    private readonly on: FeedHandlers,
  ) {
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    this.timer = null;
    this.opened = false;
    this.seq = -1;
    const t = this.token();
    if (!t) {
      this.on.state('unauthorized', 'no token');
      return;
    }
    this.on.state('connecting', 'connecting');
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${this.path}`;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, [`bearer.${t}`]);
    } catch {
      this.on.state('unauthorized', 'this token cannot be sent over a WebSocket');
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.opened = true;
    };
    this.stopWatchdog();
    this.watchdog = window.setTimeout(() => {
      this.watchdog = null;
      if (this.ws !== ws || this.closed) return;
      performance.mark('topology-feed-stalled', { detail: { opened: this.opened } });
      this.on.state('lost', `${this.opened ? 'the app sent no view' : 'the app did not answer'} within ${FULL_VIEW_WAIT_MS / 1000} s; reconnecting`);
      this.restart(0);
    }, FULL_VIEW_WAIT_MS);
    ws.onmessage = (e) => {
      let m: FeedMessage;
      try {
        m = JSON.parse(String(e.data)) as FeedMessage;
      } catch {
        return;
      }
      if (m.type === 'full') {
        this.stopWatchdog();
        this.seq = m.seq;
        this.backoff = 1000;
        this.on.full(m.nodes);
        this.on.state('live', 'live');
      } else if (m.type === 'delta') {
        if (this.seq >= 0 && m.seq !== this.seq + 1) {
          // A message was missed: start again from a full view.
          this.restart(0);
          return;
        }
        this.seq = m.seq;
        this.on.delta(m.add, m.update, m.remove);
      } else if (m.type === 'catchup') {
        // Sent only while joining, after the full view, when the deltas since it were no longer all kept:
        // what changed after `base`, this client's seq (another may follow, from its `seq`).
        if (m.base !== this.seq) {
          this.restart(0);
          return;
        }
        this.seq = m.seq;
        this.on.delta(m.add, [], m.remove);
      } else if (m.type === 'reset') {
        this.restart(0);
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws || this.closed) return;
      this.stopWatchdog();
      this.ws = null;
      void this.afterClose(this.opened);
    };
  }

  private watchdog: number | null = null;

  private stopWatchdog(): void {
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  private async afterClose(wasOpen: boolean): Promise<void> {
    let reason = wasOpen ? 'connection to the app lost' : 'the app cannot be reached';
    let state: FeedState = 'lost';
    try {
      await this.api.get('/api/topology');
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        state = 'unauthorized';
        reason = err.message;
      }
    }
    if (this.closed) return;
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, 15_000);
    this.on.state(state, `${reason}; retrying in ${Math.round(wait / 1000)} s`);
    this.restart(wait);
  }

  private restart(ms: number): void {
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.close();
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.connect(), ms);
  }

  /** Tries again now (after a new token, or when the person asks). */
  retry(): void {
    this.backoff = 1000;
    this.restart(0);
  }

  close(): void {
    this.closed = true;
    this.stopWatchdog();
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
    }
    this.ws = null;
  }
}
