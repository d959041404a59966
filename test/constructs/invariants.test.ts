/**
 * What the platform promises, checked on what the constructs synthesize: quorum sizes,
 * ZooKeeper's session timeout, disruption budgets, replica counts per environment, and that
 * values which would break those promises are refused at synth time with a useful message.
 */
import t from 'tap';
import { ENVIRONMENTS, dev, prod, staging } from '../../constructs/environments';
import { distObjects, findObject, synthObjects, withValue } from '../lib/platform';

function zooCfg(cfg: string): Record<string, string> {
  return Object.fromEntries(cfg.trim().split('\n').map((l) => {
    const i = l.indexOf('=');
    return [l.slice(0, i), l.slice(i + 1)];
  }));
}

for (const env of Object.values(ENVIRONMENTS)) {
  t.test(`${env.name}: ZooKeeper ensemble`, async (t) => {
    const objects = distObjects(env.name);
    const sts = findObject(objects, 'StatefulSet', 'zookeeper');
    const n = env.name === 'dev' ? 1 : 3;
    t.equal(sts.spec.replicas, n, `${n} members in ${env.name}`);
    t.equal(sts.spec.podManagementPolicy, 'Parallel', 'members start together so the quorum can form');
    const cfg = zooCfg(findObject(objects, 'ConfigMap', 'zookeeper-config').data!['zoo.cfg']!);
    t.equal(cfg.tickTime, '2000');
    t.equal(cfg.maxSessionTimeout, '60000', 'explicit 60 s maximum session timeout (the default would be 20 ticks = 40 s)');
    t.equal(cfg['4lw.commands.whitelist'], 'ruok,mntr,srvr');
    t.ok(Number(cfg['autopurge.purgeInterval']) > 0 && Number(cfg['autopurge.snapRetainCount']) >= 3, 'autopurge on');
    t.match(cfg['metricsProvider.className'], /PrometheusMetricsProvider/);
    const servers = Object.keys(cfg).filter((k) => k.startsWith('server.')).sort();
    t.same(servers, Array.from({ length: n }, (_, i) => `server.${i + 1}`), 'one server line per member, myid 1..n');
    t.match(sts.spec.template.spec.initContainers[0].command.join(' '), /HOSTNAME##\*-.*ordinal \+ 1.*\/data\/myid/, 'myid from the pod ordinal');
    const claims = sts.spec.volumeClaimTemplates.map((c: { metadata: { name: string } }) => c.metadata.name).sort();
    t.same(claims, ['data', 'datalog'], 'separate volumes for snapshots and the transaction log');
    const probe = sts.spec.template.spec.containers[0].readinessProbe.exec.command.join(' ');
    t.match(probe, /ruok/, 'readiness from ruok');
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === 'zookeeper');
    if (n > 1) t.equal(pdb?.spec.minAvailable, Math.floor(n / 2) + 1, 'PDB keeps a quorum');
    else t.equal(pdb, undefined, 'no PDB for a single member (it would block every drain)');
  });

  t.test(`${env.name}: Mesos masters`, async (t) => {
    const objects = distObjects(env.name);
    const sts = findObject(objects, 'StatefulSet', 'mesos-master');
    const n = env.mesosMaster.replicas;
    const envVars = Object.fromEntries(sts.spec.template.spec.containers[0].env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    t.equal(envVars.MESOS_QUORUM, String(Math.floor(n / 2) + 1), 'quorum = floor(n/2)+1');
    // The loopback ZooKeeper tunnels (lib/zookeeper-tunnel.ts): member i on 127.0.0.1:2181+i.
    t.equal(envVars.MESOS_ZK, `zk://${Array.from({ length: env.zookeeper.replicas }, (_, i) => `127.0.0.1:${2181 + i}`).join(',')}/mesos`);
    t.equal(envVars.MESOS_ZK.split(',').length, env.zookeeper.replicas, 'every ZooKeeper member listed');
    t.equal(envVars.MESOS_REGISTRY, 'replicated_log');
    t.equal(envVars.MESOS_AUTHENTICATE_FRAMEWORKS, env.mesosAuth.enabled ? 'true' : undefined, 'SASL per environment');
    if (n > 1) t.equal(findObject(objects, 'PodDisruptionBudget', 'mesos-master').spec.minAvailable, 2, 'minAvailable 2 for 3 masters');
  });

  t.test(`${env.name}: Mesos agents and Marathon`, async (t) => {
    const objects = distObjects(env.name);
    const ds = findObject(objects, 'DaemonSet', 'mesos-agent');
    t.equal(ds.metadata.namespace, env.hostNamespace, 'agents live in the privileged host namespace');
    const agent = ds.spec.template.spec.containers[0];
    const envVars = Object.fromEntries(agent.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    t.equal(envVars.MESOS_CONTAINERIZERS, 'docker,mesos');
    t.equal(envVars.MESOS_ISOLATION, env.mesosAgent.isolation === 'posix' ? 'posix/cpu,posix/mem' : 'cgroups/cpu,cgroups/mem,filesystem/linux,docker/runtime');
    t.match(envVars.MESOS_RESOURCES, /^cpus:\d+;mem:\d+;disk:\d+;ports:\[\d+-\d+\]$/);
    t.equal(agent.securityContext.privileged, true);
    t.equal(ds.spec.template.spec.hostPID, true);
    const marathon = findObject(objects, 'Deployment', 'marathon');
    t.equal(marathon.spec.replicas, env.marathon.replicas);
    const args: string[] = marathon.spec.template.spec.containers[0].args;
    t.match(args[args.indexOf('--master') + 1], /^zk:\/\/.*\/mesos$/);
    t.match(args[args.indexOf('--zk') + 1], /^zk:\/\/.*\/marathon$/);
  });
}

t.test('replica counts per environment', async (t) => {
  t.same([dev.zookeeper.replicas, staging.zookeeper.replicas, prod.zookeeper.replicas], [1, 3, 3]);
  t.same([dev.mesosMaster.replicas, staging.mesosMaster.replicas, prod.mesosMaster.replicas], [1, 3, 3]);
  t.same([dev.marathon.replicas, staging.marathon.replicas, prod.marathon.replicas], [1, 3, 3]);
});

t.test('values that would break a promise are refused with a message saying what to change', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['zookeeper.replicas', 4, /zookeeper\.replicas must be an odd number/],
    ['mesosMaster.replicas', 2, /mesosMaster\.replicas must be an odd number/],
    ['zookeeper.heapMegabytes', 4000, /heapMegabytes .* under 80% of memoryLimit/],
    ['zookeeper.maxSessionTimeoutMs', 1000, /at least 2 ticks/],
    ['marathon.resources', { cpuRequest: '2', cpuLimit: '1', memoryRequest: '1Gi', memoryLimit: '4Gi' }, /cpuLimit 1 is below cpuRequest 2/],
    ['images.zookeeper', { repository: 'zookeeper', tag: 'latest' }, /pinned by an exact tag/],
    ['mesosAgent.advertised.portRange', [32000, 31000], /ascending range/],
    ['mesosMaster.allocationInterval', '1 second', /Mesos duration/],
    ['zookeeper.resources', { cpuRequest: '1', cpuLimit: '2', memoryRequest: 'lots', memoryLimit: '4Gi' }, /"lots" is not a resource quantity/],
  ];
  for (const [path, value, message] of cases) {
    t.throws(() => synthObjects(withValue(prod, path, value)), message, `${path} = ${JSON.stringify(value)}`);
  }
  t.doesNotThrow(() => synthObjects(withValue(prod, 'zookeeper.replicas', 5)), 'five members are fine');
  const five = synthObjects(withValue(prod, 'zookeeper.replicas', 5));
  t.equal(findObject(five, 'PodDisruptionBudget', 'zookeeper').spec.minAvailable, 3, 'quorum of five is three');
});

