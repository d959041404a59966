/**
 * `verify`: compares two trees (path, data, ACL, ephemeral or persistent)
 * through per-subtree checksums. Each tree is read once; differences are
 * located by descending only into subtrees whose checksums differ.
 */
import { aclKey, dataHash, nodeHash, subtreeHash, type NodeDigest } from './digest';
import { joinPath, type PathFilter } from './paths';
import { WALK_SESSIONS, walkTree } from './tree-walk';
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
  /** Batches in flight per tree (see tree-walk.ts). */
  concurrency?: number;
  /** Sessions per ensemble for the walk. @default WALK_SESSIONS */
  sessions?: number;
}

interface Entry extends NodeDigest {
  children: readonly string[];
  sub?: string;
  count?: number;
}

export type TreeDigest = Map<string, Entry>;

const NO_CHILDREN: readonly string[] = [];

/** Reads one tree into per-path digests (no data kept) and computes subtree checksums. */
export async function digestTree(client: ZkClient, roots: readonly string[], options: Pick<VerifyOptions, 'filter' | 'ephemerals' | 'concurrency' | 'sessions'>): Promise<TreeDigest> {
  const map: TreeDigest = new Map();
  const parents: string[] = [];
  for (const root of roots) {
    await walkTree(client, root, {
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      sessions: options.sessions ?? WALK_SESSIONS,
      skip: (p) => !options.filter.includes(p) && !options.filter.isAncestorOfPrefix(p),
      onNode: (n) => {
        const ephemeral = n.stat.ephemeralOwner !== 0n;
        if (ephemeral && options.ephemerals === 'skip') return;
        const e: Entry = { data: dataHash(n.data), acl: aclKey(n.acl), ephemeral, children: NO_CHILDREN };
        if (n.children.length === 0) {
          // A leaf's subtree checksum is known at once: most znodes never need the second pass.
          e.sub = subtreeHash(nodeHash(e), []);
          e.count = 1;
        } else {
          e.children = n.children;
          parents.push(n.path);
        }
        map.set(n.path, e);
        parents.push(n.path);
      },
    });
  }
  // Parents are visited before their children, so the reverse order has every
  // child's subtree checksum ready before its parent's.
  for (let i = parents.length - 1; i >= 0; i--) {
    const path = parents[i]!;
    const e = map.get(path)!;
    const kids: [string, string][] = [];
    let count = 1;
    for (const name of e.children) {
      const c = map.get(joinPath(path, name));
      if (c?.sub !== undefined) {
        kids.push([name, c.sub]);
        count += c.count ?? 1;
      }
    }
    e.sub = subtreeHash(nodeHash(e), kids);
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
    if (s.sub === t.sub) return;
    compared++;
    if (s.data !== t.data) add({ path, kind: 'data' });
    if (s.acl !== t.acl) add({ path, kind: 'acl' });
    if (s.ephemeral !== t.ephemeral) add({ path, kind: 'ephemeral' });
    const names = new Set([...s.children, ...t.children]);
    for (const name of [...names].sort()) visit(joinPath(path, name));
  };
  for (const root of roots) visit(root);
  return { equal: count === 0, differenceCount: count, differences, truncated: count > differences.length, subtreesDescended: compared };
}

function rootDigest(tree: TreeDigest, roots: readonly string[]): { nodes: number; digest: string } {
  let nodes = 0;
  const parts: [string, string][] = [];
  for (const r of roots) {
    const e = tree.get(r);
    if (e) {
      nodes += e.count ?? 1;
      parts.push([r, e.sub!]);
    }
  }
  return { nodes, digest: Buffer.from(subtreeHash('', parts), 'latin1').toString('hex') };
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
