/**
 * Every object in dist/ is valid against its schema (Kubernetes 1.27 or the Argo CRDs in
 * crds/), with unknown fields rejected; and a deliberately broken copy of a real object is caught.
 */
import { join } from 'node:path';
import t from 'tap';
import { ENVIRONMENT_NAMES } from '../../constructs/environments';
import { formatIssue, loadManifests, validateManifests } from '../lib/manifest-schema';
import { DIST, GITOPS_FOLDERS } from '../lib/platform';

for (const env of [...ENVIRONMENT_NAMES, ...GITOPS_FOLDERS]) {
  t.test(`dist/${env} is schema-valid`, async (t) => {
    const docs = loadManifests(join(DIST, env));
    t.ok(docs.length > 1, `${docs.length} objects`);
    t.same(validateManifests(docs).map(formatIssue), [], 'no issues');
  });
}

t.test('a broken copy of a synthesized object is caught with its path', async (t) => {
  const docs = loadManifests(join(DIST, 'prod'));
  const sts = docs.find((d) => (d.object as { kind?: string }).kind === 'StatefulSet')!;
  const broken = structuredClone(sts);
  const pod = (broken.object as any).spec.template.spec; // eslint-disable-line @typescript-eslint/no-explicit-any
  pod.containers[0].readinesProbe = pod.containers[0].readinessProbe;
  pod.containers[0].resources.limits.cpu = { cores: 2 };
  const issues = validateManifests([broken]);
  t.match(issues.map((i) => `${i.path}: ${i.message}`).sort(), [
    '/spec/template/spec/containers/0/readinesProbe: unknown field "readinesProbe"',
    /^\/spec\/template\/spec\/containers\/0\/resources\/limits\/cpu: must be/,
  ]);
});
