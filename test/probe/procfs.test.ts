import t from 'tap';
import { containerIdFromCgroup } from '../../runtime/probe/procfs/cgroup';
import { formatCmdline, redactArgs } from '../../runtime/probe/procfs/cmdline';
import { isDnat, parseConntrack } from '../../runtime/probe/procfs/conntrack';
import { AddressCache, parseTcpTable, ipv4FromHex, ipv6FromHex, type TcpSocket } from '../../runtime/probe/procfs/net-tcp';
import { PF_KTHREAD, parsePidStat } from '../../runtime/probe/procfs/stat';
import { parseCpuLine, parseMeminfo, parseOsRelease } from '../../runtime/probe/collectors/host';
import { ProcReader } from '../../runtime/probe/procfs/reader';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
