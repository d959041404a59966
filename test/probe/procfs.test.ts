import t from 'tap';
import { containerIdFromCgroup } from '../../runtime/probe/procfs/cgroup';
import { formatCmdline, redactArgs } from '../../runtime/probe/procfs/cmdline';
import { isDnat, parseConntrack } from '../../runtime/probe/procfs/conntrack';
import { AddressCache, parseTcpTable, readTcpTable, ipv4FromHex, ipv6FromHex, type TcpSocket } from '../../runtime/probe/procfs/net-tcp';
import { PF_KTHREAD, parsePidStat } from '../../runtime/probe/procfs/stat';
import { parseCpuLine, parseMeminfo, parseOsRelease } from '../../runtime/probe/collectors/host';
import { ProcReader, indexOfByte, lastIndexOfByte } from '../../runtime/probe/procfs/reader';
import { StatFiles } from '../../runtime/probe/procfs/stat-files';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ID = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + 'b'.repeat(4);

t.test('stat: fields are counted from the last parenthesis', async (t) => {
  const line = `4242 (we (ird) name) S 1 4242 4242 0 -1 ${PF_KTHREAD} 10 0 0 0 150 50 0 0 20 0 7 0 123456 1000000 2500 18446744073709551615 0 0\n`;
  const buf = Buffer.from(line);
  const st = parsePidStat(buf, buf.length);
  t.same(st, { comm: 'we (ird) name', state: 'S', ppid: 1, flags: PF_KTHREAD, cpuTicks: 200, threads: 7, startTicks: 123456, rssPages: 2500 });
  t.equal(parsePidStat(Buffer.from('garbage'), 7), null);
  t.equal(parsePidStat(Buffer.from('1 (x) S 0 1'), 11), null, 'a short line');
});

t.test("byte search: indexOfByte / lastIndexOfByte find what Buffer's indexOf / lastIndexOf find, at any start", async (t) => {
  const buf = Buffer.from('0:a b\n(x) y\n\n:)');
  const bytes = [10, 58, 40, 41, 32, 120, 0];
  let checks = 0;
  for (const byte of bytes) {
    for (let from = -buf.length - 2; from <= buf.length + 2; from++) {
      if (indexOfByte(buf, byte, from) !== buf.indexOf(byte, from)) t.fail(`indexOf ${byte} from ${from}`);
      if (lastIndexOfByte(buf, byte, from) !== buf.lastIndexOf(byte, from)) t.fail(`lastIndexOf ${byte} from ${from}`);
      checks++;
    }
  }
  // On a view into a larger buffer (the readers' pieces), positions are the view's.
  const view = Buffer.from('zz\nab\ncd').subarray(3);
  t.equal(indexOfByte(view, 10, 0), 2);
  t.equal(lastIndexOfByte(view, 10, view.length - 1), 2);
  t.equal(indexOfByte(view, 122, 0), -1, 'bytes before the view are not searched');
  t.ok(checks > 100, `${checks} starts compared`);
});

t.test('tcp tables: hex addresses and ports, listening and connected only', async (t) => {
  const text = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0 100 0 0 10 0',
    '   1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0 20 4 30 10 -1',
    '   2: 0100007F:D432 0100007F:1F90 06 00000000:00000000 03:00000F3E 00000000     0        0 0 3 0',
    '   3: 0202000A:0050 0101000A:C000 01 00000000:00000000 00:00000000 00000000    33        0 3333 1 0 20 4 30 10 -1',
  ].join('\n');
  const out: TcpSocket[] = [];
  parseTcpTable(Buffer.from(text), text.length, new AddressCache(), out);
  t.same(out, [
    { local: '127.0.0.1', localPort: 8080, remote: '0.0.0.0', remotePort: 0, state: 0x0a, inode: 1111 },
    { local: '127.0.0.1', localPort: 54321, remote: '127.0.0.1', remotePort: 8080, state: 1, inode: 2222 },
    { local: '10.0.2.2', localPort: 80, remote: '10.0.1.1', remotePort: 49152, state: 1, inode: 3333 },
  ]);
  t.equal(ipv4FromHex('0100007F'), '127.0.0.1');
  t.equal(ipv6FromHex('00000000000000000000000001000000'), '::1');
  t.equal(ipv6FromHex('0000000000000000FFFF00000100007F'), '127.0.0.1', 'IPv4-mapped folds to IPv4');
  t.equal(ipv6FromHex('B80D0120000000000000000001000000'), '2001:db8::1');
});

