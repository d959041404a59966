/**
 * The read path built for 100,000-znode walks, against a real ZooKeeper 3.8:
 * our own requests (multiRead, create2, getACL, sent in per-tick batches), the
 * pool of read sessions, and the walk over several sessions in multiRead
 * batches: it must return exactly the tree the one-request-at-a-time walk
 * returns, and verify must find exactly the same differences. Also:
 * bidirectional sync processing many paths at once keeps related paths in
 * order and converges.
 */
import t from 'tap';
import { aclKey, dataHash } from '../../runtime/sync/digest';
import { SyncEngine } from '../../runtime/sync/engine';
import { PathFilter } from '../../runtime/sync/paths';
import { syncTree } from '../../runtime/sync/tree-sync';
import { readTree, walkTree, type NodeRecord } from '../../runtime/sync/tree-walk';
import { verifyTrees } from '../../runtime/sync/verify';
import { ZkClient } from '../../runtime/sync/zk/client';
import { CreateMode, OPEN_ACL, type Acl } from '../../runtime/sync/zk/types';
import { startEnsemble, zookeeperSkipReason } from '../helpers/zookeeper';
import { SECURE_ACL, USER, buildTree } from './fixture';

const skip = zookeeperSkipReason();
const auth = [{ scheme: 'digest', auth: USER }];

/** Everything a walk reports about a znode, in a comparable form. */
function flat(tree: Map<string, NodeRecord>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [p, n] of [...tree].sort(([x], [y]) => (x < y ? -1 : 1))) {
    out[p] = { data: n.data === null ? null : n.data.toString('base64'), acl: n.acl, children: n.children, version: n.stat.version, cversion: n.stat.cversion, eph: n.stat.ephemeralOwner !== 0n, mzxid: String(n.stat.mzxid), numChildren: n.stat.numChildren, dataLength: n.stat.dataLength };
  }
  return out;
}

t.test('checksums: null and empty data differ; ACL order does not matter', async (t) => {
  t.not(dataHash(null), dataHash(Buffer.alloc(0)));
  t.not(dataHash(Buffer.from('null')), dataHash(null));
  const a: Acl[] = [
    { perms: 1, scheme: 'world', id: 'anyone' },
    { perms: 31, scheme: 'digest', id: 'x' },
  ];
  t.equal(aclKey(a), aclKey([...a].reverse()));
});

