/** Trees for the sync tests: many znodes with binary data, big data, ACLs, ephemerals and sequential nodes. */
import { createHash } from 'node:crypto';
import { applyWrites } from '../../runtime/sync/writer';
import type { ZkClient } from '../../runtime/sync/zk/client';
import { CreateMode, OPEN_ACL, Perm, type Acl, type WriteOp } from '../../runtime/sync/zk/types';

export const USER = 'alice:secret';
export const digestId = (userPass: string): string => `${userPass.split(':')[0]}:${createHash('sha1').update(userPass).digest('base64')}`;
export const SECURE_ACL: Acl[] = [
  { perms: Perm.ALL, scheme: 'digest', id: digestId(USER) },
  { perms: Perm.READ, scheme: 'world', id: 'anyone' },
];

/** Deterministic binary data (every byte value appears). */
export function binary(seed: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  let x = seed * 2654435761;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export interface FixtureInfo {
  nodes: number;
  sequential: string[];
}

/**
 * Builds under `root`: groups × perGroup persistent znodes with binary data,
 * a znode near 1 MiB, a digest-protected subtree, sequential znodes (with
 * gaps, so the parent's counter is ahead of the names) and, when `owner` is
 * given, ephemerals owned by that session.
 */
export async function buildTree(c: ZkClient, root: string, groups: number, perGroup: number, owner?: ZkClient): Promise<FixtureInfo> {
  const ops: WriteOp[] = [{ op: 'create', path: root, data: Buffer.from('root'), acl: OPEN_ACL, mode: 0 }];
  for (let g = 0; g < groups; g++) {
    ops.push({ op: 'create', path: `${root}/g${g}`, data: null, acl: OPEN_ACL, mode: 0 });
    for (let i = 0; i < perGroup; i++) ops.push({ op: 'create', path: `${root}/g${g}/n${i}`, data: binary(g * perGroup + i, (i % 50) + 1), acl: OPEN_ACL, mode: 0 });
  }
  ops.push({ op: 'create', path: `${root}/empty`, data: Buffer.alloc(0), acl: OPEN_ACL, mode: 0 });
  ops.push({ op: 'create', path: `${root}/secure`, data: Buffer.from('s'), acl: SECURE_ACL, mode: 0 });
  ops.push({ op: 'create', path: `${root}/secure/child`, data: Buffer.from('c'), acl: SECURE_ACL, mode: 0 });
  ops.push({ op: 'create', path: `${root}/locks`, data: null, acl: OPEN_ACL, mode: 0 });
  const r = await applyWrites(c, ops);
  if (r.failed.length > 0) throw new Error(`fixture: ${JSON.stringify(r.failed.slice(0, 3))}`);
  // Children under /secure need the digest identity: create them as alice.
  await c.create(`${root}/big`, binary(7, 1024 * 1024 - 1024), OPEN_ACL, 0);
  const sequential: string[] = [];
  for (let i = 0; i < 6; i++) sequential.push(await c.create(`${root}/locks/lock-`, Buffer.from(String(i)), OPEN_ACL, CreateMode.PERSISTENT_SEQUENTIAL));
  await c.delete(sequential.shift()!, -1);
  await c.delete(sequential.shift()!, -1);
  if (owner) {
    await owner.create(`${root}/live`, null, OPEN_ACL, 0);
    await owner.create(`${root}/live/e1`, Buffer.from('ephemeral'), OPEN_ACL, CreateMode.EPHEMERAL);
  }
  return { nodes: ops.length + 1 + sequential.length + (owner ? 2 : 0), sequential };
}
