/**
 * Our extensions and guards around node-zookeeper-client, against a real
 * ZooKeeper 3.8: persistent recursive watches (addWatch), the request-id wrap,
 * the oversize-request guard, conditional multi writes on version 0, the tree
 * walk below the first level, and connection errors with clear codes.
 */
import t from 'tap';
import { toBatches, opBytes } from '../../runtime/sync/batches';
import { SyncError } from '../../runtime/sync/errors';
import { readTree } from '../../runtime/sync/tree-walk';
import { ZkClient } from '../../runtime/sync/zk/client';
import { MAX_XID } from '../../runtime/sync/zk/guards';
import { decodeNotification } from '../../runtime/sync/zk/io';
import { OPEN_ACL, CreateMode, type WatchEvent, type WriteOp } from '../../runtime/sync/zk/types';
import { freePorts, startEnsemble, zookeeperSkipReason, type ZkEnsemble } from '../helpers/zookeeper';

const skip = zookeeperSkipReason();
const waitFor = async (cond: () => boolean, timeoutMs: number, what: string): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

t.test('batches stay below the byte and op caps, in order', async (t) => {
  const ops: WriteOp[] = Array.from({ length: 1000 }, (_, i) => ({ op: 'create', path: `/n${i}`, data: Buffer.alloc(i % 7 === 0 ? 300_000 : 100), acl: OPEN_ACL, mode: 0 }));
  const batches = toBatches(ops, 512 * 1024, 200);
  t.same(batches.flat(), ops, 'every op once, in order');
  t.ok(batches.every((b) => b.length <= 200), 'at most 200 ops each');
  t.ok(batches.every((b) => b.length === 1 || b.reduce((n, o) => n + opBytes(o), 0) <= 512 * 1024), 'at most 512 KiB each, unless one op alone');
});

t.test('notification frames are decoded as the library would, chroot removed', async (t) => {
  const frame = (path: string): Buffer => {
    const p = Buffer.from(path);
    const b = Buffer.alloc(32 + p.length);
    b.writeInt32BE(b.length - 4, 0);
    b.writeInt32BE(-1, 4); // xid: notification
    b.writeBigInt64BE(-1n, 8);
    b.writeInt32BE(0, 16);
    b.writeInt32BE(3, 20); // NodeDataChanged
    b.writeInt32BE(3, 24); // SyncConnected
    b.writeInt32BE(p.length, 28);
    p.copy(b, 32);
    return b;
  };
  t.same(decodeNotification(frame('/a/b'), undefined), { type: 3, state: 3, path: '/a/b' });
  t.same(decodeNotification(frame('/chr/a/b'), '/chr'), { type: 3, state: 3, path: '/a/b' });
  t.same(decodeNotification(frame('/chr'), '/chr'), { type: 3, state: 3, path: '/' });
  t.equal(decodeNotification(frame('/a').subarray(0, 30), undefined), undefined, 'truncated: left to the library');
});

