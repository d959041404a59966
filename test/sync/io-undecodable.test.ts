/**
 * A reply the ZooKeeper library cannot decode (an error code it does not know, seen as -12
 * when a session was closed under the engine) must not crash the process: the connection is
 * dropped instead, and the library reconnects. No server needed: the library's connection
 * manager is stood in for by the smallest object the framing layer drives.
 */
import t from 'tap';
import { installFraming, zkException } from '../../runtime/sync/zk/io';
import type { LibConnectionManager } from '../../runtime/sync/zk/library';

function reply(xid: number, err: number): Buffer {
  const b = Buffer.alloc(4 + 4 + 8 + 4);
  b.writeInt32BE(b.length - 4, 0);
  b.writeInt32BE(xid, 4);
  b.writeInt32BE(err, 16);
  return b;
}

t.test('an undecodable reply drops the connection instead of throwing', async (t) => {
  let destroyed = 0;
  const socket = { destroy: () => destroyed++ };
  const cm = {
    state: 2,
    socket,
    pendingQueue: [],
    onSocketData(): void {
      throw new Error('Unknown code: -12');
    },
  };
  installFraming(cm as unknown as LibConnectionManager);
  t.doesNotThrow(() => (cm as unknown as { onSocketData(b: Buffer): void }).onSocketData(reply(7, -12)));
  t.equal(destroyed, 1, 'the connection was dropped');
});

t.test('error codes the library does not know still become errors with the code', async (t) => {
  const e = zkException(-12) as Error & { code: number };
  t.type(e, Error);
  t.equal(e.code, -12);
  t.match(e.message, /-12/);
  t.match(String(zkException(-101)), /NO_NODE|no node/i, 'known codes keep the library\'s exception');
});