t.test('parallel reads against a real ZooKeeper', { skip }, async (t) => {
  const [a, b] = await Promise.all([startEnsemble(1), startEnsemble(1)]);
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  const c = await ZkClient.connect({ connect: a.connectString, label: 'source', auth });
  const owner = await ZkClient.connect({ connect: a.connectString, label: 'owner' });
  const target = await ZkClient.connect({ connect: b.connectString, label: 'target', auth });
  t.teardown(() => Promise.all([c.close(), owner.close(), target.close()]));
  const info = await buildTree(c, '/p', 6, 700, owner);

  t.test('a walk over N sessions in multiRead batches returns exactly the one-session tree', async (t) => {
    const one = await readTree(c, '/p', { sessions: 1, batch: 1, concurrency: 1 });
    t.equal(one.size, info.nodes, 'every znode, the ephemeral included');
    const want = flat(one);
    for (const [sessions, batch, concurrency] of [
      [4, 100, undefined],
      [3, 7, 5],
      [8, 1000, 2],
    ] as const) {
      const many = await readTree(c, '/p', { sessions, batch, ...(concurrency ? { concurrency } : {}) });
      t.same(flat(many), want, `${sessions} sessions, batches of ${batch}`);
    }
    const order: string[] = [];
    await walkTree(c, '/p', { sessions: 4, batch: 13, onNode: (n) => void order.push(n.path) });
    const seen = new Set<string>();
    t.ok(
      order.every((p) => {
        const parent = p.slice(0, p.lastIndexOf('/')) || '/';
        seen.add(p);
        return p === '/p' || seen.has(parent);
      }),
      'parents are reported before their children',
    );
    t.same(await readTree(c, '/missing', { sessions: 4 }), new Map(), 'a missing root yields nothing');
    const skipped = await readTree(c, '/p', { sessions: 4, skip: (p) => p.startsWith('/p/g1') });
    t.equal(skipped.size, info.nodes - 701, 'skip leaves out a subtree');
  });

  t.test('a walk through a chroot, with a znode the engine may not read', async (t) => {
    const chrooted = await ZkClient.connect({ connect: `${a.connectString}/p`, label: 'chroot', auth });
    t.teardown(() => chrooted.close());
    const viaChroot = await readTree(chrooted, '/', { sessions: 3, batch: 50 });
    const direct = await readTree(c, '/p', { sessions: 1 });
    t.same([...viaChroot.keys()].sort(), [...direct.keys()].map((p) => (p === '/p' ? '/' : p.slice(2))).sort(), 'same paths, relative to the chroot');
    t.same(viaChroot.get('/secure')!.acl, SECURE_ACL);
    await c.create('/p/secret', Buffer.from('x'), [{ perms: 31, scheme: 'digest', id: SECURE_ACL[0]!.id }], 0);
    const anon = await ZkClient.connect({ connect: a.connectString, label: 'anon' });
    t.teardown(() => anon.close());
    await t.rejects(readTree(anon, '/p', { sessions: 2 }), { code: 'ZK_NO_AUTH', message: /\/p\/secret/ }, 'no READ: ZK_NO_AUTH naming the path');
    await c.delete('/p/secret', -1);
  });

  t.test('multiRead: each op answers alone; null, empty and binary data exact', async (t) => {
    const r = await c.multiRead([
      { op: 'getData', path: '/p/empty' },
      { op: 'getData', path: '/p/g0' },
      { op: 'getData', path: '/p/nope' },
      { op: 'getChildren', path: '/p/locks' },
      { op: 'getData', path: '/p/big' },
      { op: 'getChildren', path: '/p/nope' },
    ]);
    t.same(r.map((x) => x.op), ['getData', 'getData', 'error', 'getChildren', 'getData', 'error']);
    t.same(r[0], { op: 'getData', data: Buffer.alloc(0), stat: (await c.getData('/p/empty')).stat });
    t.equal(r[1]!.op === 'getData' && r[1]!.data, null, 'null data stays null');
    t.equal(r[2]!.op === 'error' && r[2]!.zkCode, -101);
    t.same(r[3]!.op === 'getChildren' && [...r[3]!.children].sort(), info.sequential.map((p) => p.slice('/p/locks/'.length)).sort());
    t.same(r[4]!.op === 'getData' && r[4]!.data, (await c.getData('/p/big')).data, 'data near 1 MiB');
    t.same(await c.multiRead([]), []);
  });

  t.test('create2 returns the stat of its own create, chroot-relative sequential names', async (t) => {
    const r = await c.create2('/p/c2', Buffer.from('v'), OPEN_ACL, CreateMode.PERSISTENT);
    t.equal(r.path, '/p/c2');
    t.same(r.stat, await c.exists('/p/c2'));
    const chrooted = await ZkClient.connect({ connect: `${a.connectString}/p`, label: 'chroot' });
    t.teardown(() => chrooted.close());
    const s = await chrooted.create2('/locks/lock-', null, OPEN_ACL, CreateMode.PERSISTENT_SEQUENTIAL);
    t.match(s.path, /^\/locks\/lock-\d{10}$/);
    t.equal(s.stat.version, 0);
    await t.rejects(c.create2('/p/c2', null, OPEN_ACL, 0), { code: 'ZK_NODE_EXISTS' });
    await t.rejects(c.create2('/p/toobig', Buffer.alloc(1048577), OPEN_ACL, 0), { code: 'ZK_REQUEST_TOO_LARGE' });
    await c.delete('/p/c2', -1);
    await chrooted.delete(s.path, -1);
  });

  t.test('raw requests: thousands in one tick; an oversize one refused alone; a dropped connection fails them with CONNECTION_LOSS', async (t) => {
    const paths = [...(await readTree(c, '/p/g2', { sessions: 1 })).keys()];
    const acls = await Promise.all(paths.map((p) => c.getAclOnly(p)));
    t.ok(acls.every((x) => x[0]!.scheme === 'world'), `${paths.length} ACLs in one batch`);
    const long = '/p/' + 'x'.repeat(1_100_000);
    const mixed = await Promise.allSettled([c.getAcl('/p/g0'), c.getAclOnly(long), c.getAcl('/p/g1')]);
    t.same(mixed.map((x) => x.status), ['fulfilled', 'rejected', 'fulfilled']);
    t.match((mixed[1] as PromiseRejectedResult).reason, { code: 'ZK_REQUEST_TOO_LARGE' });
    const inFlight = paths.map((p) => c.getAclOnly(p).then(() => 'ok', (e: { code?: string }) => e.code));
    c.dropConnection();
    const outcomes = await Promise.all(inFlight);
    t.ok(outcomes.every((o) => o === 'ok' || o === 'ZK_CONNECTION_LOSS'), 'each answered or failed with CONNECTION_LOSS');
    for (let i = 0; i < 200 && c.state !== 'connected'; i++) await new Promise((r) => setTimeout(r, 25));
    t.same(await c.getAclOnly('/p/g0'), OPEN_ACL, 'works after the reconnect');
    t.equal((await readTree(c, '/p', { sessions: 4 })).size, info.nodes, 'and so does a walk');
  });

  t.test('read sessions: reused, re-opened when one breaks, closed with the client', async (t) => {
    const x = await ZkClient.connect({ connect: a.connectString, label: 'x' });
    const r1 = await x.readers(3);
    t.equal(r1.length, 3);
    t.equal(r1[0], x, 'the client itself is the first');
    t.same(await x.readers(3), r1, 'reused');
    await r1[2]!.close();
    const r2 = await x.readers(3);
    t.not(r2[2], r1[2], 'a broken one is replaced');
    t.ok(r2.every((r) => r.state === 'connected'));
    t.same(await x.readers(1), [x]);
    await x.close();
    t.ok(r2.every((r) => r.state === 'closed'), 'closed with the client');
  });

  t.test('verify over N sessions finds exactly the differences one session finds', async (t) => {
    const filter = new PathFilter(['/p']);
    const r = await syncTree(c, target, { filter, ephemerals: 'skip', targetHasAuth: true, sessions: 3 });
    t.same(r.failed, []);
    t.equal((await verifyTrees(c, target, { filter, ephemerals: 'skip', sessions: 4 })).equal, true);
    await target.setData('/p/g3/n7', Buffer.from('changed'), -1);
    await target.setAcl('/p/g4/n1', SECURE_ACL, -1);
    await target.delete('/p/g5/n9', -1);
    await target.create('/p/g0/extra', null, OPEN_ACL, 0);
    await target.setData('/p/g1', Buffer.alloc(0), -1); // null on the source
    const one = await verifyTrees(c, target, { filter, ephemerals: 'skip', sessions: 1, concurrency: 1 });
    const many = await verifyTrees(c, target, { filter, ephemerals: 'skip', sessions: 4 });
    const kinds = (v: typeof one): string[] => v.differences.map((d) => `${d.kind} ${d.path}`).sort();
    t.same(kinds(one), ['acl /p/g4/n1', 'data /p/g1', 'data /p/g3/n7', 'extra-on-target /p/g0/extra', 'missing-on-target /p/g5/n9']);
    t.same(kinds(many), kinds(one));
    t.same(many.source, one.source, 'same node counts and digests');
    t.same(many.target, one.target);
    t.equal(many.subtreesDescended, one.subtreesDescended);
  });
});

