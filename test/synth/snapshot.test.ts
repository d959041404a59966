/**
 * A reviewable snapshot of each environment: every object with the fields that matter when
 * reading a diff (images, replicas, storage, resources). A change to any of them shows up
 * in tap-snapshots/ for review; `npm test -- --snapshot` accepts it.
 */
import t from 'tap';
import { ENVIRONMENT_NAMES } from '../../constructs/environments';
import { type K8sObject, WORKLOAD_KINDS, distObjects, podSpecOf } from '../lib/platform';

/* eslint-disable @typescript-eslint/no-explicit-any */
function summary(o: K8sObject): Record<string, unknown> {
  const s: Record<string, unknown> = { object: `${o.kind} ${o.metadata.namespace ?? '-'}/${o.metadata.name}` };
  if (WORKLOAD_KINDS.includes(o.kind)) {
    const pod = podSpecOf(o);
    if (o.spec.replicas !== undefined) s.replicas = o.spec.replicas;
    s.containers = [...(pod.initContainers ?? []), ...pod.containers].map((c: any) =>
      `${c.name} ${c.image} cpu ${c.resources.requests.cpu}/${c.resources.limits.cpu} mem ${c.resources.requests.memory}/${c.resources.limits.memory}`);
    if (o.spec.volumeClaimTemplates) {
      s.claims = o.spec.volumeClaimTemplates.map((c: any) => `${c.metadata.name} ${c.spec.resources.requests.storage} ${c.spec.storageClassName}`);
    }
  }
  if (o.kind === 'PodDisruptionBudget') s.budget = o.spec.minAvailable !== undefined ? `minAvailable ${o.spec.minAvailable}` : `maxUnavailable ${o.spec.maxUnavailable}`;
  if (o.kind === 'Service') s.ports = o.spec.ports.map((p: any) => `${p.name}:${p.port}`);
  return s;
}

for (const env of ENVIRONMENT_NAMES) {
  t.test(`dist/${env}`, async (t) => {
    t.matchSnapshot(distObjects(env).map(summary), `${env} inventory`);
  });
}
