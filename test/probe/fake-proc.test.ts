/**
 * The processes and connections collectors pointed at a FAKE proc tree built
 * here, for the cases a real /proc cannot be made to show on demand: entries
 * that vanish between readdir and read, unreadable entries (permission), a
 * kernel thread, a malformed stat, and a conntrack table with a short-lived
 * flow. Everything else about the collectors is tested on the real /proc.
 */
import t from 'tap';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { hostNodeId } from '../../runtime/report';
import { ConnectionsCollector } from '../../runtime/probe/collectors/connections';
import { ProcessesCollector } from '../../runtime/probe/collectors/processes';
import { PF_KTHREAD } from '../../runtime/probe/procfs/stat';

const DOCKER_ID = 'd'.repeat(64);
const PODMAN_ID = 'e'.repeat(64);
const NETNS = 4026531999;

const stat = (pid: number, comm: string, flags = 0): string =>
  `${pid} (${comm}) S 1 ${pid} ${pid} 0 -1 ${flags} 0 0 0 0 10 5 0 0 20 0 2 0 ${pid * 100} 1000 300 0 0\n`;
const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const tcpLine = (sl: number, local: string, remote: string, st: string, inode: number): string =>
  `   ${sl}: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0 20 4 30 10 -1\n`;

/** Builds the tree; returns its root. */
function buildTree(root: string): void {
  writeFileSync(join(root, 'stat'), 'cpu  1 0 1 10 0 0 0 0 0 0\nbtime 1700000000\n');
  mkdirSync(join(root, 'sys'));
  mkdirSync(join(root, 'self', 'ns'), { recursive: true });
  symlinkSync(`net:[${NETNS}]`, join(root, 'self', 'ns', 'net'));
  mkdirSync(join(root, 'net'));
  writeFileSync(
    join(root, 'net', 'nf_conntrack'),
    'ipv4     2 tcp      6 117 TIME_WAIT src=10.0.0.5 dst=10.0.0.9 sport=40001 dport=80 src=10.0.0.9 dst=10.0.0.5 sport=80 dport=40001 [ASSURED] mark=0 zone=0 use=2\n',
  );

  const proc = (pid: number, comm: string, opts: { flags?: number; cgroup?: string; fds?: Record<string, string>; tcp?: string; cmdline?: string | null } = {}): string => {
    const dir = join(root, String(pid));
    mkdirSync(join(dir, 'fd'), { recursive: true });
    mkdirSync(join(dir, 'ns'));
    mkdirSync(join(dir, 'net'));
    writeFileSync(join(dir, 'stat'), stat(pid, comm, opts.flags));
    if (opts.cmdline !== null) writeFileSync(join(dir, 'cmdline'), opts.cmdline ?? `/usr/bin/${comm}\0--flag\0`);
    writeFileSync(join(dir, 'status'), `Name:\t${comm}\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n`);
    writeFileSync(join(dir, 'cgroup'), opts.cgroup ?? '0::/\n');
    symlinkSync(`net:[${NETNS}]`, join(dir, 'ns', 'net'));
    for (const [fd, target] of Object.entries(opts.fds ?? { 0: '/dev/null' })) symlinkSync(target, join(dir, 'fd', fd));
    writeFileSync(join(dir, 'net', 'tcp'), TCP_HEADER + (opts.tcp ?? ''));
    writeFileSync(join(dir, 'net', 'tcp6'), TCP_HEADER);
    return dir;
  };
  const table =
    tcpLine(0, '0100007F:1F90', '00000000:0000', '0A', 5001) + // 127.0.0.1:8080 listening
    tcpLine(1, '0100007F:D431', '0100007F:1F90', '01', 5002) + // client 54321 → 8080
    tcpLine(2, '0100007F:1F90', '0100007F:D431', '01', 5003); // server side of it
  proc(100, 'server', { cgroup: `0::/system.slice/docker-${DOCKER_ID}.scope\n`, fds: { 0: '/dev/null', 3: 'socket:[5001]', 4: 'socket:[5003]' }, tcp: table });
  proc(105, 'client', { cgroup: `0::/machine.slice/libpod-${PODMAN_ID}.scope\n`, fds: { 3: 'socket:[5002]' }, tcp: table });
  mkdirSync(join(root, '101')); // vanished: its directory is listed, its files are gone
  mkdirSync(join(root, '102'));
  writeFileSync(join(root, '102', 'stat'), stat(102, 'half-gone')); // gone between stat and cmdline
  proc(103, 'kworker/0:1', { flags: PF_KTHREAD, cmdline: '' });
  mkdirSync(join(root, '104'));
  writeFileSync(join(root, '104', 'stat'), 'not a stat line');
  chmodSync(join(proc(106, 'secretive'), 'stat'), 0o000);
  chmodSync(join(proc(107, 'closed-fds'), 'fd'), 0o000);
}