t.test('against a real ZooKeeper', { skip }, async (t) => {
  const zk: ZkEnsemble = await startEnsemble(1);
  t.teardown(() => zk.stop());
  const c = await ZkClient.connect({ connect: zk.connectString, label: 'test' });
  t.teardown(() => c.close());

  t.test('persistent recursive watch sees creates, changes and deletes at any depth', async (t) => {
    await c.create('/w', null, OPEN_ACL, CreateMode.PERSISTENT);
    const events: WatchEvent[] = [];
    c.on('watch', (e) => events.push(e));
    await c.addPersistentRecursiveWatch('/w');
    await c.create('/w/a', Buffer.from('1'), OPEN_ACL, CreateMode.PERSISTENT);
    await c.create('/w/a/b', Buffer.from('2'), OPEN_ACL, CreateMode.PERSISTENT);
    await c.setData('/w/a/b', Buffer.from('3'), -1);
    await c.setData('/w/a/b', Buffer.from('4'), -1); // no re-arm needed
    await c.delete('/w/a/b', -1);
    await waitFor(() => events.length >= 5, 5000, 'five events');
    t.same(
      events.map((e) => `${e.type} ${e.path}`),
      ['created /w/a', 'created /w/a/b', 'dataChanged /w/a/b', 'dataChanged /w/a/b', 'deleted /w/a/b'],
    );
  });

  t.test('addWatch paths are relative to the chroot', async (t) => {
    await c.create('/chr', null, OPEN_ACL, 0);
    const cc = await ZkClient.connect({ connect: `${zk.connectString}/chr`, label: 'chroot' });
    t.teardown(() => cc.close());
    const events: WatchEvent[] = [];
    cc.on('watch', (e) => events.push(e));
    await cc.addPersistentRecursiveWatch('/');
    await c.create('/chr/x', null, OPEN_ACL, 0);
    await waitFor(() => events.length >= 1, 5000, 'event');
    t.same(events.map((e) => `${e.type} ${e.path}`), ['created /x']);
  });

  t.test('a version-0 conditional delete in a multi stays conditional', async (t) => {
    await c.create('/v0', Buffer.from('a'), OPEN_ACL, 0);
    await c.setData('/v0', Buffer.from('b'), -1); // now version 1
    const err = await c.multi([{ op: 'delete', path: '/v0', version: 0 }, { op: 'check', path: '/', version: -1 }]).catch((e: unknown) => e);
    t.type(err, SyncError);
    t.equal((err as SyncError).code, 'ZK_BAD_VERSION');
    t.equal((err as SyncError).details.index, 0);
    t.not(await c.exists('/v0'), null, 'not deleted');
  });

  t.test('an oversize request is refused alone; requests in flight survive', async (t) => {
    await c.create('/big', null, OPEN_ACL, 0);
    const ok = Array.from({ length: 20 }, (_, i) => c.create(`/big/n${i}`, Buffer.alloc(10), OPEN_ACL, 0));
    // Exactly 1 MiB of data passes the library's own check, but with the path
    // and headers the packet is over jute.maxbuffer: the server would drop the
    // connection and fail all 40 creates around it.
    const tooBig = c.setData('/big', Buffer.alloc(1024 * 1024), -1).catch((e: unknown) => e);
    const wayTooBig = await c.setData('/big', Buffer.alloc(1024 * 1024 + 1), -1).catch((e: unknown) => e);
    t.equal((wayTooBig as SyncError).code, 'ZK_REQUEST_TOO_LARGE');
    const more = Array.from({ length: 20 }, (_, i) => c.create(`/big/m${i}`, Buffer.alloc(10), OPEN_ACL, 0));
    const err = await tooBig;
    t.equal((err as SyncError).code, 'ZK_REQUEST_TOO_LARGE');
    t.equal((await Promise.all([...ok, ...more])).length, 40, 'all others succeed');
    // Data just under the limit is accepted by the server.
    const near = Buffer.alloc(1024 * 1024 - 200, 7);
    await c.setData('/big', near, -1);
    t.equal((await c.getData('/big')).data?.length, near.length);
  });

  t.test('request ids wrap below 2^31 instead of breaking the session', async (t) => {
    const cm = (c as unknown as { client: { connectionManager: { xid: number } } }).client.connectionManager;
    cm.xid = MAX_XID - 2;
    for (let i = 0; i < 6; i++) await c.exists('/');
    t.ok(cm.xid < 10, `xid wrapped (${cm.xid})`);
  });

  t.test('the walk reads every level (the library sees only the first)', async (t) => {
    const ops: WriteOp[] = [{ op: 'create', path: '/deep', data: null, acl: OPEN_ACL, mode: 0 }];
    for (let a = 0; a < 5; a++) {
      ops.push({ op: 'create', path: `/deep/${a}`, data: null, acl: OPEN_ACL, mode: 0 });
      for (let b = 0; b < 5; b++) {
        ops.push({ op: 'create', path: `/deep/${a}/${b}`, data: null, acl: OPEN_ACL, mode: 0 });
        for (let d = 0; d < 4; d++) ops.push({ op: 'create', path: `/deep/${a}/${b}/${d}`, data: Buffer.from([a, b, d]), acl: OPEN_ACL, mode: 0 });
      }
    }
    await c.multi(ops);
    const tree = await readTree(c, '/deep', { concurrency: 7 });
    t.equal(tree.size, ops.length);
    t.same(tree.get('/deep/4/3/2')?.data, Buffer.from([4, 3, 2]));
    t.same(tree.get('/deep/1')?.children, ['0', '1', '2', '3', '4']);
  });

  t.test('bad input gives a clear error code', async (t) => {
    const [port] = await freePorts(1);
    const unreachable = await ZkClient.connect({ connect: `127.0.0.1:${port!}`, label: 'source', connectTimeoutMs: 1500 }).catch((e: unknown) => e);
    t.equal((unreachable as SyncError).code, 'ZK_UNREACHABLE');
    t.match((unreachable as Error).message, /source ensemble .* did not answer/);
    const chroot = await ZkClient.connect({ connect: `${zk.connectString}/no/such/chroot`, label: 'target' }).catch((e: unknown) => e);
    t.equal((chroot as SyncError).code, 'ZK_CHROOT_MISSING');
    const auth = await ZkClient.connect({ connect: zk.connectString, label: 'source', auth: [{ scheme: 'nosuchscheme', auth: 'x' }] }).catch((e: unknown) => e);
    t.equal((auth as SyncError).code, 'ZK_AUTH_FAILED');
  });
});
