/**
 * The Kubernetes collector against a FAKE API server: there is no Kubernetes
 * here. The fake follows the documented shapes of the real API: PodList and
 * ServiceList with metadata.resourceVersion; Pods with ownerReferences to a
 * ReplicaSet whose own ownerReference is a Deployment; `?watch=1` answered as
 * a stream of JSON lines {type: ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, object},
 * ERROR carrying a Status with code 410 when the resourceVersion is too old.
 */
import { createServer, type ServerResponse } from 'node:http';
import t from 'tap';
import { controllerNodeId, hostNodeId, podNodeId, serviceNodeId } from '../../runtime/report';
import { inClusterAccess, KubernetesCollector } from '../../runtime/probe/collectors/kubernetes';
import { sleep } from './helpers';

const NODE = 'node-a';
const TOKEN = 'sa-token-0123456789';

function pod(uid: string, name: string, labels: Record<string, string>, rv: string, phase = 'Running', owner?: { kind: string; name: string; uid: string }) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'shop',
      uid,
      resourceVersion: rv,
      creationTimestamp: '2024-05-01T10:00:00Z',
      labels,
      ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true }] } : {}),
    },
    spec: { nodeName: NODE, containers: [{ name: 'app', image: 'shop:1' }] },
    status: { phase, podIP: '10.1.0.7', containerStatuses: [{ name: 'app', ready: true, restartCount: 2, image: 'shop:1', imageID: 'x', containerID: 'containerd://abc' }] },
  };
}

const service = (uid: string, name: string, selector: Record<string, string>, rv: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'shop', uid, resourceVersion: rv, creationTimestamp: '2024-05-01T09:00:00Z' },
  spec: { type: 'ClusterIP', clusterIP: '10.96.0.20', selector, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
});

const replicaSet = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: {
    name: 'web-7d9f',
    namespace: 'shop',
    uid: 'rs-uid-1',
    resourceVersion: '50',
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'deploy-uid-1', controller: true, blockOwnerDeletion: true }],
  },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web' } } },
};

/** A fake API server whose watch streams the test drives line by line. */
function fakeApi() {
  const seen: string[] = [];
  const watches: Array<{ path: string; query: URLSearchParams; res: ServerResponse }> = [];
  let podsRv = '100';
  let pods = [pod('pod-uid-1', 'web-7d9f-abcde', { app: 'web' }, '99', 'Running', { kind: 'ReplicaSet', name: 'web-7d9f', uid: 'rs-uid-1' })];
  let listCount = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    seen.push(url.pathname + url.search);
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 }));
      return;
    }
    const json = (o: unknown): void => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(o));
    if (url.searchParams.get('watch') === '1') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      watches.push({ path: url.pathname, query: url.searchParams, res });
      return;
    }
    if (url.pathname === '/api/v1/pods') {
      listCount++;
      return json({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: podsRv }, items: pods });
    }
    if (url.pathname === '/api/v1/services') {
      return json({ kind: 'ServiceList', apiVersion: 'v1', metadata: { resourceVersion: '200' }, items: [service('svc-uid-1', 'web', { app: 'web' }, '150'), service('svc-uid-2', 'db', { app: 'db' }, '151')] });
    }
    if (url.pathname === '/apis/apps/v1/namespaces/shop/replicasets/web-7d9f') return json(replicaSet);
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
  });
  return {
    server,
    seen,
    watches,
    get listCount() {
      return listCount;
    },
    setPods(p: ReturnType<typeof pod>[], rv: string) {
      pods = p;
      podsRv = rv;
    },
  };
}

async function until(pred: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await sleep(10);
  return pred();
}

