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

/**
 * The JSON text of `value` as a sequence of strings whose concatenation is
 * `JSON.stringify(value)`. Objects and arrays shallower than `splitDepth` are
 * walked; everything at `splitDepth` is one `JSON.stringify` call. A value
 * JSON.stringify would write nothing for (`undefined` at the top) yields
 * nothing.
 */
export function* jsonPieces(value: unknown, splitDepth = JSON_SPLIT_DEPTH): Generator<string> {
  if (splitDepth <= 0 || !walkable(value)) {
    const text = JSON.stringify(value);
    if (text !== undefined) yield text;
    return;
  }
  if (Array.isArray(value)) {
    yield '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) yield ',';
      const v: unknown = value[i];
      if (skipped(v)) yield 'null';
      else yield* jsonPieces(v, splitDepth - 1);
    }
    yield ']';
    return;
  }
  yield '{';
  let first = true;
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (skipped(v)) continue;
    yield `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    yield* jsonPieces(v, splitDepth - 1);
  }
  yield '}';
}

/**
 * `jsonPieces` gathered into chunks of at least `chunkChars` characters (the
 * last one may be shorter), each a string of at most `chunkChars` plus one
 * piece.
 */
export function* jsonChunks(value: unknown, chunkChars: number, splitDepth = JSON_SPLIT_DEPTH): Generator<string> {
  if (!(chunkChars > 0)) throw new RangeError(`chunkChars must be a positive number, not ${chunkChars}`);
  let parts: string[] = [];
  let size = 0;
  for (const piece of jsonPieces(value, splitDepth)) {
    parts.push(piece);
    size += piece.length;
    if (size >= chunkChars) {
      yield parts.join('');
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield parts.join('');
}
