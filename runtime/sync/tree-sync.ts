/**
 * One-way full sync of a tree: the snapshot (target empty) and the full
 * re-diff after a reconnect or session expiry (target nearly equal) are the
 * same operation. Reads both trees once (parallel walks), computes the writes
 * and applies them in pipelined multi batches:
 *   deletes (deepest first) → creates and updates (parents first)
 *   → ACLs deferred until after children → sequence counters.
 */
import { aclKey } from './digest';
import type { SyncError } from './errors';
import { isCode } from './errors';
import { depthOf, parentOf, type PathFilter } from './paths';
import { SEQUENCE_MARKER, advanceSequenceCounters, looksSequential } from './sequence';
import { WALK_SESSIONS, readTree, type NodeRecord } from './tree-walk';
import { topRoots } from './verify';
import { applyWrites, type WriteResult } from './writer';
import type { ZkClient } from './zk/client';
import { CreateMode, OPEN_ACL, Perm, type Acl, type WriteOp } from './zk/types';

export interface TreeSyncOptions {
  filter: PathFilter;
  ephemerals: 'skip' | 'mirror';
  /** True when the engine authenticates to the target (temporary ACLs then name only the engine). */
  targetHasAuth?: boolean;
  /** Batches in flight per tree (see tree-walk.ts). */
  concurrency?: number;
  /** Sessions per ensemble for the walks. @default WALK_SESSIONS */
  sessions?: number;
  onError?: (path: string, err: SyncError) => void;
}

export interface TreeSyncResult {
  sourceNodes: number;
  targetNodes: number;
  created: number;
  updated: number;
  deleted: number;
  aclsSet: number;
  sequenceParentsAdvanced: number;
  failed: WriteResult['failed'];
  readMs: number;
  writeMs: number;
}

/** Can the engine create children under a znode with this ACL without being named in it? */
function allowsAnyoneToCreate(acl: readonly Acl[]): boolean {
  return acl.some((a) => a.scheme === 'world' && a.id === 'anyone' && (a.perms & Perm.CREATE) !== 0);
}

/** What a source znode should look like on the target, or undefined when it is not replicated. */
function wanted(n: NodeRecord | undefined, ephemerals: 'skip' | 'mirror'): NodeRecord | undefined {
  if (n === undefined) return undefined;
  if (n.stat.ephemeralOwner !== 0n && ephemerals === 'skip') return undefined;
  return n;
}

