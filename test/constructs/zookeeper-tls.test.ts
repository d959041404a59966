/**
 * The ZooKeeper TLS settings of dist/ work on a real ZooKeeper 3.8 (Debian's package, three
 * JVMs on loopback): the TLS lines are taken verbatim from the zoo.cfg in dist/prod (only the
 * in-container paths and ports are rewritten), with a key store in cert-manager's CombinedPEM
 * layout (PKCS#8 key, then the certificate) and the CA as the PEM trust store.
 * - the quorum forms (sslQuorum=true: members reach each other over TLS only);
 * - the election port speaks TLS, presents a certificate from the CA, and refuses a peer
 *   without a client certificate;
 * - the secure client port speaks TLS with the same certificate, requires a client certificate
 *   from the platform CA (ssl.clientAuth=need, as the loopback ghostunnel sidecars present) and
 *   answers `ruok` to such a client; a client without one, or with one from another CA, is refused;
 * - the plain client port listens on loopback only (clientPortAddress from dist/), for the
 *   members' exec probes.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import t from 'tap';
import { ZOOKEEPER_TLS_DIR } from '../../constructs/zookeeper';
import { ZkEnsemble, ZkServer, fourLetter, freePorts, zookeeperSkipReason } from '../helpers/zookeeper';
import { distObjects, findObject } from '../lib/platform';

const skip = zookeeperSkipReason();

/** A CA and a member certificate for 127.0.0.1, as cert-manager would write them. */
function certificates(dir: string, name: string): { ca: string; combined: string; key: string; cert: string } {
  const f = (n: string) => join(dir, `${name}-${n}`);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', `/CN=${name} CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', f('tls.key')]); // PKCS#8, as the Certificates ask
  run(['req', '-new', '-key', f('tls.key'), '-out', f('tls.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(f('ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
  run(['x509', '-req', '-in', f('tls.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('tls.crt'), '-days', '1', '-extfile', f('ext')]);
  writeFileSync(f('tls-combined.pem'), readFileSync(f('tls.key'), 'utf8') + readFileSync(f('tls.crt'), 'utf8'));
  return { ca: f('ca.crt'), combined: f('tls-combined.pem'), key: f('tls.key'), cert: f('tls.crt') };
}

/** Opens a TLS connection; resolves with whether the server's certificate verified, or rejects with the error. */
function handshake(port: number, opts: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...opts }, () => resolve(s));
    s.once('error', reject);
    s.setTimeout(5000, () => { s.destroy(); reject(new Error('timeout')); });
  });
}

t.test('ZooKeeper with the TLS settings of dist/: TLS quorum, mutual-TLS client port, plain port on loopback', { skip }, async (t) => {
  const cfg = findObject(distObjects('prod'), 'ConfigMap', 'zookeeper-config').data!['zoo.cfg']!;
  const tlsLines = cfg.split('\n').filter((l) => /^(serverCnxnFactory|secureClientPort|sslQuorum|ssl\.|client\.certReload|authProvider\.x509)/.test(l));
  t.ok(cfg.split('\n').includes('clientPortAddress=127.0.0.1'), 'dist/ binds the plain client port to loopback only');
  t.ok(tlsLines.includes('ssl.clientAuth=need'), 'dist/ requires a client certificate on the secure client port');
  t.notOk(/^server\.\d+=.*;/m.test(cfg), 'dist/\'s server lines bind no client port of their own');
  t.ok(tlsLines.includes('sslQuorum=true') && tlsLines.some((l) => l.startsWith('secureClientPort=')), 'dist/ enables quorum TLS and a secure client port');

  const root = mkdtempSync(join(tmpdir(), 'zk-tls-'));
  const certs = certificates(root, 'platform');
  const other = certificates(root, 'other');
  const ports = await freePorts(12);
  const servers: ZkServer[] = [];
  for (let i = 0; i < 3; i++) {
    // Per member: plain client, quorum, election and secure client ports.
    const [client, , , secure] = ports.slice(i * 4, i * 4 + 4) as [number, number, number, number];
    const lines = [
      'tickTime=500', 'initLimit=20', 'syncLimit=10', 'admin.enableServer=false', '4lw.commands.whitelist=ruok,srvr',
      `dataDir=${join(root, `s${i + 1}`, 'data')}`, `clientPort=${client}`, 'clientPortAddress=127.0.0.1',
      ...tlsLines.map((l) => l
        .replace(/^secureClientPort=.*/, `secureClientPort=${secure}`)
        .replace(`${ZOOKEEPER_TLS_DIR}/tls-combined.pem`, certs.combined)
        .replace(`${ZOOKEEPER_TLS_DIR}/ca.crt`, certs.ca)),
      ...[0, 1, 2].map((j) => `server.${j + 1}=127.0.0.1:${ports[j * 4 + 1]}:${ports[j * 4 + 2]}`),
    ];
    servers.push(new ZkServer(i + 1, join(root, `s${i + 1}`), client, lines.join('\n') + '\n', '192m'));
  }
  const ensemble = new ZkEnsemble(servers, root);
  t.teardown(() => ensemble.stop());
  for (const s of servers) s.start();
  await Promise.all(servers.map((s) => s.waitReady(60_000)));
  const modes = await Promise.all(servers.map((s) => fourLetter(s.clientPort, 'srvr')));
  t.same(modes.map((m) => /Mode: (\w+)/.exec(m)?.[1]).sort(), ['follower', 'follower', 'leader'], 'the quorum formed over TLS');
  t.equal(await fourLetter(servers[0]!.clientPort, 'ruok'), 'imok', 'the plain client port answers on loopback (the exec probes)');

  const election = ports[2]!;
  const peer = await handshake(election, { ca: readFileSync(certs.ca), cert: readFileSync(certs.cert), key: readFileSync(certs.key) });
  t.ok(peer.authorized, 'the election port presents a certificate from the platform CA (verified, name 127.0.0.1)');
  peer.destroy();
  const stranger = await handshake(election, { ca: readFileSync(certs.ca) }).then((s) => new Promise<string>((resolve) => {
    // TLS 1.3 reports a refused client certificate after the handshake, as an error or a close.
    s.once('error', (e) => resolve(e.message));
    s.once('close', () => resolve('closed'));
    s.write('x');
  }), (e: Error) => e.message);
  t.ok(stranger, `a peer without a client certificate is refused (${stranger})`);
  await t.rejects(handshake(election, { ca: readFileSync(other.ca), cert: readFileSync(certs.cert), key: readFileSync(certs.key) }), /self.signed|unable to verify|certificate/i,
    'a client trusting another CA does not accept the member');

  const secure = ports[3]!;
  const client = await handshake(secure, { ca: readFileSync(certs.ca), cert: readFileSync(certs.cert), key: readFileSync(certs.key) });
  t.ok(client.authorized, 'the secure client port presents the member certificate, verified against the CA');
  const answer = await new Promise<string>((resolve) => {
    let out = '';
    client.on('data', (b) => (out += String(b)));
    client.on('close', () => resolve(out));
    client.on('error', () => resolve(out));
    client.write('ruok');
  });
  t.equal(answer.trim(), 'imok', 'and answers over TLS');

  const refused = (opts: tls.ConnectionOptions) => handshake(secure, opts).then((s) => new Promise<string>((resolve) => {
    // A refused client certificate shows after the handshake under TLS 1.3: no answer, then a close or an error.
    let out = '';
    s.on('data', (b) => (out += String(b)));
    s.once('error', (e) => resolve(out || e.message));
    s.once('close', () => resolve(out || 'closed'));
    s.write('ruok');
  }), (e: Error) => e.message);
  const anonymous = await refused({ ca: readFileSync(certs.ca) });
  t.not(anonymous.trim(), 'imok', `a client without a certificate gets no answer (${anonymous})`);
  const foreign = certificates(root, 'foreign');
  const stranger2 = await refused({ ca: readFileSync(certs.ca), cert: readFileSync(foreign.cert), key: readFileSync(foreign.key) });
  t.not(stranger2.trim(), 'imok', `a client with a certificate from another CA gets no answer (${stranger2})`);
});