t.test('tcp tables: the fixed-layout reader agrees with a plain split of every line (real tables, wide fields, IPv6)', async (t) => {
  // Reference: split each line on spaces, as a person would read it.
  const reference = (text: string): TcpSocket[] => {
    const cache = new AddressCache();
    const out: TcpSocket[] = [];
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/ +/);
      if (f.length < 10) continue;
      const [la, lp] = f[1]!.split(':');
      const [ra, rp] = f[2]!.split(':');
      const state = parseInt(f[3]!, 16);
      const inode = Number(f[9]);
      if (!(inode > 0) || !(state === 0x0a || [1, 2, 3, 4, 5, 8, 9, 0x0b].includes(state))) continue;
      out.push({ local: cache.text(la!), localPort: parseInt(lp!, 16), remote: cache.text(ra!), remotePort: parseInt(rp!, 16), state, inode });
    }
    return out;
  };
  const synthetic = [
    '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4444 1 0 100 0 0 10 0',
    '   1: 0000000000000000FFFF00000100007F:D431 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000 123456 12345678901 5555 1 0 20 4 30 10 -1',
    '12345: B80D0120000000000000000001000000:0050 B80D0120000000000000000002000000:C000 01 00000000:00000000 02:000000FF 00000003 65534        7 6666 1 0 20 4 30 10 -1',
    '   3: B80D0120000000000000000001000000:0051 B80D0120000000000000000002000000:C001 06 00000000:00000000 03:00000F3E 00000000     0        0 0 3 0',
  ].join('\n');
  const tables: Array<[string, string]> = [['synthetic tcp6', synthetic]];
  for (const f of ['tcp', 'tcp6']) {
    try {
      tables.push([`/proc/self/net/${f}`, new ProcReader().readText(`/proc/self/net/${f}`, 'latin1')]);
    } catch {
      // no IPv6 on this kernel
    }
  }
  for (const [name, text] of tables) {
    const out: TcpSocket[] = [];
    parseTcpTable(Buffer.from(text, 'latin1'), Buffer.byteLength(text, 'latin1'), new AddressCache(), out);
    t.same(out, reference(text), `${name}: ${out.length} sockets`);
  }
  const out: TcpSocket[] = [];
  parseTcpTable(Buffer.from(synthetic), synthetic.length, new AddressCache(), out);
  t.same(out.map((s) => [s.local, s.localPort, s.remote, s.inode]), [['::1', 8080, '::', 4444], ['127.0.0.1', 54321, '127.0.0.1', 5555], ['2001:db8::1', 80, '2001:db8::2', 6666]]);
});

