/** Znode path helpers: the engine's paths are absolute, relative to a client's chroot. */

export function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function depthOf(path: string): number {
  if (path === '/') return 0;
  let d = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47) d++;
  return d;
}

/** True when `path` is `prefix` or below it. */
export function isUnder(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(prefix + '/');
}

/** ZooKeeper's own subtree (quotas, config): never replicated, never compared. */
export const SYSTEM_TREE = '/zookeeper';

/** Validates an absolute znode path given on the command line. */
export function isValidPath(path: string): boolean {
  return path === '/' || (/^\/[^\0]+$/.test(path) && !path.endsWith('/') && !path.includes('//') && !/(^|\/)\.\.?(\/|$)/.test(path));
}

/**
 * Which paths a sync covers: the listed prefixes minus the excluded ones,
 * and never ZooKeeper's system tree at the root of an ensemble without chroot.
 */
export class PathFilter {
  constructor(
    readonly prefixes: readonly string[],
    readonly excludes: readonly string[] = [],
    private readonly skipSystemTree = true,
  ) {}

  includes(path: string): boolean {
    if (this.skipSystemTree && isUnder(path, SYSTEM_TREE)) return false;
    if (this.excludes.some((e) => isUnder(path, e))) return false;
    return this.prefixes.some((p) => isUnder(path, p));
  }

  /** True when a path is an ancestor of a prefix: walked through, not synced itself. */
  isAncestorOfPrefix(path: string): boolean {
    return this.prefixes.some((p) => p !== path && isUnder(p, path));
  }
}
