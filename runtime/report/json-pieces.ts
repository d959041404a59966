/**
 * A value's JSON text in pieces, for encoding large reports without holding
 * their whole text.
 *
 * Why: `JSON.stringify` of a full report on a loaded host (1,000 processes,
 * 4,000 sockets) is one string of over a megabyte, and gzip wants it again
 * as a Buffer; both live, next to the report itself, until the gzip ends.
 * For the probe, whose resident-memory budget is 60 MB, that transient was
 * the top of every full pass. Walking the report's top levels and
 * stringifying each node on its own keeps at most one chunk of text alive.
 *
 * The pieces joined are the text `JSON.stringify(value)` writes (same key
 * order, same handling of `undefined`, functions, symbols and `toJSON`), so
 * whoever decodes the report cannot tell the difference.
 */

/**
 * How deep the walk goes before a value is stringified whole: report →
 * topologies → one topology → its nodes → one node (stringified). Deeper
 * values are small (a node's latest values, metrics and adjacency).
 */
export const JSON_SPLIT_DEPTH = 4;

/** True for a value JSON.stringify leaves out of an object (and writes as null in an array). */
function skipped(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/** Arrays and plain objects are walked; anything else (boxed primitives, Dates, class instances with toJSON) is JSON.stringify's to write. */
function walkable(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(value)) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** An object or array being written: its keys (null for an array), the next index, its depth. */
interface Frame {
  readonly value: object;
  readonly keys: string[] | null;
  index: number;
  readonly depth: number;
  /** Nothing written inside it yet (an object's first kept key needs no comma). */
  first: boolean;
}

/**
 * The walk behind jsonPieces and jsonChunks, one piece per `next()`, with its
 * open objects and arrays on an explicit stack. Why not recursive generators
 * (`yield*` per level, as before): the probe runs without an optimising
 * compiler, where each piece passed up through four generator frames cost
 * more than the JSON.stringify of the node it carried (a 1,200-process
 * report: 8-12 ms against 6-10 ms, plus a generator object per node).
 */
class JsonWalker {
  private readonly stack: Frame[] = [];
  private pending: string | null;

  constructor(value: unknown, splitDepth: number) {
    this.pending = this.open(value, splitDepth, '');
  }

  /** The next piece, or null when the text is complete. */
  next(): string | null {
    if (this.pending !== null) {
      const first = this.pending;
      this.pending = null;
      return first;
    }
    const stack = this.stack;
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      const keys = f.keys;
      if (keys === null) {
        const list = f.value as unknown[];
        if (f.index < list.length) {
          const v = list[f.index];
          const comma = f.index > 0 ? ',' : '';
          f.index++;
          // What JSON.stringify writes nothing for is null in an array.
          return (skipped(v) ? null : this.open(v, f.depth - 1, comma)) ?? `${comma}null`;
        }
        stack.pop();
        return ']';
      }
      while (f.index < keys.length) {
        const key = keys[f.index++]!;
        const v = (f.value as Record<string, unknown>)[key];
        if (skipped(v)) continue;
        // ...and a key left out of an object (a toJSON that gives undefined, too).
        const piece = this.open(v, f.depth - 1, `${f.first ? '' : ','}${JSON.stringify(key)}:`);
        if (piece === null) continue;
        f.first = false;
        return piece;
      }
      stack.pop();
      return '}';
    }
    return null;
  }

  /**
   * `head` followed by the value's text when it is written whole, or by its opening bracket
   * (its frame pushed); null when JSON.stringify writes nothing for it.
   */
  private open(value: unknown, depth: number, head: string): string | null {
    if (depth <= 0 || !walkable(value)) {
      const text = JSON.stringify(value);
      return text === undefined ? null : head + text;
    }
    const isArray = Array.isArray(value);
    this.stack.push({ value, keys: isArray ? null : Object.keys(value), index: 0, depth, first: true });
    return head + (isArray ? '[' : '{');
  }
}

/**
 * The JSON text of `value` as a sequence of strings whose concatenation is
 * `JSON.stringify(value)`. Objects and arrays shallower than `splitDepth` are
 * walked; everything at `splitDepth` is one `JSON.stringify` call. A value
 * JSON.stringify would write nothing for (`undefined` at the top) yields
 * nothing.
 */
export function* jsonPieces(value: unknown, splitDepth = JSON_SPLIT_DEPTH): Generator<string> {
  const walker = new JsonWalker(value, splitDepth);
  for (let piece = walker.next(); piece !== null; piece = walker.next()) yield piece;
}

/**
 * `jsonPieces` gathered into chunks of at least `chunkChars` characters (the
 * last one may be shorter), each a string of at most `chunkChars` plus one
 * piece.
 */
export function* jsonChunks(value: unknown, chunkChars: number, splitDepth = JSON_SPLIT_DEPTH): Generator<string> {
  if (!(chunkChars > 0)) throw new RangeError(`chunkChars must be a positive number, not ${chunkChars}`);
  const walker = new JsonWalker(value, splitDepth);
  const parts: string[] = [];
  let size = 0;
  for (let piece = walker.next(); piece !== null; piece = walker.next()) {
    parts.push(piece);
    size += piece.length;
    if (size >= chunkChars) {
      yield parts.join('');
      parts.length = 0;
      size = 0;
    }
  }
  if (size > 0) yield parts.join('');
}