export async function syncTree(source: ZkClient, target: ZkClient, options: TreeSyncOptions): Promise<TreeSyncResult> {
  const t0 = performance.now();
  const roots = topRoots(options.filter.prefixes);
  const skip = (p: string): boolean => (!options.filter.includes(p) && !options.filter.isAncestorOfPrefix(p)) || p.endsWith('/' + SEQUENCE_MARKER);
  const src = new Map<string, NodeRecord>();
  const dst = new Map<string, NodeRecord>();
  for (const root of roots) {
    const walk = { skip, sessions: options.sessions ?? WALK_SESSIONS, ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}) };
    const [s, d] = await Promise.all([readTree(source, root, walk), readTree(target, root, walk)]);
    for (const [k, v] of s) src.set(k, v);
    for (const [k, v] of d) dst.set(k, v);
  }
  const t1 = performance.now();
  const tempAcl: Acl[] = options.targetHasAuth ? [{ perms: Perm.ALL, scheme: 'auth', id: '' }] : [...OPEN_ACL];

  const deletes: WriteOp[] = [];
  const upserts: WriteOp[] = [];
  const deferredAcls: { path: string; acl: Acl[] }[] = [];
  const sequenceParents = new Map<string, number>();
  let created = 0;
  let updated = 0;

  for (const [path, d] of dst) {
    if (!options.filter.includes(path)) continue;
    const s = wanted(src.get(path), options.ephemerals);
    const ephemeralMismatch = s !== undefined && s.stat.ephemeralOwner !== 0n !== (d.stat.ephemeralOwner !== 0n);
    if (s === undefined || ephemeralMismatch) deletes.push({ op: 'delete', path, version: -1 });
  }
  deletes.sort((a, b) => depthOf(b.path) - depthOf(a.path));

  const deleted = new Set(deletes.map((o) => o.path));
  const ordered = [...src.values()].sort((a, b) => depthOf(a.path) - depthOf(b.path));
  for (const s of ordered) {
    const path = s.path;
    const w = wanted(s, options.ephemerals);
    if (w === undefined) continue;
    if (s.children.some(looksSequential)) sequenceParents.set(path, s.stat.cversion);
    const d = deleted.has(path) ? undefined : dst.get(path);
    if (d === undefined) {
      const ephemeral = s.stat.ephemeralOwner !== 0n;
      const needsTemp = s.children.length > 0 && !allowsAnyoneToCreate(s.acl);
      upserts.push({ op: 'create', path, data: s.data, acl: needsTemp ? tempAcl : s.acl, mode: ephemeral ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT });
      if (needsTemp) deferredAcls.push({ path, acl: s.acl });
      created++;
      continue;
    }
    const sameData = s.data === null ? d.data === null : d.data !== null && s.data.equals(d.data);
    if (!sameData) {
      upserts.push({ op: 'setData', path, data: s.data, version: -1 });
      updated++;
    }
    if (aclKey(s.acl) !== aclKey(d.acl)) deferredAcls.push({ path, acl: s.acl });
  }

  for (const root of roots) await ensureAncestors(source, target, root);
  const failed: WriteResult['failed'] = [];
  const onError = (op: WriteOp, err: SyncError): void => options.onError?.(op.path, err);
  const rd = await applyWrites(target, deletes, { onError });
  const ru = await applyWrites(target, upserts, { onError });
  failed.push(...rd.failed, ...ru.failed);

  // ACLs after children: deepest first, so a parent's restrictive ACL is set last.
  deferredAcls.sort((a, b) => depthOf(b.path) - depthOf(a.path));
  let aclsSet = 0;
  const aclQueue = [...deferredAcls];
  await Promise.all(
    Array.from({ length: Math.min(64, aclQueue.length) }, async () => {
      for (let item = aclQueue.shift(); item !== undefined; item = aclQueue.shift()) {
        try {
          await target.setAcl(item.path, item.acl, -1);
          aclsSet++;
        } catch (err) {
          const e = err as SyncError;
          failed.push({ path: item.path, op: 'setData', code: e.code ?? 'ZK_OTHER', message: `setACL: ${e.message}` });
          options.onError?.(item.path, e);
        }
      }
    }),
  );
  const sequenceParentsAdvanced = await advanceSequenceCounters(target, sequenceParents);
  return {
    sourceNodes: src.size,
    targetNodes: dst.size,
    created,
    updated,
    deleted: deletes.length,
    aclsSet,
    sequenceParentsAdvanced,
    failed,
    readMs: Math.round(t1 - t0),
    writeMs: Math.round(performance.now() - t1),
  };
}

/**
 * A prefix such as /a/b needs /a on the target. Ancestors are copied from the
 * source (data and ACL) when missing, never overwritten: they are outside the
 * synced scope.
 */
export async function ensureAncestors(source: ZkClient, target: ZkClient, path: string): Promise<void> {
  const chain: string[] = [];
  for (let p = parentOf(path); p !== '/'; p = parentOf(p)) chain.unshift(p);
  for (const p of chain) {
    if ((await target.exists(p)) !== null) continue;
    let data: Buffer | null = null;
    let acl: Acl[] = [...OPEN_ACL];
    try {
      data = (await source.getData(p)).data;
      acl = (await source.getAcl(p)).acl;
    } catch (err) {
      if (!isCode(err, 'ZK_NO_NODE')) throw err;
    }
    await target.create(p, data, acl, CreateMode.PERSISTENT).catch((err: unknown) => {
      if (!isCode(err, 'ZK_NODE_EXISTS')) throw err;
    });
  }
}
