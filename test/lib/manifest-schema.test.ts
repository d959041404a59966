import * as path from 'node:path';
import t, { type Test } from 'tap';
import {
  formatIssue,
  loadManifests,
  validateManifests,
  type ManifestDocument,
  type ValidationIssue,
} from './manifest-schema';

type Json = Record<string, unknown>;

/** Validates one object as document 0 of `test.yaml`; issues are printed on failure. */
function issuesOf(object: unknown): ValidationIssue[] {
  return validateManifests([{ file: 'test.yaml', index: 0, object }]);
}

function expectClean(tt: Test, object: Json): void {
  const issues = issuesOf(object);
  tt.strictSame(issues.map(formatIssue), [], `${String(object.kind)} has no issue`);
}

function issue(object: Json, pointer: string, message: string): ValidationIssue {
  const metadata = (object.metadata ?? {}) as Json;
  return {
    file: 'test.yaml',
    index: 0,
    apiVersion: String(object.apiVersion),
    kind: String(object.kind),
    name: String(metadata.name ?? ''),
    path: pointer,
    message,
  };
}

/** A copy of `object` where `edit` may change anything. */
function edited<T extends Json>(object: T, edit: (copy: any) => void): T {
  const copy = structuredClone(object);
  edit(copy);
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Fixtures: what the cdk8s charts of this repository emit, by kind

const labels = { 'app.kubernetes.io/name': 'marathon', 'app.kubernetes.io/part-of': 'orchestrator' };

const podSpec = {
  serviceAccountName: 'marathon',
  securityContext: { runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [
    {
      name: 'marathon',
      image: 'mesosphere/marathon:v1.11.24',
      imagePullPolicy: 'IfNotPresent',
      args: ['--master', 'zk://zookeeper:2181/mesos'],
      env: [
        { name: 'JAVA_OPTS', value: '-Xmx512m' },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      ],
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      resources: { requests: { cpu: '250m', memory: '768Mi' }, limits: { cpu: 1, memory: '1Gi' } },
      readinessProbe: { httpGet: { path: '/ping', port: 'http' }, periodSeconds: 5 },
      livenessProbe: { tcpSocket: { port: 8080 }, initialDelaySeconds: 30 },
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    },
  ],
  volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
};

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'marathon', namespace: 'orchestrator', labels, annotations: { 'example.com/owner': 'platform' } },
  spec: {
    replicas: 3,
    selector: { matchLabels: labels },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
    template: { metadata: { labels }, spec: podSpec },
  },
};

const statefulSet = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'zookeeper', namespace: 'orchestrator' },
  spec: {
    serviceName: 'zookeeper-headless',
    replicas: 3,
    podManagementPolicy: 'Parallel',
    selector: { matchLabels: { app: 'zookeeper' } },
    template: {
      metadata: { labels: { app: 'zookeeper' } },
      spec: {
        containers: [
          {
            name: 'zookeeper',
            image: 'zookeeper:3.9.3',
            ports: [{ name: 'client', containerPort: 2181 }],
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
        ],
      },
    },
    volumeClaimTemplates: [
      {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'standard', resources: { requests: { storage: '10Gi' } } },
      },
    ],
  },
};

const daemonSet = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'mesos-agent', namespace: 'orchestrator' },
  spec: {
    selector: { matchLabels: { app: 'mesos-agent' } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
    template: {
      metadata: { labels: { app: 'mesos-agent' } },
      spec: {
        hostNetwork: true,
        tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
        containers: [{ name: 'agent', image: 'mesosphere/mesos-slave:1.7.3' }],
      },
    },
  },
};

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'marathon', namespace: 'orchestrator', labels },
  spec: { type: 'ClusterIP', selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
};

const configMap = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'marathon-config', namespace: 'orchestrator' },
  data: { 'marathon.conf': 'http_port=8080\n', LOG_LEVEL: 'info' },
};

const podDisruptionBudget = {
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'zookeeper', namespace: 'orchestrator' },
  spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'zookeeper' } } },
};

const serviceAccount = {
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name: 'marathon', namespace: 'orchestrator' },
  automountServiceAccountToken: false,
};

const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'orchestrator', labels: { env: 'dev' } } };

const networkPolicy = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'zookeeper-clients', namespace: 'orchestrator' },
  spec: {
    podSelector: { matchLabels: { app: 'zookeeper' } },
    policyTypes: ['Ingress'],
    ingress: [
      {
        from: [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['marathon', 'mesos-master'] }] } }],
        ports: [{ protocol: 'TCP', port: 2181 }, { port: 'metrics' }],
      },
    ],
  },
};

const role = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: { name: 'marathon', namespace: 'orchestrator' },
  rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] }],
};

const roleBinding = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: 'marathon', namespace: 'orchestrator' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'marathon' },
  subjects: [{ kind: 'ServiceAccount', name: 'marathon', namespace: 'orchestrator' }],
};

