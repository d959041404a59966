/**
 * A connection whose handshake is never answered is dropped, as one that stops answering
 * after the handshake is. node-zookeeper-client clears its connect timer once TCP is up and then
 * waits for the ConnectResponse for ever; a member that is starting can take the connection and
 * never answer it. Real ZooKeeper 3.8; between its stop and its start the port is held by a
 * listener that accepts connections and never writes (what such a member looks like on the wire).
 */
import net from 'node:net';
import t from 'tap';
import { ZkClient } from '../../runtime/sync/zk/client';
import { startEnsemble, zookeeperSkipReason } from '../helpers/zookeeper';

const SESSION_TIMEOUT_MS = 6000;

t.test('a handshake nobody answers is dropped, and the client reaches the member once it is back', { skip: zookeeperSkipReason() }, async (t) => {
  const ens = await startEnsemble(1);
  t.teardown(() => ens.stop());
  const member = ens.servers[0]!;
  const client = await ZkClient.connect({ connect: ens.connectString, label: 'handshake', sessionTimeoutMs: SESSION_TIMEOUT_MS });
  t.teardown(() => client.close());
  t.equal(client.state, 'connected');

  await member.stop();
  // The silent member: takes the client's next connection and never answers it.
  const held: net.Socket[] = [];
  const silent = net.createServer((s) => {
    held.push(s);
    s.resume(); // reads and discards the ConnectRequest (unread, the client's FIN would never surface as 'close')
  });
  await new Promise<void>((resolve, reject) => {
    silent.once('error', reject);
    silent.listen(member.clientPort, '127.0.0.1', () => resolve());
  });
  t.teardown(() => held.forEach((s) => s.destroy()));
  const accepted = await new Promise<net.Socket | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), 10_000);
    silent.once('connection', (s) => {
      clearTimeout(timer);
      resolve(s);
    });
  });
  t.ok(accepted, 'the client connected to the silent member');
  // Stop accepting, so the real member can bind; the connection already taken stays open
  // (close's callback would wait for it, so it is not awaited).
  silent.close();

  const dropped = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), SESSION_TIMEOUT_MS * 2);
    accepted!.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  t.ok(dropped, `the client dropped the unanswered handshake (bound: 2/3 of the ${SESSION_TIMEOUT_MS} ms session timeout)`);

  member.start();
  await member.waitReady();
  const deadline = Date.now() + 20_000;
  while (client.state === 'disconnected' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.not(client.state, 'disconnected', `the client left the disconnected state once the member was back (${client.state})`);
});