t.test('fake proc tree: vanishing and odd entries are skipped silently, the rest is reported', async (t) => {
  const root = t.testdir();
  buildTree(root);
  const identity = { hostname: 'fake', hostId: hostNodeId('fake'), probeId: 'fake/1' };
  const processes = new ProcessesCollector({ identity, procRoot: root, passwdPath: join(root, 'no-passwd') });
  const connections = new ConnectionsCollector({ identity, processes, procRoot: root });
  const p = await processes.collect(1_000);
  const c = await connections.collect(1_000);

  const byPid = new Map(Object.entries(p.nodes.process!).map(([id, n]) => [n.latest.pid?.v, { id, n }]));
  // As root, 106 and 107 are readable; the permission cases run below as an unprivileged user.
  t.same([...byPid.keys()].sort(), [100, 105, 106, 107], 'vanished (101, 102), kernel thread (103), malformed (104) are left out');
  t.same(p.issues, [], 'vanishing is not an error');
  const server = byPid.get(100)!;
  const client = byPid.get(105)!;
  t.equal(server.id, 'process;fake;100;10000');
  t.equal(server.n.latest.cmdline?.v, '/usr/bin/server --flag');
  t.equal(server.n.latest.user?.v, '0', 'no passwd: the uid as text');
  t.equal(server.n.latest.open_fds?.v, 3);
  t.equal(server.n.latest.started_at?.v, 1_700_000_000_000 + 100_000);
  t.same(server.n.parents, { host: ['host;fake'], container: [`container;${DOCKER_ID}`] });
  t.same(client.n.parents.container, [`container;${PODMAN_ID}`]);

  t.same(c.nodes.process![client.id]!.adjacency, [server.id], 'edge from the fake tcp table');
  t.equal(c.nodes.process![server.id]!.latest.listening?.v, '127.0.0.1:8080');
  t.same(c.nodes.endpoint!['endpoint;;10.0.0.5;40001']?.adjacency, ['endpoint;;10.0.0.9;80'], 'a short-lived flow from conntrack');
  t.same(c.issues, []);
  t.equal(connections.rescans, 1, 'one fd scan for the new sockets');
  await processes.collect(2_000);
  await connections.collect(2_000);
  t.equal(connections.rescans, 1, 'no rescan when no socket is new');
});

t.test('fake proc tree: a conntrack table many pieces long is read whole, up to the flow limit', async (t) => {
  const root = t.testdir();
  buildTree(root);
  // 2,000 flows of about 190 bytes: several 64 KiB pieces of the connections reader, lines cut at their ends.
  const lines: string[] = [];
  for (let k = 0; k < 2_000; k++) {
    const port = 30_000 + k;
    lines.push(`ipv4     2 tcp      6 117 ESTABLISHED src=10.0.${k >> 8}.${k & 255} dst=10.0.0.9 sport=${port} dport=80 src=10.0.0.9 dst=10.0.${k >> 8}.${k & 255} sport=80 dport=${port} [ASSURED] mark=0 zone=0 use=2`);
    if (k % 3 === 0) lines.push(`ipv4     2 udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=53 dport=${port} src=10.0.0.2 dst=10.0.0.1 sport=${port} dport=53 mark=0 zone=0 use=2`);
  }
  const text = lines.join('\n') + '\n';
  t.ok(text.length > 4 * 64 * 1024, `${text.length} bytes`);
  writeFileSync(join(root, 'net', 'nf_conntrack'), text);
  const identity = { hostname: 'fake', hostId: hostNodeId('fake'), probeId: 'fake/1' };
  const processes = new ProcessesCollector({ identity, procRoot: root, passwdPath: join(root, 'no-passwd') });
  const connections = new ConnectionsCollector({ identity, processes, procRoot: root, maxConntrackFlows: 1_500 });
  await processes.collect(1_000);
  const c = await connections.collect(1_000);
  const flowEnds = Object.keys(c.nodes.endpoint ?? {}).filter((id) => id.startsWith('endpoint;;10.0.') && !id.endsWith(';80'));
  t.equal(flowEnds.length, 1_500, 'the first 1,500 tcp flows, across every piece');
  t.ok(c.nodes.endpoint!['endpoint;;10.0.5.219;31499'], 'the 1,500th flow is in');
  t.notOk(c.nodes.endpoint!['endpoint;;10.0.5.220;31500'], 'the 1,501st is not');
  t.same(
    c.issues.map((i) => [i.code, (i as { count?: number }).count]),
    [['E_CONNTRACK_TRUNCATED', 500]],
    'the 500 over the limit are counted, udp lines are not flows',
  );
});