t.test('site values (operator inputs) are refused at synth time when missing or malformed, naming the field to set', async (t) => {
  t.throws(() => synthObjects(withValue(prod, 'network.nodeCidrs', [])), /environments\.ts prod\.network\.nodeCidrs is \[\]: set at least one address range/);
  t.throws(() => synthObjects(withValue(prod, 'network.apiServerCidrs', ['10.30.255.1'])), /prod\.network\.apiServerCidrs is "10\.30\.255\.1": set address ranges in CIDR notation/);
  t.throws(() => synthObjects(withValue(staging, 'gitops.destinationServer', 'staging-cluster')), /staging\.gitops\.destinationServer .*set the https:\/\/ URL of this environment's Kubernetes API server/);
  t.throws(() => synthObjects(withValue(prod, 'app.host', 'monitor.elsewhere.org')), /prod\.app\.host is "monitor\.elsewhere\.org": set a DNS name under orchestrator\.example\.com/);
  t.throws(() => synthObjects(withValue(dev, 'domain', '')), /dev\.domain is "": set the DNS domain/);
  t.throws(() => synthObjects(withValue(prod, 'images.orchestrator', { repository: 'ghcr.io/Orchestrator:1', tag: '1' })), /images\.orchestrator\.repository .*registry\/path/);
  t.throws(() => synthObjects(withValue(prod, 'zkSync.migrations', [{ ...prod.zkSync.migrations[0]!, externalCidrs: ['10.50.0.0/33'] }])), /externalCidrs is "10\.50\.0\.0\/33"/);
});

t.test('TLS values: every service certificate comes from the environment\'s CA issuer', async (t) => {
  const certs = distObjects('prod').filter((o) => o.kind === 'Certificate');
  const secrets = certs.map((c) => c.spec.secretName).sort();
  t.same(secrets, ['grafana-internal-tls', 'marathon-tls', 'mesos-agent-tls', 'mesos-master-tls', 'monitoring-app-internal-tls', 'orchestrator-prod-ca', 'platform-ca', 'platform-ca', 'zk-sync-tls', 'zookeeper-tls'].sort());
  for (const c of certs.filter((x) => !x.spec.isCA)) {
    t.same(c.spec.issuerRef, { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'orchestrator-prod-ca' }, `${c.metadata.name} from the CA issuer`);
    t.equal(c.spec.privateKey.encoding, 'PKCS8', `${c.metadata.name}: PKCS#8 (ZooKeeper's PEM loader reads no other)`);
  }
  const zk = certs.find((c) => c.metadata.name === 'zookeeper-tls')!;
  t.same(zk.spec.additionalOutputFormats, [{ type: 'CombinedPEM' }], 'ZooKeeper gets the one-file PEM key store');
  t.ok(prod.zookeeper.replicas === 3 && [0, 1, 2].every((i) => zk.spec.dnsNames.includes(`zookeeper-${i}.zookeeper-headless.orchestrator-prod.svc.cluster.local`)), 'every member\'s name');
  const marathon = certs.find((c) => c.metadata.name === 'marathon-tls')!;
  t.same(marathon.spec.keystores, { jks: { create: true, passwordSecretRef: { name: prod.tls.keystorePasswordSecret, key: 'password' } } });
});