t.test('tcp tables read in pieces give the same sockets as the whole table, at any piece size', async (t) => {
  // Lines of several widths (IPv4, IPv6, a field-by-field line, a final line without a newline), repeated so the table spans many pieces.
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
  const lines: string[] = [];
  for (let k = 0; k < 200; k++) {
    const port = (0x1000 + k).toString(16).toUpperCase();
    lines.push(`${String(k).padStart(4)}: 0100007F:${port} 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 ${10_000 + k} 1 0 20 4 30 10 -1`);
    if (k % 7 === 0) lines.push(`${String(k).padStart(4)}: B80D0120000000000000000001000000:${port} B80D0120000000000000000002000000:C000 0A 00000000:00000000 00:00000000 00000000  1000        0 ${20_000 + k} 1 0 100 0 0 10 0`);
    if (k % 13 === 0) lines.push(`  ${k}: 0202000A:${port}   0101000A:C000 01 0:0 0:0 0 33 0 ${30_000 + k} 1`);
    if (k % 5 === 0) lines.push(`${String(k).padStart(4)}: 0100007F:${port} 0100007F:1F90 06 00000000:00000000 03:00000F3E 00000000     0        0 0 3 0`);
  }
  const synthetic = [header, ...lines].join('\n'); // no newline after the last line
  const dir = mkdtempSync(join(tmpdir(), 'probe-tcp-pieces-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files: string[] = [join(dir, 'tcp'), join(dir, 'tcp-newline'), join(dir, 'header-only'), join(dir, 'empty')];
  writeFileSync(files[0]!, synthetic);
  writeFileSync(files[1]!, synthetic + '\n');
  writeFileSync(files[2]!, header + '\n');
  writeFileSync(files[3]!, '');
  for (const f of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) if (existsSync(f)) files.push(f);
  for (const path of files) {
    const whole = new ProcReader();
    const n = whole.read(path);
    const expected: TcpSocket[] = [];
    parseTcpTable(whole.bytes, n, new AddressCache(), expected);
    if (path === files[0]) t.ok(expected.length > 200, `the synthetic table has ${expected.length} wanted sockets`);
    // 16 bytes: smaller than one line (the buffer grows); 150-160: about one line, so every boundary falls mid-line somewhere.
    for (const size of [16, 150, 151, 157, 160, 1000, 4096, 64 * 1024]) {
      const out: TcpSocket[] = [];
      readTcpTable(new ProcReader(size), path, new AddressCache(), out);
      // /proc tables change between reads: compare only the stable synthetic ones exactly.
      if (path.startsWith(dir)) t.same(out, expected, `${path} in ${size}-byte pieces: ${out.length} sockets`);
      else t.ok(out.every((s) => s.inode > 0 && s.localPort >= 0), `${path} in ${size}-byte pieces parses`);
    }
  }
  t.throws(() => readTcpTable(new ProcReader(), join(dir, 'missing'), new AddressCache(), []), { code: 'ENOENT' });
});

t.test('conntrack: tuples, DNAT, limits', async (t) => {
  const text = [
    'ipv4     2 tcp      6 86399 ESTABLISHED src=10.0.0.5 dst=10.96.0.1 sport=40000 dport=443 src=10.244.1.7 dst=10.0.0.5 sport=6443 dport=40000 [ASSURED] mark=0 zone=0 use=2',
    'ipv4     2 tcp      6 117 TIME_WAIT src=10.0.0.5 dst=10.0.0.9 sport=40001 dport=80 src=10.0.0.9 dst=10.0.0.5 sport=80 dport=40001 [ASSURED] mark=0 zone=0 use=2',
    'ipv4     2 udp      17 20 src=10.0.0.5 dst=10.0.0.2 sport=5353 dport=53 src=10.0.0.2 dst=10.0.0.5 sport=53 dport=5353 mark=0 zone=0 use=2',
    'ipv6     10 tcp      6 60 SYN_SENT src=2001:db8::1 dst=2001:db8::2 sport=1 dport=2 [UNREPLIED] src=2001:db8::2 dst=2001:db8::1 sport=2 dport=1 mark=0 zone=0 use=2',
    'garbage line',
  ].join('\n');
  const { flows, skipped } = parseConntrack(text, 10);
  t.equal(flows.length, 3, 'tcp only');
  t.same(flows[0], { state: 'ESTABLISHED', original: { src: '10.0.0.5', dst: '10.96.0.1', sport: 40000, dport: 443 }, reply: { src: '10.244.1.7', dst: '10.0.0.5', sport: 6443, dport: 40000 } });
  t.ok(isDnat(flows[0]!));
  t.notOk(isDnat(flows[1]!));
  t.equal(skipped, 0);
  t.equal(parseConntrack(text, 1).skipped, 2);
});

t.test('cgroup: container ids of docker, podman, containerd, cri-o', async (t) => {
  const cases: [string, string | null][] = [
    [`12:memory:/docker/${ID}`, ID],
    [`0::/system.slice/docker-${ID}.scope`, ID],
    [`0::/machine.slice/libpod-${ID}.scope/container`, ID],
    [`1:name=systemd:/libpod_parent/libpod-${ID}`, ID],
    [`0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234_5678.slice/cri-containerd-${ID}.scope`, ID],
    [`0::/kubepods/burstable/pod0b2c/${ID}`, ID],
    [`0::/kubepods.slice/kubepods-pod9.slice/crio-${ID}.scope`, ID],
    [`0::/k8s.io/${ID}`, ID],
    [`0::/machine.slice/libpod-conmon-${ID}.scope`, null],
    ['4:memory:/process_api/d142bcebbd899eeed5dd1764bb09ef1f\n0::/', null],
    ['0::/user.slice/user-1000.slice/session-2.scope', null],
  ];
  for (const [text, want] of cases) t.equal(containerIdFromCgroup(text), want, text.slice(0, 60));
});

t.test('command lines: NULs to spaces, secrets and environments redacted', async (t) => {
  const buf = Buffer.from('postgres\0-c\0config_file=/etc/pg.conf\0\0');
  t.equal(formatCmdline(buf, buf.length), 'postgres -c config_file=/etc/pg.conf');
  t.equal(formatCmdline(Buffer.alloc(0), 0), '');
  t.same(redactArgs(['app', '--password=hunter2', '--token', 'abc', '--db-url', 'postgres://u:pw@db/x', '--api-key=k', '-v', '--env', '{"A":"1"}']), [
    'app', '--password=***', '--token', '***', '--db-url', 'postgres://u:***@db/x', '--api-key=***', '-v', '--env', '***',
  ]);
  t.same(redactArgs(['node', '-e', 'code', '--port', '80']), ['node', '-e', 'code', '--port', '80'], 'ordinary flags untouched');
  const long = Buffer.from('x'.repeat(10_000));
  t.ok(formatCmdline(long, long.length).length <= 4096, 'cut to the report string limit');
});

t.test('host files', async (t) => {
  t.same(parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'), { name: 'Debian GNU/Linux 12 (bookworm)', id: 'debian', versionId: '12' });
  t.same(parseOsRelease(''), { name: 'Linux', id: 'linux', versionId: '' });
  t.same(parseMeminfo('MemTotal:       1000 kB\nMemFree:  10 kB\nMemAvailable:    400 kB\n'), { total: 1024000, available: 409600 });
  t.same(parseCpuLine('cpu  10 0 10 70 10 0 0 0 0 0\ncpu0 1\n'), { busy: 20, total: 100 });
});

t.test('ProcReader.readWhole: the same bytes as read, for a /proc stat file and for a file larger than its buffer', async (t) => {
  const r = new ProcReader(64);
  const stat = `/proc/${process.pid}/stat`;
  const n1 = r.readWhole(stat);
  const whole = r.bytes.toString('latin1', 0, n1);
  t.match(whole, new RegExp(`^${process.pid} \\(`), 'starts with our pid');
  t.ok(whole.endsWith('\n'), 'the whole record, up to its newline');
  const dir = mkdtempSync(join(tmpdir(), 'proc-reader-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const big = join(dir, 'big');
  const text = 'x'.repeat(1000) + '\n' + 'y'.repeat(3000);
  writeFileSync(big, text);
  const n2 = r.readWhole(big);
  t.equal(r.bytes.toString('latin1', 0, n2), text, 'a file over the buffer grows it and is read to its end');
  const n3 = r.read(big);
  t.equal(n3, n2);
});

t.test('StatFiles: stat files held open give fresh records, are bounded, and let go of processes that exit', async (t) => {
  const reader = new ProcReader(64);
  const files = new StatFiles(reader, 2);
  const ticks = (n: number): number => {
    const st = parsePidStat(reader.bytes, n)!;
    return st.cpuTicks;
  };
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise((r) => child.once('spawn', r));

  files.beginPass();
  const before = ticks(files.read(process.pid, `/proc/${process.pid}/stat`));
  const c0 = process.cpuUsage();
  let x = 0;
  while ((process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1000 < 150) x += Math.sqrt(x + 1);
  const after = ticks(files.read(process.pid, `/proc/${process.pid}/stat`));
  t.ok(after - before >= 5, `a record read again through the held fd is fresh: ${before} → ${after} ticks after 150 ms of CPU`);
  const n = files.read(child.pid!, `/proc/${child.pid}/stat`);
  t.match(reader.bytes.toString('latin1', 0, n), new RegExp(`^${child.pid} \\(sleep\\)`));
  t.equal(files.fds.size, 2, 'two held');
  const n1 = files.read(1, '/proc/1/stat');
  t.match(reader.bytes.toString('latin1', 0, n1), /^1 \(/, 'over the bound: read all the same');
  t.equal(files.fds.size, 2, 'but not held');
  files.endPass();

  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  files.beginPass();
  files.read(process.pid, `/proc/${process.pid}/stat`);
  t.throws(() => files.read(child.pid!, `/proc/${child.pid}/stat`), { code: /^(ENOENT|ESRCH)$/ }, 'a process gone: its held file fails as vanished');
  t.equal(files.fds.size, 1, 'and is let go');
  files.endPass();
  files.beginPass();
  files.endPass();
  t.equal(files.fds.size, 0, 'files of processes not read in a pass are closed at its end');
  files.close();
});
