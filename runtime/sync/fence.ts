/**
 * The cutover's built-in write fence: no operator script needed to stop
 * writes to the source. Every synced znode's ACL on the source becomes
 * read-only for everyone (each entry that could read keeps READ, nothing
 * more) and ALL for the engine's own digest identity, which keeps ADMIN so
 * that the fence can be undone.
 *
 * Every znode, not only the top-level prefixes: ZooKeeper's ACLs do not
 * inherit, so a read-only ACL on /marathon stops creates and deletes of its
 * direct children only; a setData deeper down, or a create under a deeper
 * znode, would still succeed.
 *
 * Writers may still run while the fence goes up, so it goes up in rounds:
 * walk, record the original ACLs (saved before any is changed, so a crash
 * never loses one), set the fence ACLs, walk again; a round that finds no
 * znode left unfenced ends it (a fenced znode accepts no new children, so the
 * rounds converge). A setACL conditional on the ACL version read makes an ACL
 * changed meanwhile be read again by the next round instead of recording a
 * stale original.
 *
 * Undoing (`liftFence`) puts each recorded ACL back where the znode still
 * holds the fence ACL; a znode whose ACL was changed since (by whoever holds
 * ADMIN) is left as it is and listed.
 */
import { createHash } from 'node:crypto';
import { aclKey } from './digest';
import { SyncError, errorCode, isCode } from './errors';
import { walkTree } from './tree-walk';
import type { ZkAuth, ZkClient } from './zk/client';
import { Perm, type Acl } from './zk/types';

export interface FenceRecord {
  /** The digest id that keeps write access (`user:base64(sha1(user:password))`). */
  identity: string;
  /** Original ACL of every fenced znode, by path. */
  acls: Record<string, Acl[]>;
  /** True once a round found nothing left to fence. */
  complete: boolean;
  rounds: number;
}

/** setACL requests in flight while fencing. */
const FENCE_IN_FLIGHT = 64;
/** Rounds before giving up on a source that keeps growing. */
const MAX_ROUNDS = 10;

/** The digest id ZooKeeper stores for `user:password`. */
export function digestIdentity(auth: readonly ZkAuth[] | undefined): string {
  const d = auth?.find((a) => a.scheme === 'digest');
  if (d === undefined || !d.auth.includes(':')) {
    throw new SyncError('SYNC_USAGE', 'the built-in fence needs the engine to authenticate to the source with a digest identity (--source-auth digest:user:password): that identity keeps write access, everyone else gets read-only');
  }
  const user = d.auth.slice(0, d.auth.indexOf(':'));
  return `${user}:${createHash('sha1').update(d.auth).digest('base64')}`;
}

/** The fence ACL for a znode whose ACL is `original`. */
export function fenceAcl(original: readonly Acl[], identity: string): Acl[] {
  const out: Acl[] = [];
  for (const a of original) {
    if (a.scheme === 'digest' && a.id === identity) continue;
    if ((a.perms & Perm.READ) !== 0) out.push({ perms: Perm.READ, scheme: a.scheme, id: a.id });
  }
  out.push({ perms: Perm.ALL, scheme: 'digest', id: identity });
  return out;
}

/**
 * What the copy should see for a source ACL while fenced: the recorded
 * original where the znode holds our fence ACL, else the ACL as it is.
 */
export function unfencedView(record: FenceRecord | undefined): (path: string, acl: Acl[]) => Acl[] {
  return (path, acl) => {
    const original = record?.acls[path];
    if (original === undefined) return acl;
    return aclKey(acl) === aclKey(fenceAcl(original, record!.identity)) ? original : acl;
  };
}

export interface FenceOptions {
  roots: readonly string[];
  includes: (path: string) => boolean;
  /** Persists the record (the cutover's state file); called before any ACL is changed. */
  save: (record: FenceRecord) => void;
}

/** Puts the fence up on `client`'s ensemble, recording into `record` (resumes a partial one). */
export async function raiseFence(client: ZkClient, record: FenceRecord, o: FenceOptions): Promise<FenceRecord> {
  const fence = (p: string): Acl[] => fenceAcl(record.acls[p]!, record.identity);
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const todo: { path: string; aversion: number }[] = [];
    for (const root of o.roots) {
      await walkTree(client, root, {
        sessions: 4,
        skip: (p) => !o.includes(p),
        onNode: (n) => {
          const original = record.acls[n.path];
          // Already ours (an earlier round, or a resumed fence): nothing to do.
          if (original !== undefined && aclKey(n.acl) === aclKey(fence(n.path))) return;
          record.acls[n.path] = n.acl;
          todo.push({ path: n.path, aversion: n.stat.aversion });
        },
      });
    }
    record.rounds = round;
    if (todo.length === 0) {
      record.complete = true;
      o.save(record);
      return record;
    }
    o.save(record); // originals on disk before the first change
    const refused: { path: string; err: unknown }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(FENCE_IN_FLIGHT, todo.length) }, async () => {
        while (next < todo.length) {
          const t = todo[next++]!;
          try {
            await client.setAcl(t.path, fence(t.path), t.aversion);
          } catch (err) {
            // Gone, or its ACL changed since the walk: forget it; the next round sees what is there now.
            if (isCode(err, 'ZK_NO_NODE', 'ZK_BAD_VERSION')) delete record.acls[t.path];
            else refused.push({ path: t.path, err });
          }
        }
      }),
    );
    if (refused.length > 0) {
      for (const r of refused) delete record.acls[r.path];
      o.save(record);
      const first = refused[0]!;
      throw new SyncError(errorCode(first.err), `fence: ${refused.length} znodes refused the fence ACL (first: ${first.path}: ${(first.err as Error).message}); the engine's identity needs ADMIN on every synced znode`, {
        path: first.path,
        refused: refused.length,
      });
    }
  }
  o.save(record);
  throw new SyncError('ZK_TIMEOUT', `fence: new znodes kept appearing after ${MAX_ROUNDS} rounds; is something creating znodes as the engine's identity?`);
}

export interface LiftResult {
  restored: number;
  /** Gone since the fence. */
  vanished: number;
  /** ACL changed since the fence (not ours any more): left as it is. */
  changed: string[];
}

/** Takes the fence down: every recorded ACL back where the znode still holds the fence ACL. */
export async function liftFence(client: ZkClient, record: FenceRecord): Promise<LiftResult> {
  const result: LiftResult = { restored: 0, vanished: 0, changed: [] };
  const paths = Object.keys(record.acls);
  let next = 0;
  const failures: { path: string; err: unknown }[] = [];
  await Promise.all(
    Array.from({ length: Math.min(FENCE_IN_FLIGHT, paths.length) }, async () => {
      while (next < paths.length) {
        const path = paths[next++]!;
        const original = record.acls[path]!;
        try {
          const now = await client.getAcl(path);
          if (aclKey(now.acl) !== aclKey(fenceAcl(original, record.identity))) {
            result.changed.push(path);
            continue;
          }
          await client.setAcl(path, original, now.stat.aversion);
          result.restored++;
        } catch (err) {
          if (isCode(err, 'ZK_NO_NODE')) result.vanished++;
          else if (isCode(err, 'ZK_BAD_VERSION')) result.changed.push(path);
          else failures.push({ path, err });
        }
      }
    }),
  );
  if (failures.length > 0) {
    const f = failures[0]!;
    throw new SyncError(errorCode(f.err), `unfence: ${failures.length} znodes could not be restored (first: ${f.path}: ${(f.err as Error).message}); nothing is lost: run it again`, { path: f.path });
  }
  return result;
}
