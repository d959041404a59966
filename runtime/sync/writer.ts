/**
 * Applies an ordered list of writes to one ensemble as pipelined multi
 * batches. Order matters (parents before children, children deleted before
 * parents): batches are sent in order on one session, which ZooKeeper applies
 * in order. A batch that fails (a concurrent change, a znode over the limit)
 * is replayed op by op after everything in flight settled, with idempotent
 * fallbacks, so one bad znode costs one error, not the batch.
 */
import { SyncError, errorCode, isCode, type SyncErrorCode } from './errors';
import { DEFAULT_BATCH_BYTES, DEFAULT_BATCH_OPS, toBatches } from './batches';
import type { ZkClient } from './zk/client';
import type { WriteOp } from './zk/types';

export interface WriteOptions {
  /** Multi batches in flight. @default 8 */
  inFlight?: number;
  maxBatchBytes?: number;
  maxBatchOps?: number;
  /** Called for each op that could not be applied even alone. */
  onError?: (op: WriteOp, err: SyncError) => void;
}

export interface WriteResult {
  applied: number;
  failed: { path: string; op: WriteOp['op']; code: SyncErrorCode; message: string }[];
  batches: number;
}

/** Applies one op alone, treating already-done states as success. */
async function applyAlone(client: ZkClient, op: WriteOp): Promise<void> {
  switch (op.op) {
    case 'create':
      try {
        await client.create(op.path, op.data, op.acl, op.mode);
      } catch (err) {
        // Created meanwhile (a live event, a retried batch): make it equal instead.
        if (!isCode(err, 'ZK_NODE_EXISTS')) throw err;
        await client.setData(op.path, op.data, -1);
        await client.setAcl(op.path, op.acl, -1);
      }
      return;
    case 'setData':
      await client.setData(op.path, op.data, op.version);
      return;
    case 'delete':
      try {
        await client.delete(op.path, op.version);
      } catch (err) {
        if (!isCode(err, 'ZK_NO_NODE')) throw err;
      }
      return;
    case 'check':
      return;
  }
}

export async function applyWrites(client: ZkClient, ops: readonly WriteOp[], options: WriteOptions = {}): Promise<WriteResult> {
  const batches = toBatches(ops, options.maxBatchBytes ?? DEFAULT_BATCH_BYTES, options.maxBatchOps ?? DEFAULT_BATCH_OPS);
  const result: WriteResult = { applied: 0, failed: [], batches: batches.length };
  const failedBatches: number[] = [];
  const limit = Math.max(1, options.inFlight ?? 8);
  let next = 0;
  let fatal: unknown;

  const worker = async (): Promise<void> => {
    while (next < batches.length && fatal === undefined) {
      const i = next++;
      const batch = batches[i]!;
      try {
        if (batch.length === 1) await applyAlone(client, batch[0]!);
        else await client.multi(batch);
        result.applied += batch.length;
      } catch (err) {
        // The connection or session is gone: nothing else can succeed now.
        if (isCode(err, 'ZK_CONNECTION_LOSS', 'ZK_SESSION_EXPIRED')) fatal = err;
        else failedBatches.push(i);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, batches.length) }, worker));
  if (fatal !== undefined) throw fatal;

  failedBatches.sort((a, b) => a - b);
  for (const i of failedBatches) {
    for (const op of batches[i]!) {
      try {
        await applyAlone(client, op);
        result.applied++;
      } catch (err) {
        if (isCode(err, 'ZK_CONNECTION_LOSS', 'ZK_SESSION_EXPIRED')) throw err;
        const e = err instanceof SyncError ? err : new SyncError('ZK_OTHER', String(err));
        result.failed.push({ path: op.path, op: op.op, code: errorCode(e), message: e.message });
        options.onError?.(op, e);
      }
    }
  }
  return result;
}
