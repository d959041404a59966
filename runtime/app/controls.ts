/**
 * Controls: a person's request → the probe that runs the container → its result.
 *
 * Probes keep a WebSocket open to CONTROL_PATH (the app is the server, since it
 * cannot always reach probes). A channel is registered when the probe's
 * `hello` arrives, under its probe id; a newer channel for the same id replaces
 * the older one. A request picks a probe that reports the node, offers the
 * control on it, and said `controls: true` in its hello; it then waits for the
 * `result` with the same id, or times out. Every request made by a person is
 * written to the audit log, whatever its outcome.
 */
import { randomUUID } from 'node:crypto';
import { MAX_LOG_LINES, type ControlRequest, type ControlResult, type ProbeHello } from '../control/protocol';
import { CONTROL_IDS, parseNodeId, type ControlId, type TopologyName } from '../report';
import type { Principal } from './auth';
import type { AuditLog } from './audit';
import { AppError } from './errors';
import type { ControlOffer } from './model-thread/service';

/** What the controls read of the model (on the model thread: ModelService). */
export interface ControlDirectory {
  /** The token a probe reports under, or null when the model does not know it. */
  probeOwner(probeId: string): Promise<string | null>;
  /** The probes reporting a node that offer `control` on it. */
  controlOffer(topology: TopologyName, nodeId: string, control: ControlId): Promise<ControlOffer>;
}

/** What the controls need of a probe's WebSocket. */
export interface ChannelSocket {
  send(text: string): boolean;
  close(code: number, reason: string): void;
}

interface Channel {
  socket: ChannelSocket;
  hello: ProbeHello;
  owner: string;
  pending: Map<string, { resolve: (r: ControlResult) => void; timer: NodeJS.Timeout }>;
}

export interface ControlBody {
  nodeId: string;
  control: ControlId;
  tail?: number;
}

export interface ControlOutcome {
  probeId: string;
  ok: true;
  output?: string[];
}