t.test('in-cluster detection: off outside a cluster, and says why', async (t) => {
  const off = inClusterAccess({}, '/nonexistent');
  t.match(off, { off: /not in a Kubernetes cluster/ });
  const noToken = inClusterAccess({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, '/nonexistent');
  t.match(noToken, { off: /no service-account token/ });
});

t.test('fake API server: list, then watch from the resourceVersion; pods, services, controllers; 410 → list again', async (t) => {
  const api = fakeApi();
  await new Promise<void>((r) => api.server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const w of api.watches) w.res.destroy();
    api.server.close();
  });
  const port = (api.server.address() as { port: number }).port;
  const identity = { hostname: 'h', hostId: hostNodeId('h'), probeId: 'h/1' };
  let changes = 0;
  const k = new KubernetesCollector({ identity, access: { apiUrl: `http://127.0.0.1:${port}`, token: TOKEN, nodeName: NODE }, onChange: () => changes++, backoff: { initialMs: 20, maxMs: 100 } });
  t.teardown(() => k.close());

  const r1 = await k.collect(1000);
  t.ok(api.seen.some((s) => s === `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${NODE}`)}`), 'pods listed for this node only');
  const p = r1.nodes.pod?.[podNodeId('pod-uid-1')];
  t.equal(p?.latest.name?.v, 'web-7d9f-abcde');
  t.equal(p?.latest.phase?.v, 'Running');
  t.equal(p?.latest.restart_count?.v, 2);
  t.equal(p?.latest['label.app']?.v, 'web');
  t.same(p?.parents.host, [identity.hostId]);
  t.same(p?.parents.controller, [controllerNodeId('deploy-uid-1')], 'ReplicaSet resolved to its Deployment');
  t.same(p?.parents.service, [serviceNodeId('svc-uid-1')], 'the service whose selector matches');
  t.equal(r1.nodes.controller?.[controllerNodeId('deploy-uid-1')]?.latest.kind?.v, 'Deployment');
  t.ok(r1.nodes.service?.[serviceNodeId('svc-uid-1')], 'matching service reported');
  t.notOk(r1.nodes.service?.[serviceNodeId('svc-uid-2')], 'a service with no pod on this node is not');
  t.same(r1.issues, []);

  t.ok(await until(() => api.watches.length === 2), 'two watches opened');
  const podWatch = api.watches.find((w) => w.path === '/api/v1/pods')!;
  t.equal(podWatch.query.get('resourceVersion'), '100', 'watch starts at the list version');
  t.equal(podWatch.query.get('allowWatchBookmarks'), 'true');
  t.equal(podWatch.query.get('fieldSelector'), `spec.nodeName=${NODE}`);

  const send = (o: unknown): void => void podWatch.res.write(JSON.stringify(o) + '\n');
  const before = changes;
  send({ type: 'ADDED', object: pod('pod-uid-2', 'batch-1', { app: 'batch' }, '101', 'Pending', { kind: 'Job', name: 'batch', uid: 'job-uid-1' }) });
  t.ok(await until(() => changes > before), 'a new pod triggers an immediate report');
  send({ type: 'MODIFIED', object: pod('pod-uid-2', 'batch-1', { app: 'batch' }, '102', 'Running', { kind: 'Job', name: 'batch', uid: 'job-uid-1' }) });
  send({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '105' } } });
  send({ type: 'DELETED', object: pod('pod-uid-1', 'web-7d9f-abcde', { app: 'web' }, '106') });
  await until(() => changes >= before + 3);
  const r2 = await k.collect(2000);
  t.notOk(r2.nodes.pod?.[podNodeId('pod-uid-1')], 'deleted pod gone');
  t.equal(r2.nodes.pod?.[podNodeId('pod-uid-2')]?.latest.phase?.v, 'Running', 'modified pod updated');
  t.same(r2.nodes.pod?.[podNodeId('pod-uid-2')]?.parents.controller, [controllerNodeId('job-uid-1')], 'Job owner as controller');
  t.notOk(r2.nodes.service?.[serviceNodeId('svc-uid-1')], 'service no longer matches any pod here');

  // The version is too old: the server says so with an ERROR event (Status 410); the collector lists again.
  const lists = api.listCount;
  api.setPods([pod('pod-uid-3', 'web-7d9f-zzzzz', { app: 'web' }, '300', 'Running', { kind: 'ReplicaSet', name: 'web-7d9f', uid: 'rs-uid-1' })], '301');
  send({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version: 105 (250)', reason: 'Expired', code: 410 } });
  t.ok(await until(() => api.listCount > lists), 'listed again after 410');
  t.ok(await until(() => api.watches.filter((w) => w.path === '/api/v1/pods').length === 2), 'watch reopened');
  t.equal(api.watches.filter((w) => w.path === '/api/v1/pods')[1]!.query.get('resourceVersion'), '301', 'from the new list version');
  const r3 = await k.collect(3000);
  t.same(Object.keys(r3.nodes.pod ?? {}), [podNodeId('pod-uid-3')], 'the relisted state replaces the old one');

  // The watch connection drops: reconnect (with backoff) from the last version seen.
  const w2 = api.watches.filter((w) => w.path === '/api/v1/pods')[1]!;
  w2.res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '310' } } }) + '\n');
  await sleep(50);
  w2.res.destroy();
  t.ok(await until(() => api.watches.filter((w) => w.path === '/api/v1/pods').length === 3), 'reconnected');
  t.equal(api.watches.filter((w) => w.path === '/api/v1/pods')[2]!.query.get('resourceVersion'), '310', 'from the bookmark version');
});

t.test('fake API server: a wrong token is a collector failure with a code (the runner backs off)', async (t) => {
  const api = fakeApi();
  await new Promise<void>((r) => api.server.listen(0, '127.0.0.1', r));
  t.teardown(() => api.server.close());
  const port = (api.server.address() as { port: number }).port;
  const k = new KubernetesCollector({ identity: { hostname: 'h', hostId: hostNodeId('h'), probeId: 'h/1' }, access: { apiUrl: `http://127.0.0.1:${port}`, token: 'wrong-token-000000', nodeName: NODE } });
  t.teardown(() => k.close());
  await t.rejects(k.collect(1), { code: 'K8S_UNAUTHORIZED' });
});
