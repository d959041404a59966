/**
 * `verify`: compares two trees (path, data, ACL, ephemeral or persistent)
 * through per-subtree checksums. Each tree is read once; differences are
 * located by descending only into subtrees whose checksums differ.
 */
import { aclKey, dataHash, nodeHash, subtreeHash, type NodeDigest } from './digest';
import { joinPath, type PathFilter } from './paths';
import { walkTree } from './tree-walk';
import type { ZkClient } from './zk/client';

export type DifferenceKind = 'missing-on-target' | 'extra-on-target' | 'data' | 'acl' | 'ephemeral';

export interface Difference {
  path: string;
  kind: DifferenceKind;
  /** For a missing or extra subtree: how many znodes it holds. */
  nodes?: number;
}

export interface VerifySummary {
  equal: boolean;
  source: { nodes: number; digest: string };
  target: { nodes: number; digest: string };
  /** Total differences found (the list below may be truncated). */
  differenceCount: number;
  differences: Difference[];
  truncated: boolean;
  /** Subtrees descended into because their checksums differ: few when the trees are nearly equal. */
  subtreesDescended: number;
  durationMs: number;
}

export interface VerifyOptions {
  filter: PathFilter;
  /** `skip`: ephemerals are left out on both sides (they are not replicated). */
  ephemerals: 'skip' | 'mirror';
  /** Most differences listed in the summary. @default 100 */
  maxListed?: number;
  concurrency?: number;
}

interface Entry {
  own: NodeDigest;
  children: string[];
  sub?: Buffer;
  count?: number;
}

export type TreeDigest = Map<string, Entry>;

/** Reads one tree into per-path digests (no data kept) and computes subtree checksums. */
export async function digestTree(client: ZkClient, roots: readonly string[], options: Pick<VerifyOptions, 'filter' | 'ephemerals' | 'concurrency'>): Promise<TreeDigest> {
  const map: TreeDigest = new Map();
  const order: string[] = [];
  for (const root of roots) {
    await walkTree(client, root, {
      concurrency: options.concurrency ?? 200,
      skip: (p) => !options.filter.includes(p) && !options.filter.isAncestorOfPrefix(p),
      onNode: (n) => {
        const ephemeral = n.stat.ephemeralOwner !== 0n;
        if (ephemeral && options.ephemerals === 'skip') return;
        map.set(n.path, { own: { data: dataHash(n.data), acl: aclKey(n.acl), ephemeral }, children: n.children });
        order.push(n.path);
      },
    });
  }
  // Parents are visited before their children, so the reverse order has every
  // child's subtree checksum ready before its parent's.
  for (let i = order.length - 1; i >= 0; i--) {
    const path = order[i]!;
    const e = map.get(path)!;
    const kids: [string, Buffer][] = [];
    let count = 1;
    for (const name of e.children) {
      const c = map.get(joinPath(path, name));
      if (c?.sub !== undefined) {
        kids.push([name, c.sub]);
        count += c.count ?? 1;
      }
    }
    e.sub = subtreeHash(nodeHash(e.own), kids);
    e.count = count;
  }
  return map;
}

/** Compares two digested trees from `roots` down. */
export function compareDigests(source: TreeDigest, target: TreeDigest, roots: readonly string[], maxListed = 100): Pick<VerifySummary, 'equal' | 'differenceCount' | 'differences' | 'truncated' | 'subtreesDescended'> {
  const differences: Difference[] = [];
  let count = 0;
  let compared = 0;
  const add = (d: Difference): void => {
    count++;
    if (differences.length < maxListed) differences.push(d);
  };
  const visit = (path: string): void => {
    const s = source.get(path);
    const t = target.get(path);
    if (s === undefined && t === undefined) return;
    if (s === undefined) return add({ path, kind: 'extra-on-target', nodes: t!.count ?? 1 });
    if (t === undefined) return add({ path, kind: 'missing-on-target', nodes: s.count ?? 1 });
    if (s.sub!.equals(t.sub!)) return;
    compared++;
    if (!s.own.data.equals(t.own.data)) add({ path, kind: 'data' });
    if (s.own.acl !== t.own.acl) add({ path, kind: 'acl' });
    if (s.own.ephemeral !== t.own.ephemeral) add({ path, kind: 'ephemeral' });
    const names = new Set([...s.children, ...t.children]);
    for (const name of [...names].sort()) visit(joinPath(path, name));
  };
  for (const root of roots) visit(root);
  return { equal: count === 0, differenceCount: count, differences, truncated: count > differences.length, subtreesDescended: compared };
}

function rootDigest(tree: TreeDigest, roots: readonly string[]): { nodes: number; digest: string } {
  let nodes = 0;
  const parts: [string, Buffer][] = [];
  for (const r of roots) {
    const e = tree.get(r);
    if (e) {
      nodes += e.count ?? 1;
      parts.push([r, e.sub!]);
    }
  }
  return { nodes, digest: subtreeHash(Buffer.alloc(0), parts).toString('hex') };
}

/** Reads both trees at the same time and compares them. */
export async function verifyTrees(source: ZkClient, target: ZkClient, options: VerifyOptions): Promise<VerifySummary> {
  const start = performance.now();
  const roots = topRoots(options.filter.prefixes);
  const [s, t] = await Promise.all([digestTree(source, roots, options), digestTree(target, roots, options)]);
  const cmp = compareDigests(s, t, roots, options.maxListed ?? 100);
  return { ...cmp, source: rootDigest(s, roots), target: rootDigest(t, roots), durationMs: Math.round(performance.now() - start) };
}

/** Prefixes without those nested in another (walking the outer one covers them). */
export function topRoots(prefixes: readonly string[]): string[] {
  const sorted = [...new Set(prefixes)].sort((a, b) => a.length - b.length);
  return sorted.filter((p, i) => !sorted.slice(0, i).some((q) => q === '/' || p.startsWith(q + '/')));
}
