/**
 * setData is sent through our own request path (runtime/sync/zk/raw.ts): the
 * library throws on null data, which broke the writer's replay of a batched
 * create that finds the znode already there (create → NODE_EXISTS → setData
 * null) and the streaming of a change to null data. Null and empty data are
 * both written faithfully, in the session's order. One real ZooKeeper, two
 * chroots for the engine's source and target.
 */
import t from 'tap';
import { SyncEngine } from '../../runtime/sync/engine';
import { SyncError } from '../../runtime/sync/errors';
import { applyWrites } from '../../runtime/sync/writer';
import { ZkClient } from '../../runtime/sync/zk/client';
import { OPEN_ACL, type WriteOp } from '../../runtime/sync/zk/types';
import { startEnsemble, zookeeperSkipReason, type ZkEnsemble } from '../helpers/zookeeper';

t.test('null and empty data through setData, the writer replay and streaming', { skip: zookeeperSkipReason() }, async (t) => {
  const zk: ZkEnsemble = await startEnsemble(1);
  t.teardown(() => zk.stop());
  const c = await ZkClient.connect({ connect: zk.connectString, label: 'test' });
  t.teardown(() => c.close());

  t.test('setData sends null as null and empty as empty', async (t) => {
    await c.create('/sd', Buffer.from('something'), OPEN_ACL, 0);
    const st = await c.setData('/sd', null, -1);
    t.equal(st.version, 1, 'the Stat of the write');
    t.equal(st.dataLength, 0);
    t.equal((await c.getData('/sd')).data, null, 'null stays null');
    await c.setData('/sd', Buffer.alloc(0), 1);
    const empty = (await c.getData('/sd')).data;
    t.ok(Buffer.isBuffer(empty) && empty.length === 0, 'empty stays empty (not null)');
    await c.setData('/sd', Buffer.from([0, 255]), 2);
    t.same((await c.getData('/sd')).data, Buffer.from([0, 255]));
    const bad = await c.setData('/sd', null, 0).catch((e: unknown) => e);
    t.equal((bad as SyncError).code, 'ZK_BAD_VERSION', 'conditional on the version');
    const none = await c.setData('/sd/none', null, -1).catch((e: unknown) => e);
    t.equal((none as SyncError).code, 'ZK_NO_NODE');
    const big = await c.setData('/sd', Buffer.alloc(1024 * 1024 + 1), -1).catch((e: unknown) => e);
    t.equal((big as SyncError).code, 'ZK_REQUEST_TOO_LARGE');
  });

  t.test('setData and library requests issued in one tick reach the server in order', async (t) => {
    await c.create('/ord', Buffer.from('a'), OPEN_ACL, 0);
    const set = c.setData('/ord', null, -1);
    const del = c.delete('/ord', -1);
    const create = c.create('/ord', Buffer.from('again'), OPEN_ACL, 0);
    const set2 = c.setData('/ord', Buffer.alloc(0), 0);
    await Promise.all([set, del, create, set2]);
    const d = (await c.getData('/ord')).data;
    t.ok(Buffer.isBuffer(d) && d.length === 0, 'set, delete, create, set applied in that order');
  });

  t.test('a batched create that finds the znode already there converges with null and empty data', async (t) => {
    await c.create('/rp', null, OPEN_ACL, 0);
    await c.create('/rp/null', Buffer.from('old'), OPEN_ACL, 0);
    await c.create('/rp/empty', Buffer.from('old'), OPEN_ACL, 0);
    await c.create('/rp/alone', Buffer.from('old'), OPEN_ACL, 0);
    const ops: WriteOp[] = [
      { op: 'create', path: '/rp/a', data: Buffer.from('a'), acl: OPEN_ACL, mode: 0 },
      { op: 'create', path: '/rp/null', data: null, acl: OPEN_ACL, mode: 0 }, // exists: the multi fails, replayed one by one
      { op: 'create', path: '/rp/empty', data: Buffer.alloc(0), acl: OPEN_ACL, mode: 0 },
      { op: 'create', path: '/rp/b', data: null, acl: OPEN_ACL, mode: 0 },
    ];
    const errors: string[] = [];
    const r = await applyWrites(c, ops, { onError: (op, e) => errors.push(`${op.path}: ${e.message}`) });
    t.same(r.failed, [], 'no op failed');
    t.same(errors, []);
    t.equal(r.applied, ops.length);
    t.equal((await c.getData('/rp/null')).data, null, 'the existing znode now holds null');
    const empty = (await c.getData('/rp/empty')).data;
    t.ok(Buffer.isBuffer(empty) && empty.length === 0, 'the existing znode now holds empty data');
    t.same((await c.getData('/rp/a')).data, Buffer.from('a'));
    t.equal((await c.getData('/rp/b')).data, null);
    // A batch of one op goes straight to the one-by-one path.
    const one = await applyWrites(c, [{ op: 'create', path: '/rp/alone', data: null, acl: OPEN_ACL, mode: 0 }]);
    t.same(one.failed, []);
    t.equal((await c.getData('/rp/alone')).data, null);
  });

  t.test('one-way streaming copies a change to null and to empty data', async (t) => {
    await c.create('/src', null, OPEN_ACL, 0);
    await c.create('/dst', null, OPEN_ACL, 0);
    await c.create('/src/x', Buffer.from('x'), OPEN_ACL, 0);
    const src = await ZkClient.connect({ connect: `${zk.connectString}/src`, label: 'src' });
    const dst = await ZkClient.connect({ connect: `${zk.connectString}/dst`, label: 'dst' });
    t.teardown(() => Promise.all([src.close(), dst.close()]));
    const engine = new SyncEngine({
      source: { connect: `${zk.connectString}/src` },
      target: { connect: `${zk.connectString}/dst` },
      mode: 'one-way',
      conflicts: 'source-wins',
      ephemerals: 'skip',
      sessionTimeoutMs: 4000,
    });
    t.teardown(() => engine.stop());
    await engine.start();
    t.same((await dst.getData('/x')).data, Buffer.from('x'), 'snapshot copied');
    const until = async (cond: () => Promise<boolean>): Promise<boolean> => {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        if (await cond()) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    };
    await src.setData('/x', null, -1);
    t.ok(await until(async () => (await dst.getData('/x')).data === null), 'null streamed');
    await src.setData('/x', Buffer.alloc(0), -1);
    t.ok(await until(async () => (await dst.getData('/x')).data?.length === 0), 'empty streamed');
    t.ok(await engine.waitIdle(10_000));
    t.same(engine.status().errors, {}, 'no sync error');
    t.match(await engine.metrics.registry.metrics(), /zk_sync_errors_total\{kind="SYNC_USAGE"\} 0\n/);
  });
});
