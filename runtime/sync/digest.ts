/**
 * Per-znode and per-subtree checksums (a Merkle tree over the znode tree).
 * A subtree's checksum covers every znode below it, so two trees are compared
 * by reading each once and descending only where checksums differ.
 *
 * Checksums are SHA-1 digests held as 20-character binary (latin1) strings and
 * computed with one-shot `crypto.hash`: a `createHash` object and a Buffer per
 * digest (three per znode) cost more in allocation and garbage collection than
 * the hashing itself, and a verify of 100,000 znodes per side was CPU-bound on
 * them.
 */
import { hash } from 'node:crypto';
import type { Acl } from './zk/types';

/** Distinct ACL texts seen (a tree has few): one string kept per ACL, not one per znode. */
const interned = new Map<string, string>();
const INTERNED_MAX = 10_000;

/** ACL in a canonical, order-independent text form. */
export function aclKey(acl: readonly Acl[]): string {
  const key =
    acl.length === 1
      ? `${acl[0]!.scheme}:${acl[0]!.id}:${acl[0]!.perms}`
      : acl
          .map((a) => `${a.scheme}:${a.id}:${a.perms}`)
          .sort()
          .join(',');
  const known = interned.get(key);
  if (known !== undefined) return known;
  if (interned.size >= INTERNED_MAX) interned.clear();
  interned.set(key, key);
  return key;
}

/** Checksum of a znode's data; null data and empty data differ, as they do in ZooKeeper (null is not a 20-char digest). */
export function dataHash(data: Buffer | null): string {
  return data === null ? 'null' : hash('sha1', data, 'binary');
}

export interface NodeDigest {
  data: string;
  acl: string;
  ephemeral: boolean;
}

/** The znode's own part of its subtree checksum (data checksum, ACL, persistence), unambiguous as the ACL text has no NUL. */
export function nodeHash(d: NodeDigest): string {
  return `${d.data}\x00${d.acl}\x00${d.ephemeral ? 'E' : 'P'}`;
}

/** Subtree checksum: the node's own part and each child's name and subtree checksum, children sorted. */
export function subtreeHash(own: string, children: readonly (readonly [string, string])[]): string {
  let s = own;
  for (const [name, sub] of children) s += `\x00${name}\x00${sub}`;
  return hash('sha1', s, 'binary');
}
