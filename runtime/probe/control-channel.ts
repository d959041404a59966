/**
 * The probe's end of the control channel (runtime/control/protocol.ts): a
 * WebSocket the probe opens to each app's CONTROL_PATH (the app cannot always
 * reach probes), authenticated with the same bearer token as reports.
 *
 * On open the probe sends `hello` (saying whether it accepts controls); then
 * it answers every `control` request with exactly one `result` of the same id:
 * the engine's outcome, or its error code and message. With `--no-controls`
 * the hello says `controls: false` and every request is refused with
 * CONTROLS_DISABLED. A closed or failed socket is reopened with backoff and
 * jitter; a socket that stayed open a while resets the backoff.
 *
 * The socket is the `ws` package's, not undici's: undici's WebSocket runs its
 * handshake through its fetch implementation, which the probe loads for this
 * one socket; on a probe that already publishes with undici it cost 2.5 MB of
 * resident memory against 0.6 MB for `ws` (docs/probe.md "Memory", item 21).
 */
import WebSocket from 'ws';
import { CONTROL_PATH, MAX_CONTROL_MESSAGE_BYTES, MAX_LOG_LINES, parseAppMessage, ProtocolError, type ControlRequest, type ControlResult, type ProbeHello } from '../control/protocol';
import { parseNodeId } from '../report';
import type { ProbeIdentity } from './collector';
import { EngineError, type DockerEngine } from './engine/docker-engine';
import { Backoff, sleep } from './limit';

/** Time the app has to complete the WebSocket handshake before the attempt counts as failed. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Lines a `logs` request returns when it names no tail. */
export const DEFAULT_LOG_TAIL = 100;

export interface ControlChannelOptions {
  app: string;
  identity: ProbeIdentity;
  /** null: read-only probe (`--no-controls`), or no engine to act on. */
  engine: DockerEngine | null;
  /** Why controls are off, for the refusal message. */
  disabledReason?: string;
  bearer: () => string;
  version: string;
  /** PEM of the CA that signed the app's certificate (`--ca-file`); default: the system roots. */
  ca?: string;
  backoff?: { initialMs: number; maxMs: number };
  random?: () => number;
  logger?: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /** Told after each control with its outcome code ('ok' or an error code). */
  onControl?: (control: string, outcome: string, seconds: number) => void;
}