export class Controls {
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly directory: ControlDirectory,
    private readonly audit: AuditLog,
    private readonly timeoutMs = 30_000,
  ) {}

  get connected(): number {
    return this.channels.size;
  }

  /** Registers a probe's channel after its hello. Refuses a probe id that reports under another token. */
  async register(socket: ChannelSocket, hello: ProbeHello, owner: string): Promise<void> {
    const known = await this.directory.probeOwner(hello.probeId);
    if (known !== null && known !== owner) throw new AppError(403, 'PROBE_MISMATCH', `probe ${hello.probeId} reports with another token`);
    const old = this.channels.get(hello.probeId);
    if (old && old.socket !== socket) {
      this.failPending(old, 'PROBE_UNREACHABLE', 'the probe opened a newer control channel');
      old.socket.close(4001, 'replaced by a newer channel');
    }
    this.channels.set(hello.probeId, { socket, hello, owner, pending: new Map() });
  }

  /** Forgets a channel when its socket closes. */
  unregister(socket: ChannelSocket): void {
    for (const [id, ch] of this.channels) {
      if (ch.socket === socket) {
        this.channels.delete(id);
        this.failPending(ch, 'PROBE_UNREACHABLE', 'the probe closed its control channel');
      }
    }
  }

  /** A result from a probe's channel. Unknown ids are ignored (a late answer to a timed-out request). */
  onResult(socket: ChannelSocket, result: ControlResult): void {
    for (const ch of this.channels.values()) {
      if (ch.socket !== socket) continue;
      const p = ch.pending.get(result.id);
      if (!p) return;
      clearTimeout(p.timer);
      ch.pending.delete(result.id);
      p.resolve(result);
    }
  }

  isChannel(socket: ChannelSocket): boolean {
    for (const ch of this.channels.values()) if (ch.socket === socket) return true;
    return false;
  }

  private failPending(ch: Channel, code: string, message: string): void {
    for (const [id, p] of ch.pending) {
      clearTimeout(p.timer);
      p.resolve({ type: 'result', id, ok: false, error: { code, message } });
    }
    ch.pending.clear();
  }

  /** Chooses the probe to carry a control: it reports the node, offers the control, and listens. */
  private async pick(nodeId: string, control: ControlId): Promise<{ probeId: string; channel: Channel }> {
    const parsed = parseNodeId(nodeId);
    if (!parsed) throw new AppError(400, 'BAD_REQUEST', 'nodeId is not a node id', 'nodeId');
    const offer = await this.directory.controlOffer(parsed.topology, nodeId, control);
    if (!offer.found) throw new AppError(404, 'UNKNOWN_NODE', `node ${nodeId} is not in the model`, 'nodeId');
    for (const { probeId, owner } of offer.offers) {
      const ch = this.channels.get(probeId);
      if (ch && ch.hello.controls && ch.owner === owner) return { probeId, channel: ch };
    }
    if (offer.offers.length === 0) throw new AppError(409, 'CONTROL_NOT_OFFERED', `node ${nodeId} does not offer the ${control} control`, 'control');
    throw new AppError(503, 'PROBE_UNREACHABLE', `no probe reporting ${nodeId} has a control channel open with controls enabled`, undefined, 5);
  }

  /** Runs a control for `who`; resolves with the probe's output or throws an AppError. Always audited. */
  async run(body: ControlBody, who: Principal, remote: string): Promise<ControlOutcome> {
    const started = performance.now();
    let probeId: string | null = null;
    const audit = (result: string, message?: string): void => {
      const entry = {
        time: new Date().toISOString(),
        who: who.name,
        role: who.role,
        control: body.control,
        nodeId: body.nodeId,
        probeId,
        result,
        durationMs: Math.round(performance.now() - started),
        remote,
        ...(message !== undefined ? { message: message.slice(0, 500) } : {}),
      };
      this.audit.write(entry);
    };
    try {
      if (!(CONTROL_IDS as readonly string[]).includes(body.control)) throw new AppError(400, 'BAD_REQUEST', 'unknown control', 'control');
      const { probeId: chosen, channel } = await this.pick(body.nodeId, body.control);
      probeId = chosen;
      const id = randomUUID();
      const request: ControlRequest = { type: 'control', id, nodeId: body.nodeId, control: body.control };
      if (body.control === 'logs') request.tail = Math.min(body.tail ?? 100, MAX_LOG_LINES);
      const result = await new Promise<ControlResult>((resolve) => {
        const timer = setTimeout(() => {
          channel.pending.delete(id);
          resolve({ type: 'result', id, ok: false, error: { code: 'CONTROL_TIMEOUT', message: `no answer from probe ${chosen} in ${this.timeoutMs} ms` } });
        }, this.timeoutMs);
        channel.pending.set(id, { resolve, timer });
        if (!channel.socket.send(JSON.stringify(request))) {
          // uWS buffered it: still sent later; only a closed socket loses it, and that fails pending.
        }
      });
      if (!result.ok) {
        const code = result.error.code;
        const status = code === 'CONTROL_TIMEOUT' ? 504 : code === 'PROBE_UNREACHABLE' ? 503 : 502;
        throw new AppError(status, status === 502 ? 'CONTROL_FAILED' : (code as 'CONTROL_TIMEOUT' | 'PROBE_UNREACHABLE'), `${code}: ${result.error.message}`);
      }
      audit('ok');
      return result.output === undefined ? { probeId: chosen, ok: true } : { probeId: chosen, ok: true, output: result.output };
    } catch (err) {
      if (err instanceof AppError) audit(err.code, err.message);
      else audit('INTERNAL', String(err));
      throw err;
    }
  }

  /** Audits a refused attempt (wrong role) that never reached `run`. */
  auditRefusal(body: Partial<ControlBody>, who: Principal, remote: string, code: string): void {
    this.audit.write({
      time: new Date().toISOString(),
      who: who.name,
      role: who.role,
      control: String(body.control ?? ''),
      nodeId: String(body.nodeId ?? ''),
      probeId: null,
      result: code,
      durationMs: 0,
      remote,
    });
  }

  close(): void {
    for (const ch of this.channels.values()) {
      this.failPending(ch, 'PROBE_UNREACHABLE', 'the app is shutting down');
      ch.socket.close(1001, 'app shutting down');
    }
    this.channels.clear();
  }
}
