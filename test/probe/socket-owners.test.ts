/**
 * SocketOwners' caching on a fake proc tree: which fds it reads, in which
 * order, and when it does not read any.
 */
import t from 'tap';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SocketOwners } from '../../runtime/probe/procfs/socket-owners';

const NETNS = 4026531999;

function tree(root: string): { proc(pid: number, fds: Record<number, string>): void; gone(pid: number): void } {
  return {
    proc(pid, fds) {
      const dir = join(root, String(pid), 'fd');
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const [fd, target] of Object.entries(fds)) symlinkSync(target, join(dir, fd));
    },
    gone(pid) {
      rmSync(join(root, String(pid)), { recursive: true, force: true });
    },
  };
}

const noErrors = (t: { fail(msg: string): void }) => (err: unknown, path: string) => t.fail(`unexpected error at ${path}: ${String(err)}`);

t.test('an unseen socket of a new process is placed in the same pass, reading only the new process', async (t) => {
  const root = t.testdir();
  const fs = tree(root);
  // many processes, one big socket owner
  const pids = Array.from({ length: 50 }, (_, i) => 100 + i);
  for (const pid of pids) fs.proc(pid, { 0: '/dev/null', 1: 'pipe:[1]' });
  fs.proc(100, { 0: '/dev/null', 3: 'socket:[500]', 4: 'socket:[501]' });
  const owners = new SocketOwners(root);
  const alive = (pid: number): boolean => pids.includes(pid);

  owners.beginPass();
  let m = owners.owners(NETNS, [500, 501], pids, alive, noErrors(t));
  owners.endPass();
  t.equal(m.get(500), 100);
  t.equal(owners.counters.full, 1, 'first pass: one full scan');
  const dirsAfterFirst = owners.counters.dirs;

  // a new process 200 with a new socket
  pids.push(200);
  fs.proc(200, { 3: 'socket:[600]' });
  owners.beginPass();
  m = owners.owners(NETNS, [500, 501, 600], pids, alive, noErrors(t));
  owners.endPass();
  t.equal(m.get(600), 200, 'placed in the pass it appeared');
  t.equal(owners.counters.full, 1, 'no full scan');
  t.equal(owners.counters.targeted, 1);
  t.equal(owners.counters.dirs - dirsAfterFirst, 1, 'only the new process read');
});

t.test('a new socket of a known owner: targeted scan of the owners, not of everyone', async (t) => {
  const root = t.testdir();
  const fs = tree(root);
  const pids = Array.from({ length: 40 }, (_, i) => 100 + i);
  for (const pid of pids) fs.proc(pid, { 0: '/dev/null' });
  fs.proc(120, { 3: 'socket:[700]' });
  const owners = new SocketOwners(root);
  const alive = (pid: number): boolean => pids.includes(pid);
  owners.beginPass();
  owners.owners(NETNS, [700], pids, alive, noErrors(t));
  owners.endPass();
  owners.beginPass(); // a pass with no change: no reads at all
  const d0 = owners.counters.dirs;
  owners.owners(NETNS, [700], pids, alive, noErrors(t));
  owners.endPass();
  t.equal(owners.counters.dirs, d0, 'nothing unseen: no fd read');

  fs.proc(120, { 3: 'socket:[700]', 4: 'socket:[701]' });
  owners.beginPass();
  const m = owners.owners(NETNS, [700, 701], pids, alive, noErrors(t));
  owners.endPass();
  t.equal(m.get(701), 120);
  t.equal(owners.counters.dirs - d0, 1, 'only the known owner read');
  t.equal(owners.counters.full, 1, 'still the one full scan of the first pass');
});

t.test('an inode no one owns forces one full scan, not one per pass; a later new process can still claim it', async (t) => {
  const root = t.testdir();
  const fs = tree(root);
  const pids = [100, 101, 102];
  for (const pid of pids) fs.proc(pid, { 0: '/dev/null' });
  const owners = new SocketOwners(root);
  const alive = (pid: number): boolean => pids.includes(pid);
  for (let pass = 0; pass < 4; pass++) {
    owners.beginPass();
    const m = owners.owners(NETNS, [900, 0], pids, alive, noErrors(t));
    owners.endPass();
    t.equal(m.get(900), undefined);
  }
  t.equal(owners.counters.full, 1, 'one full scan in four passes');
  t.equal(owners.counters.dirs, 3, 'each process read once');

  pids.push(150);
  fs.proc(150, { 5: 'socket:[900]' });
  owners.beginPass();
  const m = owners.owners(NETNS, [900], pids, alive, noErrors(t));
  owners.endPass();
  t.equal(m.get(900), 150, 'the new process is searched for the unplaced inode');
  t.equal(owners.counters.full, 1, 'without a full scan');
  t.equal(owners.counters.dirs, 4, 'reading only the new process');
});

