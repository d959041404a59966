/**
 * The `GET /events` stream: one JSON object per line, for as long as the
 * connection lives. LineSplitter cuts the byte stream into lines without
 * re-joining the whole stream; decodeEvent checks one line's object.
 */
import { badResponse } from './engine-error';
import { asObject, fail, optNum, optObject, optStr, strMap } from './json-read';
import type { ContainerEvent } from './types';

/** Podman names some container actions differently from Docker; the probe speaks Docker's. */
const ACTION_ALIASES: Readonly<Record<string, string>> = { remove: 'destroy', died: 'die' };

const NEWLINE = 0x0a;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** Calls `onLine` for every complete line in `chunk` (without the newline). */
  push(chunk: Buffer, onLine: (line: Buffer) => void): void {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      let line = chunk.subarray(start, nl);
      if (this.pendingBytes > 0) {
        this.pending.push(line);
        line = Buffer.concat(this.pending, this.pendingBytes + line.length);
        this.pending = [];
        this.pendingBytes = 0;
      }
      if (line.length > this.maxLineBytes) throw badResponse(`event line of ${line.length} bytes exceeds ${this.maxLineBytes}`);
      onLine(line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes > this.maxLineBytes) throw badResponse(`event line exceeds ${this.maxLineBytes} bytes`);
      this.pending.push(chunk.subarray(start));
    }
  }
}

/** A container event, or undefined for the other types an engine may send despite the filter. */
export function decodeEvent(line: Buffer): ContainerEvent | undefined {
  const at = 'GET /events line';
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.toString('utf8'));
  } catch (err) {
    throw badResponse(`${at}: invalid JSON (${(err as Error).message})`);
  }
  const o = asObject(parsed, at);
  const type = optStr(o, 'Type', at) ?? optStr(o, 'type', at);
  if (type !== undefined && type !== 'container') return undefined;

  // Engines before API 1.22 sent only `status` and `id`; current ones send Action and Actor.
  const rawAction = optStr(o, 'Action', at) ?? optStr(o, 'status', at);
  if (rawAction === undefined || rawAction === '') fail(`${at}.Action`, 'an action', o['Action']);
  const actor = optObject(o, 'Actor', at);
  const id = (actor && optStr(actor, 'ID', `${at}.Actor`)) ?? optStr(o, 'id', at);
  if (id === undefined || id === '') fail(`${at}.Actor.ID`, 'a container id', actor?.['ID']);

  const timeNano = optNum(o, 'timeNano', at);
  const timeSec = optNum(o, 'time', at);
  let time: number;
  if (timeNano !== undefined && timeNano > 0) time = Math.floor(timeNano / 1e6);
  else if (timeSec !== undefined && timeSec > 0) time = timeSec * 1000;
  else return fail(`${at}.time`, 'a timestamp', o['time']);

  return {
    id,
    action: ACTION_ALIASES[rawAction] ?? rawAction,
    time,
    attributes: actor ? strMap(actor, 'Attributes', `${at}.Actor`) : {},
  };
}
