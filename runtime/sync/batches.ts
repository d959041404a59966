/**
 * Splits writes into multi batches that stay below the server's packet limit
 * (jute.maxbuffer), so a batch can never make the server drop the connection
 * and fail everything else in flight.
 */
import type { WriteOp } from './zk/types';

/** Default cap on one multi request: half of jute.maxbuffer leaves room for any header growth. */
export const DEFAULT_BATCH_BYTES = 512 * 1024;
export const DEFAULT_BATCH_OPS = 200;

const strBytes = (s: string): number => 4 + Buffer.byteLength(s);

/** Serialized size of one op inside a multi request (its MultiHeader included). */
export function opBytes(op: WriteOp): number {
  const header = 4 + 1 + 4; // type, done, err
  const path = strBytes(op.path);
  switch (op.op) {
    case 'create': {
      const acl = 4 + op.acl.reduce((n, a) => n + 4 + strBytes(a.scheme) + strBytes(a.id), 0);
      return header + path + 4 + (op.data?.length ?? 0) + acl + 4;
    }
    case 'setData':
      return header + path + 4 + (op.data?.length ?? 0) + 4;
    case 'delete':
    case 'check':
      return header + path + 4;
  }
}

/** Request header (xid, type) plus the closing MultiHeader. */
const MULTI_OVERHEAD = 8 + 9;

/**
 * Groups `ops` in order into batches of at most `maxBytes` and `maxOps`. An op
 * that alone exceeds `maxBytes` gets a batch of its own (the client's guard
 * refuses it if it is over the server's limit).
 */
export function toBatches(ops: readonly WriteOp[], maxBytes = DEFAULT_BATCH_BYTES, maxOps = DEFAULT_BATCH_OPS): WriteOp[][] {
  const batches: WriteOp[][] = [];
  let current: WriteOp[] = [];
  let bytes = MULTI_OVERHEAD;
  for (const op of ops) {
    const size = opBytes(op);
    if (current.length > 0 && (bytes + size > maxBytes || current.length >= maxOps)) {
      batches.push(current);
      current = [];
      bytes = MULTI_OVERHEAD;
    }
    current.push(op);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