t.test('a socket whose owner exited is placed again (inherited by a child)', async (t) => {
  const root = t.testdir();
  const fs = tree(root);
  const pids = [100, 101];
  fs.proc(100, { 3: 'socket:[800]' });
  fs.proc(101, { 3: 'socket:[800]' });
  const owners = new SocketOwners(root);
  let alive = (pid: number): boolean => pids.includes(pid);
  owners.beginPass();
  t.equal(owners.owners(NETNS, [800], pids, alive, noErrors(t)).get(800), 100, 'the lowest pid of a shared socket');
  owners.endPass();
  fs.gone(100);
  const now = [101];
  alive = (pid: number): boolean => now.includes(pid);
  owners.beginPass();
  t.equal(owners.owners(NETNS, [800], now, alive, noErrors(t)).get(800), 101, 'the survivor owns it now');
  owners.endPass();
});

t.test('the map forgets closed sockets', async (t) => {
  const root = t.testdir();
  const fs = tree(root);
  const many: Record<number, string> = {};
  for (let i = 0; i < 600; i++) many[i + 3] = `socket:[${10_000 + i}]`;
  fs.proc(100, many);
  const owners = new SocketOwners(root);
  const alive = (pid: number): boolean => pid === 100;
  owners.beginPass();
  const all = Array.from({ length: 600 }, (_, i) => 10_000 + i);
  owners.owners(NETNS, all, [100], alive, noErrors(t));
  owners.endPass();
  owners.beginPass();
  const m = owners.owners(NETNS, [10_000], [100], alive, noErrors(t));
  owners.endPass();
  t.ok(m.size <= 2 + 256, `pruned to the table's size (${m.size})`);
  t.equal(m.get(10_000), 100);
});

t.test("a known owner's new socket: only its new fd is read; its remembered sockets are not read again", async (t) => {
  const root = t.testdir();
  const fs = tree(root);
  const pids = [100, 101];
  const many: Record<number, string> = { 0: '/dev/null' };
  for (let i = 0; i < 50; i++) many[10 + i] = `socket:[${1000 + i}]`;
  fs.proc(100, many);
  fs.proc(101, { 0: '/dev/null' });
  const inodes = Array.from({ length: 50 }, (_, i) => 1000 + i);
  const owners = new SocketOwners(root);
  const alive = (pid: number): boolean => pids.includes(pid);
  owners.beginPass();
  owners.owners(NETNS, inodes, pids, alive, noErrors(t));
  owners.endPass();

  fs.proc(100, { ...many, 70: 'socket:[2000]' });
  const l0 = owners.counters.links;
  owners.beginPass();
  const m = owners.owners(NETNS, [...inodes, 2000], pids, alive, noErrors(t));
  owners.endPass();
  t.equal(m.get(2000), 100, 'placed');
  t.equal(owners.counters.links - l0, 2, 'read: the new fd and /dev/null (not a socket), not the 50 remembered sockets');
  t.equal(owners.counters.full, 1, 'targeted: still the one full scan of the first pass');
});

t.test('an fd number reused for a new socket while its old socket lives on elsewhere: placed in the same pass, after the full scan', async (t) => {
  const root = t.testdir();
  const fs = tree(root);
  const pids = [100, 101];
  // 100 and 101 share socket 800 (as after fork); 100 holds it on fd 3.
  fs.proc(100, { 3: 'socket:[800]', 4: 'socket:[801]' });
  fs.proc(101, { 5: 'socket:[800]' });
  const owners = new SocketOwners(root);
  const alive = (pid: number): boolean => pids.includes(pid);
  owners.beginPass();
  let m = owners.owners(NETNS, [800, 801], pids, alive, noErrors(t));
  owners.endPass();
  t.equal(m.get(800), 100);

  // 100 closes fd 3 (800 lives on in 101) and gets fd 3 again for a new socket 900.
  fs.proc(100, { 3: 'socket:[900]', 4: 'socket:[801]' });
  owners.beginPass();
  m = owners.owners(NETNS, [800, 801, 900], pids, alive, noErrors(t));
  owners.endPass();
  t.equal(m.get(900), 100, 'the new socket is placed in the same pass');
  t.equal(owners.counters.full, 2, 'by the full scan and the re-read of remembered links that follows it');
});
