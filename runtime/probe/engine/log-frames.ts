/**
 * Container logs as lines.
 *
 * Without a TTY the engine multiplexes stdout and stderr into frames:
 *   [stream (0 stdin, 1 stdout, 2 stderr), 0, 0, 0, size (uint32 big-endian)] + payload
 * A frame is one write of the container, not one line: a line can span frames
 * and a frame can hold many lines, so each stream keeps its own unfinished
 * line. With a TTY the body is the raw terminal text (CRLF line ends).
 */
import { badResponse } from './engine-error';

const HEADER_BYTES = 8;
const NEWLINE = 0x0a;
const CR = 0x0d;

export type LogFraming = 'multiplexed' | 'raw';

/**
 * Docker (API >= 1.42) says which in the content type; older Docker and
 * Podman send a generic type, and then the first header decides: raw terminal
 * text that starts with a 0-2 byte followed by three NULs does not occur.
 */
export function detectFraming(body: Buffer, contentType: string | undefined): LogFraming {
  if (contentType?.includes('multiplexed-stream')) return 'multiplexed';
  if (contentType?.includes('raw-stream')) return 'raw';
  if (body.length >= HEADER_BYTES && body[0]! <= 2 && body[1] === 0 && body[2] === 0 && body[3] === 0) return 'multiplexed';
  return 'raw';
}

function decodeLine(parts: Buffer[], last: Buffer): string {
  let bytes = last;
  if (parts.length > 0) {
    parts.push(last);
    bytes = Buffer.concat(parts);
    parts.length = 0;
  }
  const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
  return bytes.toString('utf8', 0, end);
}

/** Appends the complete lines of `payload` to `out`; the unfinished tail goes to `partial`. */
function splitInto(payload: Buffer, partial: Buffer[], out: string[]): void {
  let start = 0;
  for (let nl = payload.indexOf(NEWLINE); nl !== -1; nl = payload.indexOf(NEWLINE, start)) {
    out.push(decodeLine(partial, payload.subarray(start, nl)));
    start = nl + 1;
  }
  if (start < payload.length) partial.push(payload.subarray(start));
}

/** All lines of a logs body, stdout and stderr in the order the engine recorded them. */
export function logLines(body: Buffer, framing: LogFraming): string[] {
  const out: string[] = [];
  if (framing === 'raw') {
    const partial: Buffer[] = [];
    splitInto(body, partial, out);
    if (partial.length > 0) out.push(decodeLine(partial, Buffer.alloc(0)));
    return out;
  }
  // Index 0 (stdin, only with attach) is shown like stdout, as `docker logs` does.
  const partials: Buffer[][] = [[], [], []];
  let offset = 0;
  while (offset < body.length) {
    if (body.length - offset < HEADER_BYTES) throw badResponse(`logs: truncated frame header at byte ${offset}`);
    const stream = body[offset]!;
    if (stream > 2 || body[offset + 1] !== 0 || body[offset + 2] !== 0 || body[offset + 3] !== 0) {
      throw badResponse(`logs: invalid frame header at byte ${offset}`);
    }
    const size = body.readUInt32BE(offset + 4);
    const payloadStart = offset + HEADER_BYTES;
    if (payloadStart + size > body.length) throw badResponse(`logs: frame at byte ${offset} declares ${size} bytes, ${body.length - payloadStart} present`);
    splitInto(body.subarray(payloadStart, payloadStart + size), partials[stream]!, out);
    offset = payloadStart + size;
  }
  // A final line without a newline (a container that printed no trailing \n) still counts.
  for (const partial of partials) if (partial.length > 0) out.push(decodeLine(partial, Buffer.alloc(0)));
  return out;
}