const rollout = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Rollout',
  metadata: { name: 'marathon', namespace: 'orchestrator', labels },
  spec: {
    replicas: 3,
    revisionHistoryLimit: 5,
    selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: podSpec },
    strategy: {
      canary: {
        canaryService: 'marathon-canary',
        stableService: 'marathon',
        maxSurge: '25%',
        maxUnavailable: 0,
        steps: [
          { setWeight: 20 },
          { pause: { duration: '5m' } },
          { analysis: { templates: [{ templateName: 'success-rate' }], args: [{ name: 'service', value: 'marathon' }] } },
          { setWeight: 50 },
          { pause: { duration: 300 } },
          { pause: {} },
        ],
      },
    },
  },
};

const analysisTemplate = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'AnalysisTemplate',
  metadata: { name: 'success-rate', namespace: 'orchestrator' },
  spec: {
    args: [{ name: 'service' }, { name: 'threshold', value: '0.95' }],
    metrics: [
      {
        name: 'success-rate',
        interval: '1m',
        count: 5,
        failureLimit: '1',
        successCondition: 'result[0] >= 0.95',
        provider: {
          prometheus: {
            address: 'http://prometheus.monitoring:9090',
            query: 'sum(rate(http_requests_total{service="{{args.service}}",code!~"5.."}[5m])) / sum(rate(http_requests_total{service="{{args.service}}"}[5m]))',
            timeout: 30,
          },
        },
      },
    ],
  },
};

// ---------------------------------------------------------------------------------------------
// Built-in kinds

t.test('well-formed built-in kinds validate with no issue', async (tt) => {
  const objects = [
    deployment, statefulSet, service, configMap, podDisruptionBudget, daemonSet,
    serviceAccount, namespace, networkPolicy, role, roleBinding,
  ];
  for (const object of objects) expectClean(tt, object);
  tt.strictSame(validateManifests(objects.map((object, index) => ({ file: 'all.yaml', index, object }))), []);
});

t.test('a misspelt field deep in a pod template is an unknown field', async (tt) => {
  const object = edited(deployment, (d) => {
    const container = d.spec.template.spec.containers[0];
    container.imagePullPolice = container.imagePullPolicy;
    delete container.imagePullPolicy;
  });
  tt.strictSame(issuesOf(object), [
    issue(object, '/spec/template/spec/containers/0/imagePullPolice', 'unknown field "imagePullPolice"'),
  ]);
});

t.test('an unknown top-level field is reported', async (tt) => {
  const object = edited(service, (s) => (s.specs = {}));
  tt.strictSame(issuesOf(object), [issue(object, '/specs', 'unknown field "specs"')]);
});

t.test('every unknown field is reported, not only the first one', async (tt) => {
  const object = edited(statefulSet, (s) => {
    s.spec.volumeClaimTemplates[0].spec.resources.request = {};
    s.spec.template.spec.containers[0].port = 2181;
    s.metadata.label = {};
  });
  tt.strictSame(issuesOf(object).map((found) => found.path), [
    '/metadata/label',
    '/spec/template/spec/containers/0/port',
    '/spec/volumeClaimTemplates/0/spec/resources/request',
  ]);
});

t.test('a value of the wrong type is reported with its path', async (tt) => {
  const object = edited(deployment, (d) => (d.spec.replicas = '3'));
  tt.strictSame(issuesOf(object), [issue(object, '/spec/replicas', 'must be integer')]);
  const port = edited(service, (s) => (s.spec.ports[0].targetPort = true));
  tt.strictSame(issuesOf(port), [issue(port, '/spec/ports/0/targetPort', 'must be string or integer')]);
});

t.test('a missing required field is reported', async (tt) => {
  const object = edited(deployment, (d) => delete d.spec.selector);
  tt.strictSame(issuesOf(object), [issue(object, '/spec/selector', 'missing required field "selector"')]);
});

t.test('an unknown apiVersion/kind is reported', async (tt) => {
  const misspeltKind = edited(deployment, (d) => (d.kind = 'Deploymnt'));
  tt.strictSame(issuesOf(misspeltKind), [issue(misspeltKind, '/kind', 'unknown apiVersion/kind apps/v1/Deploymnt')]);
  const unknownGroup = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'm' } };
  tt.strictSame(issuesOf(unknownGroup), [
    issue(unknownGroup, '/apiVersion', 'unknown apiVersion/kind monitoring.coreos.com/v1/ServiceMonitor'),
  ]);
  // A helper type of kubernetes-models is not a kind.
  const helper = { apiVersion: 'apps/v1', kind: 'DeploymentSpec' };
  tt.strictSame(issuesOf(helper), [issue(helper, '/kind', 'unknown apiVersion/kind apps/v1/DeploymentSpec')]);
});

t.test('a document without apiVersion or kind is reported', async (tt) => {
  const object = { kind: 'ConfigMap', metadata: { name: 'x' } };
  tt.strictSame(issuesOf(object), [issue({ ...object, apiVersion: '' }, '/apiVersion', 'missing required field "apiVersion"')]);
  tt.strictSame(issuesOf(['not', 'a', 'mapping']).map((found) => found.message), [
    'document must be a mapping with apiVersion and kind',
  ]);
});