export function controlUrl(app: string): string {
  const u = new URL(CONTROL_PATH, app);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

/** Runs one control request on the engine; never throws. */
export async function runControl(engine: DockerEngine | null, req: ControlRequest, disabledReason: string): Promise<ControlResult> {
  const fail = (code: string, message: string): ControlResult => ({ type: 'result', id: req.id, ok: false, error: { code, message: message.slice(0, 4096) } });
  if (engine === null) return fail('CONTROLS_DISABLED', disabledReason);
  const parsed = parseNodeId(req.nodeId);
  if (!parsed || parsed.topology !== 'container') return fail('BAD_NODE', `controls act on container nodes; ${JSON.stringify(req.nodeId.slice(0, 100))} is not one`);
  const id = parsed.parts[0]!;
  try {
    if (req.control === 'logs') {
      const lines = await engine.logs(id, Math.min(req.tail ?? DEFAULT_LOG_TAIL, MAX_LOG_LINES));
      return { type: 'result', id: req.id, ok: true, output: lines.map((l) => (l.length > 4096 ? l.slice(0, 4096) : l)) };
    }
    await engine.control(id, req.control);
    return { type: 'result', id: req.id, ok: true };
  } catch (err) {
    if (err instanceof EngineError) return fail(err.code, err.message);
    return fail('CONTROL_FAILED', (err as Error).message ?? String(err));
  }
}

export class ControlChannel {
  private readonly stop = new AbortController();
  private loop: Promise<void> | null = null;
  private socket: WebSocket | null = null;
  connected = false;

  constructor(private readonly opts: ControlChannelOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    const backoff = new Backoff(this.opts.backoff?.initialMs ?? 1_000, this.opts.backoff?.maxMs ?? 60_000, this.opts.random);
    let warned = false;
    while (!this.stop.signal.aborted) {
      const opened = Date.now();
      const outcome = await this.session();
      if (this.stop.signal.aborted) return;
      if (outcome.wasOpen && Date.now() - opened > 30_000) backoff.reset();
      if (!warned || outcome.wasOpen) this.opts.logger?.warn({ app: this.opts.app, reason: outcome.reason }, 'control channel closed; reconnecting with backoff');
      warned = true;
      await sleep(backoff.next(), this.stop.signal);
    }
  }

  /** One WebSocket from open to close. */
  private session(): Promise<{ wasOpen: boolean; reason: string }> {
    return new Promise((resolve) => {
      let wasOpen = false;
      let ws: WebSocket;
      try {
        ws = new WebSocket(controlUrl(this.opts.app), {
          headers: { authorization: `Bearer ${this.opts.bearer()}` },
          handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
          // The app never sends more than one control message's worth; anything bigger closes the socket (1009).
          maxPayload: MAX_CONTROL_MESSAGE_BYTES,
          // Compression is not negotiated: control messages are small, and zlib contexts cost memory.
          perMessageDeflate: false,
          // rejectUnauthorized stays at its default (true): TLS is always verified.
          ...(this.opts.ca ? { ca: this.opts.ca } : {}),
        });
      } catch (err) {
        resolve({ wasOpen, reason: (err as Error).message });
        return;
      }
      this.socket = ws;
      const onAbort = (): void => ws.close(1000, 'probe stopping');
      this.stop.signal.addEventListener('abort', onAbort, { once: true });
      ws.onopen = () => {
        wasOpen = true;
        this.connected = true;
        const hello: ProbeHello = {
          type: 'hello',
          probeId: this.opts.identity.probeId,
          hostId: this.opts.identity.hostId,
          controls: this.opts.engine !== null,
          version: this.opts.version,
        };
        ws.send(JSON.stringify(hello));
        this.opts.logger?.info({ app: this.opts.app, controls: hello.controls }, 'control channel open');
      };
      ws.onmessage = (ev) => {
        if (typeof ev.data !== 'string') return; // the protocol is JSON text frames only
        let req: ControlRequest;
        try {
          req = parseAppMessage(ev.data);
        } catch (err) {
          // No id to answer to: log, keep the channel (one bad message is the app's bug, not a reason to drop controls).
          this.opts.logger?.warn({ err: err instanceof ProtocolError ? err.message : String(err) }, 'control message refused');
          return;
        }
        void this.handle(ws, req);
      };
      // The close event that follows carries the outcome; the error says why when the close was
      // not a handshake of two ends (1006: TLS refused, connection refused, a message over maxPayload).
      let error = '';
      ws.onerror = (ev) => {
        error = ev.message;
      };
      ws.onclose = (ev) => {
        this.connected = false;
        this.socket = null;
        this.stop.signal.removeEventListener('abort', onAbort);
        resolve({ wasOpen, reason: `${ev.code} ${ev.reason || error}`.trim() });
      };
    });
  }

  private async handle(ws: WebSocket, req: ControlRequest): Promise<void> {
    const started = performance.now();
    const result = await runControl(this.opts.engine, req, this.opts.disabledReason ?? 'this probe runs with --no-controls (read-only)');
    const outcome = result.ok ? 'ok' : result.error.code;
    this.opts.onControl?.(req.control, outcome, (performance.now() - started) / 1000);
    this.opts.logger?.info({ control: req.control, nodeId: req.nodeId, outcome, ms: Math.round(performance.now() - started) }, 'control');
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(result));
  }

  async close(): Promise<void> {
    this.stop.abort();
    this.socket?.close(1000, 'probe stopping');
    await this.loop;
  }
}
