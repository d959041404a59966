/**
 * Sequential znodes keep their names when copied (created with the exact
 * name), but ZooKeeper derives the next sequential name from the parent's
 * children version (cversion). A copied parent starts low, so a later
 * sequential create on the target could collide with a copied name. We
 * advance the target parent's cversion to at least the source's by creating
 * and deleting a marker child (+2 per pair), in multi batches.
 */
import { isCode } from './errors';
import { joinPath } from './paths';
import type { ZkClient } from './zk/client';
import { OPEN_ACL, type WriteOp } from './zk/types';

/** Name of the marker child; watch handlers ignore it. */
export const SEQUENCE_MARKER = '.zk-sync-seq-bump';

/** Ten trailing digits: how ZooKeeper names sequential znodes. */
export function looksSequential(name: string): boolean {
  return /\d{10}$/.test(name);
}

/**
 * Raises the target's cversion of each parent to at least the given value.
 * Returns the number of parents advanced.
 */
export async function advanceSequenceCounters(target: ZkClient, wanted: ReadonlyMap<string, number>): Promise<number> {
  let advanced = 0;
  for (const [parent, cversion] of wanted) {
    let stat = await target.exists(parent);
    if (stat === null) continue;
    if (stat.cversion >= cversion) continue;
    const marker = joinPath(parent, SEQUENCE_MARKER);
    while (stat !== null && stat.cversion < cversion) {
      const pairs = Math.min(100, Math.ceil((cversion - stat.cversion) / 2));
      const ops: WriteOp[] = [];
      for (let i = 0; i < pairs; i++) {
        ops.push({ op: 'create', path: marker, data: null, acl: OPEN_ACL, mode: 0 });
        ops.push({ op: 'delete', path: marker, version: -1 });
      }
      try {
        await target.multi(ops);
      } catch (err) {
        if (!isCode(err, 'ZK_NODE_EXISTS')) throw err; // a marker left by a crash: remove it and go on
        await target.delete(marker, -1).catch(() => undefined);
      }
      stat = await target.exists(parent);
    }
    advanced++;
  }
  return advanced;
}