t.test('fake proc tree read without privileges: unreadable entries are counted, the walk goes on', async (t) => {
  if (process.getuid?.() !== 0) {
    t.pass('skipped: needs root to switch to an unprivileged user');
    return;
  }
  const root = t.testdir();
  buildTree(root);
  const script = join(root, '..', `walk-${process.pid}.ts`);
  writeFileSync(
    script,
    `import { ProcessesCollector } from ${JSON.stringify(join(__dirname, '../../runtime/probe/collectors/processes'))};
     const identity = { hostname: 'fake', hostId: 'host;fake', probeId: 'fake/1' };
     new ProcessesCollector({ identity, procRoot: ${JSON.stringify(root)} }).collect(1000).then((r) => {
       const pids = Object.values(r.nodes.process!).map((n) => n.latest.pid!.v);
       const fds = Object.fromEntries(Object.values(r.nodes.process!).map((n) => [String(n.latest.pid!.v), n.latest.open_fds?.v ?? null]));
       console.log(JSON.stringify({ pids, fds, issues: r.issues }));
     });`,
  );
  t.teardown(() => spawnSync('rm', ['-f', script]));
  // Through `env -i`: tap wraps child processes with its own hooks (via the
  // environment), which would try to write under the repository as that user.
  const run = spawnSync('env', ['-i', `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, process.execPath, '--import', require.resolve('tsx'), script], {
    uid: 65534,
    gid: 65534,
    cwd: '/tmp',
    encoding: 'utf8',
    timeout: 30_000,
  });
  t.equal(run.status, 0, 'the walk ran as an unprivileged user');
  t.equal(run.stderr, '', 'and said nothing on stderr');
  const out = JSON.parse(run.stdout) as { pids: number[]; fds: Record<string, number | null>; issues: { code: string; count: number; message: string }[] };
  t.same(out.pids.sort(), [100, 105, 107], 'the unreadable process (106) is left out, the others are reported');
  t.equal(out.fds['107'], null, 'fd count unknown where fd/ is unreadable');
  t.same(out.issues.map((i) => [i.code, i.count]), [['EACCES', 2]], 'two permission errors counted');
  t.match(out.issues[0]!.message, /unreadable \(EACCES\)/);
});

t.test('net/sockstat: a table whose namespace has no TCP socket in use is not read', async (t) => {
  const root = t.testdir();
  buildTree(root);
  const identity = { hostname: 'fake', hostId: hostNodeId('fake'), probeId: 'fake/1' };
  for (const pid of [100, 105, 106, 107]) {
    writeFileSync(join(root, String(pid), 'net', 'sockstat'), 'sockets: used 3\nTCP: inuse 3 orphan 0 tw 0 alloc 9 mem 1\nUDP: inuse 0 mem 0\n');
    writeFileSync(join(root, String(pid), 'net', 'sockstat6'), 'TCP6: inuse 0\nUDP6: inuse 0\n');
  }
  const processes = new ProcessesCollector({ identity, procRoot: root, passwdPath: join(root, 'no-passwd') });
  const connections = new ConnectionsCollector({ identity, processes, procRoot: root });
  await processes.collect(1_000);
  let c = await connections.collect(1_000);
  t.same(connections.stats, { tablesRead: 1, tablesSkipped: 1 }, 'tcp read, tcp6 (inuse 0) skipped');
  t.equal(Object.values(c.nodes.process!).filter((n) => n.adjacency.length > 0).length, 1, 'the edge is still there');
  for (const pid of [100, 105, 106, 107]) writeFileSync(join(root, String(pid), 'net', 'sockstat'), 'sockets: used 0\nTCP: inuse 0 orphan 0 tw 0 alloc 9 mem 1\n');
  await processes.collect(2_000);
  c = await connections.collect(2_000);
  t.same(connections.stats, { tablesRead: 1, tablesSkipped: 3 }, 'both skipped once nothing is in use');
  t.same(c.nodes.process, {}, 'no sockets, no edges');
});
