/**
 * Per-znode and per-subtree checksums (a Merkle tree over the znode tree).
 * A subtree's checksum covers every znode below it, so two trees are compared
 * by reading each once and descending only where checksums differ.
 */
import { createHash } from 'node:crypto';
import type { Acl } from './zk/types';

/** ACL in a canonical, order-independent text form. */
export function aclKey(acl: readonly Acl[]): string {
  return acl
    .map((a) => `${a.scheme}:${a.id}:${a.perms}`)
    .sort()
    .join(',');
}

/** Checksum of a znode's data; null data and empty data differ, as they do in ZooKeeper. */
export function dataHash(data: Buffer | null): Buffer {
  const h = createHash('sha1');
  if (data === null) h.update('\x00null');
  else h.update('\x01').update(data);
  return h.digest();
}

export interface NodeDigest {
  data: Buffer;
  acl: string;
  ephemeral: boolean;
}

export function nodeHash(d: NodeDigest): Buffer {
  return createHash('sha1').update(d.data).update(d.acl).update(d.ephemeral ? 'E' : 'P').digest();
}

/** Subtree checksum: the node's own checksum and each child's name and subtree checksum, children sorted. */
export function subtreeHash(own: Buffer, children: readonly [string, Buffer][]): Buffer {
  const h = createHash('sha1').update(own);
  for (const [name, sub] of children) h.update(name).update('\x00').update(sub);
  return h.digest();
}
