/** The workload policy holds over all of dist/, and catches each kind of deliberately broken object. */
import t from 'tap';
import { ENVIRONMENT_NAMES, prod } from '../../constructs/environments';
import { checkWorkloadPolicy } from '../lib/policy';
import { type K8sObject, distObjects, findObject, synthObjects } from '../lib/platform';

for (const env of ENVIRONMENT_NAMES) {
  t.test(`dist/${env} obeys the workload policy`, async (t) => {
    const objects = distObjects(env);
    t.ok(objects.length > 0);
    t.same(checkWorkloadPolicy(objects), [], 'no violations');
  });
}

/** Breaks a copy of prod's objects with `mutate` and returns the violated rules. */
function violationsAfter(mutate: (objects: K8sObject[]) => void): string[] {
  const objects = synthObjects(prod);
  mutate(objects);
  return checkWorkloadPolicy(objects).map((v) => `${v.rule}: ${v.object}: ${v.detail}`);
}

const marathon = (objects: K8sObject[]) => findObject(objects, 'Deployment', 'marathon').spec.template.spec;

t.test('deliberately broken objects are caught', async (t) => {
  t.match(violationsAfter((o) => { delete marathon(o).containers[0].resources.limits; }),
    ['resources: Deployment/orchestrator-prod/marathon: container marathon: no limits.cpu', /no limits\.memory/]);
  t.match(violationsAfter((o) => { delete marathon(o).containers[0].readinessProbe; }), [/probes: .*marathon: no readinessProbe/]);
  t.match(violationsAfter((o) => { marathon(o).containers[0].image = 'mesosphere/marathon:latest'; }), [/pinned-image: .*not pinned/]);
  t.match(violationsAfter((o) => { marathon(o).containers[0].image = 'mesosphere/marathon'; }), [/pinned-image/]);
  t.match(violationsAfter((o) => { marathon(o).containers[0].securityContext.readOnlyRootFilesystem = false; }), [/readOnlyRootFilesystem must be true/]);
  t.match(violationsAfter((o) => { marathon(o).containers[0].securityContext = { privileged: true }; }), [/privileged outside a namespace/]);
  t.match(violationsAfter((o) => { delete marathon(o).serviceAccountName; }), [/service-account: .*own ServiceAccount/]);
  t.match(violationsAfter((o) => { delete marathon(o).affinity; }), [/anti-affinity: .*3 replicas/]);
  t.match(violationsAfter((o) => {
    const i = o.findIndex((x) => x.kind === 'PodDisruptionBudget' && x.metadata.name === 'zookeeper');
    o.splice(i, 1);
  }), [/disruption-budget: StatefulSet\/orchestrator-prod\/zookeeper/]);
  t.match(violationsAfter((o) => { findObject(o, 'Service', 'marathon').spec.selector = { app: 'nothing' }; }), [/service-selector: Service\/orchestrator-prod\/marathon/]);
  t.match(violationsAfter((o) => { findObject(o, 'Service', 'marathon').metadata.namespace = 'elsewhere'; }), [/namespace elsewhere is not declared/]);
});