// ---------------------------------------------------------------------------------------------
// Custom resources

t.test('an Argo Rollout and an AnalysisTemplate validate with no issue', async (tt) => {
  expectClean(tt, rollout);
  expectClean(tt, analysisTemplate);
});

t.test('a misspelt field under spec.strategy.canary is reported', async (tt) => {
  const object = edited(rollout, (r) => {
    r.spec.strategy.canary.stableSevice = r.spec.strategy.canary.stableService;
    delete r.spec.strategy.canary.stableService;
  });
  tt.strictSame(issuesOf(object), [issue(object, '/spec/strategy/canary/stableSevice', 'unknown field "stableSevice"')]);
});

t.test('a value of the wrong type in a Rollout is reported', async (tt) => {
  const object = edited(rollout, (r) => (r.spec.strategy.canary.steps[0].setWeight = '20'));
  tt.strictSame(issuesOf(object), [issue(object, '/spec/strategy/canary/steps/0/setWeight', 'must be integer')]);
  const intOrString = edited(rollout, (r) => (r.spec.strategy.canary.maxSurge = true));
  tt.strictSame(issuesOf(intOrString), [issue(intOrString, '/spec/strategy/canary/maxSurge', 'must be integer or string')]);
});

t.test('the metadata and pod template of a custom resource are checked strictly', async (tt) => {
  const object = edited(rollout, (r) => {
    r.metadata.label = {};
    r.metadata.annotations = { 'example.com/replicas': 3 };
    r.spec.template.spec.containers[0].imagePullPolice = 'Always';
  });
  tt.strictSame(issuesOf(object), [
    issue(object, '/metadata/annotations/example.com~1replicas', 'must be string'),
    issue(object, '/metadata/label', 'unknown field "label"'),
    issue(object, '/spec/template/spec/containers/0/imagePullPolice', 'unknown field "imagePullPolice"'),
  ]);
});

t.test('a missing required field of a custom resource is reported', async (tt) => {
  const object = edited(analysisTemplate, (a) => delete a.spec.metrics[0].provider);
  tt.strictSame(issuesOf(object), [issue(object, '/spec/metrics/0/provider', 'missing required field "provider"')]);
});

t.test('a version the CRD does not define is an unknown apiVersion/kind', async (tt) => {
  const object = edited(rollout, (r) => (r.apiVersion = 'argoproj.io/v1beta1'));
  tt.strictSame(issuesOf(object), [issue(object, '/apiVersion', 'unknown apiVersion/kind argoproj.io/v1beta1/Rollout')]);
});

t.test('a CRD folder that does not exist is an error, not a list of unknown kinds', async (tt) => {
  const crdDir = path.join(tt.testdir({}), 'missing');
  tt.throws(() => validateManifests([{ file: 'test.yaml', index: 0, object: rollout }], { crdDir }), {
    message: `CRD folder not found: ${crdDir}`,
  });
});

// ---------------------------------------------------------------------------------------------
// Loading

t.test('loadManifests reads every YAML file below a folder in a stable order', async (tt) => {
  const dir = tt.testdir({
    'b.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n',
    'notes.txt': 'not a manifest',
    staging: {
      'z.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: staging-z\n',
    },
    'a.yaml': [
      '---',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first',
      '---',
      '# only a comment: an empty document',
      '---',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: second\ndata:\n  key: value',
      '---',
      '',
    ].join('\n'),
  });
  const summary = (docs: ManifestDocument[]): string[] =>
    docs.map((doc) => `${path.relative(dir, doc.file)}#${doc.index} ${((doc.object as Json).metadata as Json).name}`);
  const docs = loadManifests(dir);
  tt.strictSame(summary(docs), ['a.yaml#0 first', 'a.yaml#2 second', 'b.yaml#0 b', `${path.join('staging', 'z.yaml')}#0 staging-z`]);
  tt.strictSame(summary(loadManifests(dir)), summary(docs), 'a second read gives the same order');
  tt.strictSame(docs[1].object, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'second' }, data: { key: 'value' } });
  tt.strictSame(validateManifests(docs), []);
});

t.test('issues name the file and document they come from', async (tt) => {
  const dir = tt.testdir({
    'app.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ok\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: "80"\n',
  });
  const issues = validateManifests(loadManifests(dir));
  tt.strictSame(issues.map(formatIssue), [`${path.join(dir, 'app.yaml')}#1 v1/Service web /spec/ports/0/port: must be integer`]);
  tt.strictSame(issues, [
    {
      file: path.join(dir, 'app.yaml'),
      index: 1,
      apiVersion: 'v1',
      kind: 'Service',
      name: 'web',
      path: '/spec/ports/0/port',
      message: 'must be integer',
    },
  ]);
});

t.test('loadManifests rejects invalid YAML, naming the file', async (tt) => {
  const dir = tt.testdir({ 'broken.yaml': 'apiVersion: v1\nkind: ConfigMap\n---\nkind: [unclosed\n' });
  tt.throws(() => loadManifests(dir), { message: new RegExp(`broken\\.yaml: YAML document 1: `) });
});
