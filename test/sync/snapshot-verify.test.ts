/**
 * Snapshot and verify against two real single-server ensembles: a tree of over
 * 10,000 znodes with binary data, data near 1 MiB, ACLs, ephemerals and
 * sequential nodes is copied and verifies equal; differences are located.
 */
import t from 'tap';
import { PathFilter } from '../../runtime/sync/paths';
import { syncTree } from '../../runtime/sync/tree-sync';
import { verifyTrees } from '../../runtime/sync/verify';
import { ZkClient } from '../../runtime/sync/zk/client';
import { CreateMode, OPEN_ACL } from '../../runtime/sync/zk/types';
import { startEnsemble, zookeeperSkipReason } from '../helpers/zookeeper';
import { SECURE_ACL, USER, buildTree } from './fixture';

t.test('snapshot and verify', { skip: zookeeperSkipReason() }, async (t) => {
  const [a, b] = await Promise.all([startEnsemble(1), startEnsemble(1)]);
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  const auth = [{ scheme: 'digest', auth: USER }];
  const source = await ZkClient.connect({ connect: a.connectString, label: 'source', auth });
  const target = await ZkClient.connect({ connect: b.connectString, label: 'target', auth });
  const owner = await ZkClient.connect({ connect: a.connectString, label: 'owner' });
  t.teardown(() => Promise.all([source.close(), target.close(), owner.close()]));

  const info = await buildTree(source, '/app', 10, 1000, owner);
  t.ok(info.nodes > 10_000, `${info.nodes} znodes`);
  const filter = new PathFilter(['/']);

  const before = await verifyTrees(source, target, { filter, ephemerals: 'skip' });
  t.equal(before.equal, false, 'differs before the snapshot');
  t.same(before.differences[0], { path: '/app', kind: 'missing-on-target', nodes: info.nodes - 1 });

  const r = await syncTree(source, target, { filter, ephemerals: 'skip', targetHasAuth: true });
  t.same(r.failed, [], 'no write failed');
  t.equal(r.created, info.nodes - 2 + 1, 'every persistent znode created (plus /app/live, without its ephemeral)');
  t.comment(`snapshot: read ${r.readMs} ms, write ${r.writeMs} ms`);

  const after = await verifyTrees(source, target, { filter, ephemerals: 'skip' });
  t.equal(after.equal, true, 'verifies equal');
  t.equal(after.source.digest, after.target.digest);
  t.equal(after.source.nodes, info.nodes, 'every znode but the ephemeral, and /');

  t.test('ACLs are copied and set after children', async (t) => {
    t.same((await target.getAcl('/app/secure')).acl, SECURE_ACL);
    t.same((await target.getData('/app/secure/child')).data, Buffer.from('c'));
  });
  t.test('data near 1 MiB, empty and null data are exact', async (t) => {
    t.same((await target.getData('/app/big')).data, (await source.getData('/app/big')).data);
    t.same((await target.getData('/app/empty')).data, Buffer.alloc(0));
    t.equal((await target.getData('/app/g0')).data, null);
  });
  t.test('sequential names are kept and the counter is advanced', async (t) => {
    const kids = (await target.getChildren('/app/locks')).children.sort();
    t.same(kids.map((k) => `/app/locks/${k}`), info.sequential);
    const next = await target.create('/app/locks/lock-', null, OPEN_ACL, CreateMode.PERSISTENT_SEQUENTIAL);
    const srcNext = await source.create('/app/locks/lock-', null, OPEN_ACL, CreateMode.PERSISTENT_SEQUENTIAL);
    t.ok(next >= srcNext, `target's next name ${next} does not collide (source's ${srcNext})`);
    await target.delete(next, -1);
    await source.delete(srcNext, -1);
  });
  t.test('ephemerals: skipped, or mirrored as ephemerals', async (t) => {
    t.equal(await target.exists('/app/live/e1'), null);
    await syncTree(source, target, { filter, ephemerals: 'mirror', targetHasAuth: true });
    const st = await target.exists('/app/live/e1');
    t.not(st, null);
    t.not(st!.ephemeralOwner, 0n, 'ephemeral on the target');
    const v = await verifyTrees(source, target, { filter, ephemerals: 'mirror' });
    t.equal(v.equal, true);
  });
  t.test('verify locates each kind of difference', async (t) => {
    await target.setData('/app/g3/n7', Buffer.from('changed'), -1);
    await target.setAcl('/app/g4/n1', SECURE_ACL, -1);
    await target.delete('/app/g5/n9', -1);
    await target.create('/app/g6/extra', null, OPEN_ACL, 0);
    const v = await verifyTrees(source, target, { filter, ephemerals: 'mirror' });
    t.equal(v.equal, false);
    t.same(
      v.differences.map((d) => `${d.kind} ${d.path}`).sort(),
      ['acl /app/g4/n1', 'data /app/g3/n7', 'extra-on-target /app/g6/extra', 'missing-on-target /app/g5/n9'],
    );
    t.ok(v.subtreesDescended <= 10, `only ${v.subtreesDescended} subtrees descended into`);
    // The re-diff repairs exactly these.
    const r2 = await syncTree(source, target, { filter, ephemerals: 'mirror', targetHasAuth: true });
    t.equal(r2.created + r2.updated + r2.deleted, 3);
    t.equal((await verifyTrees(source, target, { filter, ephemerals: 'mirror' })).equal, true);
  });
});
