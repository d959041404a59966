/**
 * Every pod of dist/ that talks to the platform's ZooKeeper does so through loopback TLS
 * tunnels (lib/zookeeper-tunnel.ts): one ghostunnel client per member, listening on
 * 127.0.0.1 only, targeting that member's stable name on the secure client port with the pod's
 * certificate, and hardened like every restricted container. No Service or container exposes
 * ZooKeeper's plain port, and no client is given a connect string to it.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import t from 'tap';
import { ENVIRONMENTS } from '../../constructs/environments';
import { ZOOKEEPER_TUNNEL_CONTAINER, ZOOKEEPER_TUNNEL_TLS_DIR } from '../../constructs/lib/zookeeper-tunnel';
import { ZOOKEEPER_PORTS } from '../../constructs/zookeeper';
import { type K8sObject, distObjects, findObject } from '../lib/platform';

const WORKLOADS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'];

for (const env of Object.values(ENVIRONMENTS)) {
  t.test(`${env.name}: ZooKeeper's clients reach it through loopback TLS sidecars only`, async (t) => {
    const objects = distObjects(env.name);
    const zk = findObject(objects, 'StatefulSet', 'zookeeper') as any;
    const members: string[] = Array.from({ length: zk.spec.replicas }, (_, i) => `zookeeper-${i}.zookeeper-headless.${env.namespace}.svc.${env.clusterDomain}`);
    const loopback = members.map((_, i) => `127.0.0.1:${2181 + i}`).join(',');
    const mentionsZk = (o: K8sObject) => /zookeeper|:2181|:2281/.test(JSON.stringify((o as any).spec.template.spec.containers.filter((c: any) => !c.name.startsWith(ZOOKEEPER_TUNNEL_CONTAINER))));
    const clients = objects.filter((o) => WORKLOADS.includes(o.kind) && o.metadata.name !== 'zookeeper' && mentionsZk(o));
    const expected = ['marathon', 'mesos-agent', 'mesos-master', ...env.zkSync.migrations.map((m) => `zk-sync-${m.name}`)].sort();
    t.same(clients.map((o) => o.metadata.name).sort(), expected, 'the pods that name ZooKeeper');

    for (const o of clients) {
      const spec = (o as any).spec.template.spec;
      const tunnels = spec.containers.filter((c: any) => c.name.startsWith(ZOOKEEPER_TUNNEL_CONTAINER));
      t.equal(tunnels.length, members.length, `${o.metadata.name}: one tunnel per member`);
      tunnels.forEach((c: any, i: number) => {
        const w = `${o.metadata.name}/${c.name}`;
        t.match(c.image, /^docker\.io\/ghostunnel\/ghostunnel:v\d+\.\d+\.\d+-distroless$/, `${w}: pinned ghostunnel image`);
        t.equal(c.args[0], 'client', `${w}: client mode`);
        t.ok(c.args.includes(`--listen=127.0.0.1:${2181 + i}`), `${w}: listens on loopback only`);
        t.notOk(c.args.includes('--unsafe-listen'), `${w}: never off loopback`);
        t.ok(c.args.includes(`--target=${members[i]}:${ZOOKEEPER_PORTS.secureClient}`), `${w}: targets its member's secure port by name (verified against the certificate)`);
        for (const f of ['tls.crt', 'tls.key', 'ca.crt']) t.ok(c.args.some((a: string) => a.endsWith(`${ZOOKEEPER_TUNNEL_TLS_DIR}/${f}`)), `${w}: uses the pod's ${f}`);
        t.notOk(c.args.includes('--disable-authentication'), `${w}: presents its certificate`);
        const mount = c.volumeMounts.find((m: any) => m.mountPath === ZOOKEEPER_TUNNEL_TLS_DIR);
        const volume = spec.volumes.find((v: any) => v.name === mount?.name);
        t.ok(volume?.secret && ['tls.crt', 'tls.key', 'ca.crt'].every((k) => volume.secret.items.some((it: any) => it.key === k)), `${w}: mounts a certificate Secret with tls.crt, tls.key and ca.crt`);
        t.ok(objects.some((x) => x.kind === 'Certificate' && x.metadata.namespace === o.metadata.namespace && (x as any).spec.secretName === volume?.secret?.secretName
          && (x as any).spec.usages.includes('client auth')), `${w}: the Secret is a cert-manager Certificate with client auth`);
        const sc = c.securityContext;
        t.ok(sc.readOnlyRootFilesystem && sc.allowPrivilegeEscalation === false && sc.runAsNonRoot && sc.capabilities.drop.includes('ALL') && sc.seccompProfile.type === 'RuntimeDefault', `${w}: restricted security context`);
        t.ok(spec.securityContext?.fsGroup !== undefined, `${w}: the pod's fsGroup lets the non-root tunnel read the Secret`);
        t.ok(c.resources.requests.cpu && c.resources.limits.memory, `${w}: requests and limits`);
      });
      const text = JSON.stringify(spec.containers.filter((c: any) => !c.name.startsWith(ZOOKEEPER_TUNNEL_CONTAINER)));
      t.ok(text.includes(loopback), `${o.metadata.name}: its connect string is the loopback tunnels`);
      t.notOk(/zookeeper[^"]*:2181|zookeeper[^"]*:2281/.test(text), `${o.metadata.name}: no direct connect string to the ensemble`);
    }

    const servicePorts = objects.filter((o) => o.kind === 'Service' && o.metadata.name.startsWith('zookeeper')).flatMap((s: any) => s.spec.ports.map((p: any) => p.port));
    t.notOk(servicePorts.includes(ZOOKEEPER_PORTS.client), 'no ZooKeeper Service exposes the plain port');
    t.notOk(zk.spec.template.spec.containers[0].ports.some((p: any) => p.containerPort === ZOOKEEPER_PORTS.client), 'nor does the container declare it');
    const cfg: string = findObject(objects, 'ConfigMap', 'zookeeper-config').data!['zoo.cfg']!;
    t.ok(cfg.includes('\nclientPortAddress=127.0.0.1\n') && cfg.includes('\nssl.clientAuth=need\n'), 'plain port on loopback; the secure port requires a client certificate');
  });
}
