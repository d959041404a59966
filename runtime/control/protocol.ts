/**
 * The wire between probes and the app, shared by both sides (neither imports the other).
 *
 * Reports: the probe POSTs each encoded report (runtime/report codec: gzip JSON) to
 * `REPORT_PATH` with `Authorization: Bearer <probe token>`, `Content-Type: application/json`
 * and `Content-Encoding: gzip`. The app answers 202 with `ReportAccepted`; 400/413/415 with an
 * `ApiError` naming the problem; 401/403 for a missing or wrong-role token; 409 with code
 * `DELTA_BASE_UNKNOWN` when a delta's base full report is not held (the probe then sends a
 * full report); 429/503 with `Retry-After` (seconds) under overload.
 *
 * Controls: the probe keeps a WebSocket open to `CONTROL_PATH` (the app cannot always reach
 * probes), authenticated like reports. It sends `ProbeHello` first; the app sends
 * `ControlRequest`s; the probe answers each with one `ControlResult` carrying the same id.
 * All messages are JSON text frames of at most `MAX_CONTROL_MESSAGE_BYTES`.
 */
import { CONTROL_IDS, type ControlId } from '../report/schema';

export const REPORT_PATH = '/api/report';
export const CONTROL_PATH = '/api/probe/control';
export const MAX_CONTROL_MESSAGE_BYTES = 1024 * 1024;
/** Log lines a `logs` control may ask for. */
export const MAX_LOG_LINES = 1000;

export interface ApiError {
  error: { code: string; message: string; path?: string };
}

export interface ReportAccepted {
  probeId: string;
  seq: number;
}

export interface ProbeHello {
  type: 'hello';
  probeId: string;
  hostId: string;
  /** False when the probe runs with --no-controls: the app must not offer its controls. */
  controls: boolean;
  version: string;
}

export interface ControlRequest {
  type: 'control';
  /** Chosen by the app, unique among its open requests to this probe. */
  id: string;
  /** Report node id of the container (`container;<id>`, see runtime/report/ids.ts). */
  nodeId: string;
  control: ControlId;
  /** For `logs`: how many of the last lines (1..MAX_LOG_LINES). */
  tail?: number;
}

export type ControlResult =
  | { type: 'result'; id: string; ok: true; output?: string[] }
  | { type: 'result'; id: string; ok: false; error: { code: string; message: string } };

export type ProbeMessage = ProbeHello | ControlResult;
export type AppMessage = ControlRequest;

export class ProtocolError extends Error {
  constructor(public readonly code: 'BAD_MESSAGE', message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

type Json = Record<string, unknown>;

function parseObject(text: string): Json {
  if (Buffer.byteLength(text) > MAX_CONTROL_MESSAGE_BYTES) {
    throw new ProtocolError('BAD_MESSAGE', `message larger than ${MAX_CONTROL_MESSAGE_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError('BAD_MESSAGE', 'message is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('BAD_MESSAGE', 'message is not a JSON object');
  }
  return value as Json;
}

function str(o: Json, key: string, max = 512): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    throw new ProtocolError('BAD_MESSAGE', `"${key}" must be a non-empty string of at most ${max} characters`);
  }
  return v;
}

/** Parses what the app sends; throws ProtocolError naming the first problem. */
export function parseAppMessage(text: string): AppMessage {
  const o = parseObject(text);
  if (o.type !== 'control') throw new ProtocolError('BAD_MESSAGE', `unknown message type ${JSON.stringify(o.type)}`);
  const control = o.control;
  if (typeof control !== 'string' || !(CONTROL_IDS as readonly string[]).includes(control)) {
    throw new ProtocolError('BAD_MESSAGE', `"control" must be one of ${CONTROL_IDS.join(', ')}`);
  }
  const msg: ControlRequest = { type: 'control', id: str(o, 'id', 128), nodeId: str(o, 'nodeId'), control: control as ControlId };
  if (o.tail !== undefined) {
    if (!Number.isInteger(o.tail) || (o.tail as number) < 1 || (o.tail as number) > MAX_LOG_LINES) {
      throw new ProtocolError('BAD_MESSAGE', `"tail" must be an integer from 1 to ${MAX_LOG_LINES}`);
    }
    msg.tail = o.tail as number;
  }
  return msg;
}

/** Parses what a probe sends; throws ProtocolError naming the first problem. */
export function parseProbeMessage(text: string): ProbeMessage {
  const o = parseObject(text);
  if (o.type === 'hello') {
    if (typeof o.controls !== 'boolean') throw new ProtocolError('BAD_MESSAGE', '"controls" must be a boolean');
    return { type: 'hello', probeId: str(o, 'probeId', 128), hostId: str(o, 'hostId'), controls: o.controls, version: str(o, 'version', 64) };
  }
  if (o.type === 'result') {
    const id = str(o, 'id', 128);
    if (o.ok === true) {
      const output = o.output;
      if (output !== undefined && (!Array.isArray(output) || output.length > MAX_LOG_LINES || !output.every((l) => typeof l === 'string'))) {
        throw new ProtocolError('BAD_MESSAGE', `"output" must be an array of at most ${MAX_LOG_LINES} strings`);
      }
      return output === undefined ? { type: 'result', id, ok: true } : { type: 'result', id, ok: true, output: output as string[] };
    }
    if (o.ok === false) {
      const e = o.error as Json | undefined;
      if (typeof e !== 'object' || e === null) throw new ProtocolError('BAD_MESSAGE', '"error" must be an object with code and message');
      return { type: 'result', id, ok: false, error: { code: str(e, 'code', 128), message: str(e, 'message', 4096) } };
    }
    throw new ProtocolError('BAD_MESSAGE', '"ok" must be true or false');
  }
  throw new ProtocolError('BAD_MESSAGE', `unknown message type ${JSON.stringify(o.type)}`);
}