t.test('bidirectional: many paths at once, related ones in order', { skip }, async (t) => {
  const [a, b] = await Promise.all([startEnsemble(1), startEnsemble(1)]);
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  const ca = await ZkClient.connect({ connect: a.connectString, label: 'a' });
  const cb = await ZkClient.connect({ connect: b.connectString, label: 'b' });
  t.teardown(() => Promise.all([ca.close(), cb.close()]));
  await ca.create('/bi', null, OPEN_ACL, 0);
  const engine = new SyncEngine({ source: { connect: a.connectString }, target: { connect: b.connectString }, paths: ['/bi'], mode: 'bidirectional', conflicts: 'last-write-wins', ephemerals: 'skip' });
  t.teardown(() => engine.stop());
  await engine.start();

  // Deep chains created fast on each side (each child right after its parent), and many flat paths.
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < 20; i++) {
    const side = i % 2 === 0 ? ca : cb;
    let p = `/bi/chain${i}`;
    for (let d = 0; d < 5; d++) {
      writes.push(side.create(p, Buffer.from(`${i}.${d}`), OPEN_ACL, 0));
      p += `/d${d}`;
    }
  }
  for (let i = 0; i < 300; i++) writes.push((i % 2 === 0 ? ca : cb).create(`/bi/flat${i}`, Buffer.from(String(i)), OPEN_ACL, 0));
  await Promise.all(writes);
  t.ok(await engine.waitIdle(30_000), 'idle');
  const filter = new PathFilter(['/bi']);
  let v = await verifyTrees(ca, cb, { filter, ephemerals: 'skip' });
  t.equal(v.equal, true, 'converged after creates');
  t.equal(v.source.nodes, 1 + 20 * 5 + 300);

  // Delete whole chains on one side (children first, as ZooKeeper requires), change others.
  const more: Promise<unknown>[] = [];
  for (let i = 0; i < 10; i++) {
    const side = i % 2 === 0 ? ca : cb;
    const chain = [`/bi/chain${i}`];
    for (let d = 0; d < 4; d++) chain.push(`${chain[chain.length - 1]}/d${d}`);
    for (const p of chain.reverse()) more.push(side.delete(p, -1));
  }
  for (let i = 0; i < 300; i += 3) more.push((i % 2 === 0 ? cb : ca).setData(`/bi/flat${i}`, Buffer.from(`v2-${i}`), -1));
  await Promise.all(more);
  t.ok(await engine.waitIdle(30_000), 'idle');
  v = await verifyTrees(ca, cb, { filter, ephemerals: 'skip' });
  t.equal(v.equal, true, 'converged after deletes and changes');
  t.equal(v.source.nodes, 1 + 10 * 5 + 300);
  t.same((await ca.getData('/bi/flat3')).data, Buffer.from('v2-3'));
  t.same((await cb.getData('/bi/flat6')).data, Buffer.from('v2-6'));
  t.same(engine.status().errors, {}, 'no errors');
});
