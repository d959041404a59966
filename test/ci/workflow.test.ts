/**
 * The CI workflow (.github/workflows/ci.yaml), checked offline:
 * - against the GitHub Actions workflow schema with @action-validator/core and
 *   its CLI, including proof that the validator rejects a broken copy;
 * - structurally, with `yaml`: triggers, least privilege, the test job's
 *   steps, the image build/scan/push rules, the promotion chain and the
 *   pinning of every action.
 * Nothing here talks to GitHub; the workflow can only really run there.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { validateWorkflow } from '@action-validator/core';

const ROOT = resolve(__dirname, '..', '..');
const WORKFLOW_PATH = join(ROOT, '.github', 'workflows', 'ci.yaml');
const VALIDATOR_CLI = join(ROOT, 'node_modules', '.bin', 'action-validator');
const SOURCE = readFileSync(WORKFLOW_PATH, 'utf8');

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}

interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  'runs-on'?: unknown;
  permissions?: Record<string, string> | string;
  environment?: string | { name: string; url?: string };
  concurrency?: unknown;
  env?: Record<string, unknown>;
  outputs?: Record<string, string>;
  steps: Step[];
}

interface Workflow {
  name?: string;
  on: Record<string, { branches?: string[] } | null>;
  permissions?: Record<string, string> | string;
  concurrency?: { group: string; 'cancel-in-progress'?: unknown } | string;
  env?: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const wf = parse(SOURCE) as Workflow;

/** An expression without its `${{ }}` wrapper and with whitespace collapsed. */
function expr(value: unknown): string {
  return String(value ?? '')
    .trim()
    .replace(/^\$\{\{([\s\S]*)\}\}$/, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The condition under which something happens only on a push to main. */
const ON_MAIN = "github.event_name == 'push' && github.ref == 'refs/heads/main'";

function job(id: string): Job {
  const j = wf.jobs[id];
  if (!j) throw new Error(`job ${id} missing from the workflow`);
  return j;
}

function needsOf(j: Job): string[] {
  return j.needs === undefined ? [] : Array.isArray(j.needs) ? j.needs : [j.needs];
}

function stepsUsing(j: Job, action: string): Step[] {
  return j.steps.filter((s) => typeof s.uses === 'string' && s.uses.split('@')[0] === action);
}

function oneStepUsing(j: Job, action: string): Step {
  const found = stepsUsing(j, action);
  if (found.length !== 1) throw new Error(`expected one ${action} step, found ${found.length}`);
  return found[0]!;
}

/** Index of the first `run:` step whose script matches `re`, or -1. */
function runIndex(j: Job, re: RegExp): number {
  return j.steps.findIndex((s) => typeof s.run === 'string' && re.test(s.run));
}

function runStep(j: Job, re: RegExp): Step {
  const i = runIndex(j, re);
  if (i < 0) throw new Error(`no run step matching ${re}`);
  return j.steps[i]!;
}

function csv(value: unknown): string[] {
  return String(value ?? '')
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Every `uses:` of the workflow, with the job it is in. */
function allUses(w: Workflow): { job: string; uses: string }[] {
  const out: { job: string; uses: string }[] = [];
  for (const [id, j] of Object.entries(w.jobs)) {
    for (const s of j.steps ?? []) if (typeof s.uses === 'string') out.push({ job: id, uses: s.uses });
  }
  return out;
}

/**
 * The `uses:` references that are not pinned: a local action or docker:// is
 * fine; anything else must name a version tag (`v4`, `v0.36.0`, `1.2.3`) or a
 * full 40-hex commit, never a branch or `latest`.
 */
function unpinned(w: Workflow): string[] {
  const pinned = /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@(v?\d+(\.\d+){0,2}|[0-9a-f]{40})$/;
  return allUses(w)
    .map((u) => u.uses)
    .filter((u) => !u.startsWith('./') && !u.startsWith('docker://'))
    .filter((u) => !pinned.test(u) || /@(main|master|latest|head|dev)$/i.test(u));
}

/** Run the action-validator CLI on a file; it exits 1 with JSON on stderr. */
function runValidatorCli(file: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [VALIDATOR_CLI, file], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('schema: the workflow is a valid GitHub Actions workflow', async (t) => {
  const state = validateWorkflow(SOURCE);
  t.equal(state.actionType, 'workflow');
  t.same(state.errors, [], 'no schema errors from @action-validator/core');

  const cli = runValidatorCli(WORKFLOW_PATH);
  t.equal(cli.status, 0, `the action-validator CLI accepts it${cli.stderr ? `: ${cli.stderr}` : ''}`);
});

t.test('schema: the validator rejects a workflow with a misspelt key', async (t) => {
  // Misspell `runs-on` of the first job only; everything else stays valid.
  const broken = SOURCE.replace(/^(\s+)runs-on:/m, '$1runs-onn:');
  t.not(broken, SOURCE, 'the copy differs from the workflow');
  t.match(broken, /^\s+runs-onn: /m);

  const state = validateWorkflow(broken);
  t.ok(state.errors.length > 0, 'core reports errors');
  t.match(JSON.stringify(state.errors), /Additional property 'runs-onn' is not allowed/);

  const dir = mkdtempSync(join(tmpdir(), 'ci-workflow-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'broken-ci.yaml');
  writeFileSync(file, broken);
  const cli = runValidatorCli(file);
  t.equal(cli.status, 1, 'the CLI exits 1 on the broken copy');
  const report = JSON.parse(cli.stderr) as { errors: unknown[] };
  t.ok(report.errors.length > 0, 'the CLI prints its errors as JSON');
  t.match(cli.stderr, /runs-onn/);
});

t.test('schema: the validator rejects an unknown permission level', async (t) => {
  const broken = SOURCE.replace(/^(\s+)packages: write$/m, '$1packages: admin');
  t.not(broken, SOURCE);
  t.ok(validateWorkflow(broken).errors.length > 0, 'packages: admin is rejected');
});

t.test('triggers: push and pull_request on main, with concurrency', async (t) => {
  t.same(Object.keys(wf.on).sort(), ['pull_request', 'push']);
  t.same(wf.on.push?.branches, ['main']);
  t.same(wf.on.pull_request?.branches, ['main']);

  t.type(wf.concurrency, 'object');
  const c = wf.concurrency as { group: string; 'cancel-in-progress'?: unknown };
  t.match(c.group, /github\.event\.pull_request\.number/, 'pull requests share a group per PR');
  t.equal(expr(c['cancel-in-progress']), "github.event_name == 'pull_request'", 'only PR runs are cancelled');
});

t.test('permissions: none by default, least privilege per job', async (t) => {
  t.same(wf.permissions, {}, 'the workflow grants nothing by default');
  const allowed: Record<string, Record<string, string>> = {
    test: { contents: 'read' },
    image: { contents: 'read', packages: 'write', 'security-events': 'write', actions: 'read' },
    'promote-dev': { contents: 'write' },
    'promote-staging': { contents: 'write' },
    'promote-prod': { contents: 'write' },
  };
  t.same(Object.keys(wf.jobs).sort(), Object.keys(allowed).sort(), 'exactly the expected jobs');
  for (const [id, j] of Object.entries(wf.jobs)) {
    t.type(j.permissions, 'object', `${id} declares its permissions`);
    t.same(j.permissions, allowed[id], `${id} asks for no more than it needs`);
  }
});

t.test('test job: setup, typecheck, tests with coverage, drift check', async (t) => {
  const j = job('test');
  t.same(needsOf(j), []);
  t.ok(stepsUsing(j, 'actions/checkout').length === 1, 'checks out');

  const node = oneStepUsing(j, 'actions/setup-node');
  t.equal(String(node.with?.['node-version']), '20', 'Node 20');
  t.equal(node.with?.['cache'], 'npm', 'with the npm cache');

  const setup = runIndex(j, /^npm run setup$/m);
  const typecheck = runIndex(j, /^npm run typecheck$/m);
  // tap directly: `npm test` would typecheck a second time.
  const tests = runIndex(j, /^npx tap\b/m);
  const synth = runIndex(j, /^\s*npm run synth$/m);
  t.ok(setup >= 0, 'runs npm run setup');
  t.ok(typecheck > setup, 'typecheck after setup');
  t.ok(tests > typecheck, 'tests after typecheck');
  t.ok(synth > tests, 'drift check after the tests');

  const testRun = j.steps[tests]!.run!;
  t.match(testRun, /--coverage-report=lcov\b/, 'lcov coverage report');
  t.match(testRun, /--coverage-report=text-summary\b/, 'coverage summary in the log');
  t.notMatch(testRun, /--disable-coverage/);
  t.notMatch(testRun, /npm test/, 'does not typecheck twice');

  const upload = oneStepUsing(j, 'actions/upload-artifact');
  t.equal(upload.with?.['name'], 'coverage');
  t.match(String(upload.with?.['path']), /^\.tap\/report\/?$/, 'tap writes its reports to .tap/report');
  t.ok(j.steps.indexOf(upload) > tests, 'uploads after the tests');
  t.match(expr(upload.if), /!cancelled\(\)|always\(\)/, 'also when a test failed');

  const drift = j.steps[synth]!.run!;
  t.match(drift, /git diff --exit-code -- dist\//, 'fails when dist/ differs');
  t.match(drift, /Run 'npm run synth' and commit/, 'tells the author what to do');
  t.match(drift, /exit 1/);
});

t.test('image job: buildx for amd64 and arm64, GHA cache, GHCR', async (t) => {
  const j = job('image');
  t.same(needsOf(j), ['test'], 'runs after the test job');

  const order = (action: string): number => j.steps.indexOf(oneStepUsing(j, action));
  t.ok(order('docker/setup-qemu-action') >= 0, 'sets up QEMU');
  t.ok(order('docker/setup-buildx-action') > order('docker/setup-qemu-action'), 'then Buildx');

  t.equal(wf.env?.['IMAGE'], 'ghcr.io/${{ github.repository }}', 'the image lives in GHCR');
  const meta = oneStepUsing(j, 'docker/metadata-action');
  t.equal(meta.with?.['images'], '${{ env.IMAGE }}');
  const tags = String(meta.with?.['tags'] ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  t.ok(tags.some((tag) => /^type=sha\b/.test(tag) && /prefix=sha-/.test(tag)), 'a sha-<short sha> tag');
  const versionTag = tags.find((tag) => /steps\.vars\.outputs\.version/.test(tag));
  t.ok(versionTag, 'a version tag');
  t.match(expr(versionTag?.replace(/^.*enable=/, '')), ON_MAIN, 'the version tag only on main');

  const builds = stepsUsing(j, 'docker/build-push-action');
  t.equal(builds.length, 2, 'a scan build and the multi-platform build');
  const multi = builds.find((b) => csv(b.with?.['platforms']).length > 1);
  t.ok(multi, 'one build is multi-platform');
  t.same(csv(multi?.with?.['platforms']).sort(), ['linux/amd64', 'linux/arm64']);
  t.equal(multi?.with?.['tags'], '${{ steps.meta.outputs.tags }}', 'tagged by metadata-action');
  for (const b of builds) {
    t.equal(b.with?.['cache-from'], 'type=gha', `${b.name}: reads the GHA cache`);
    t.match(String(b.with?.['cache-to']), /^type=gha\b/, `${b.name}: writes the GHA cache`);
  }
});

t.test('image job: pushes and logs in to GHCR only on a push to main', async (t) => {
  const j = job('image');
  const login = oneStepUsing(j, 'docker/login-action');
  t.equal(login.with?.['registry'], 'ghcr.io');
  t.equal(login.with?.['password'], '${{ secrets.GITHUB_TOKEN }}', 'with the job token');
  t.equal(expr(login.if), ON_MAIN, 'login only on a push to main');
  t.equal((j.permissions as Record<string, string>)['packages'], 'write');

  for (const b of stepsUsing(j, 'docker/build-push-action')) {
    const push = b.with?.['push'];
    t.ok(push === false || expr(push) === ON_MAIN, `${b.name}: push is false or main-only`);
  }
  const pushing = stepsUsing(j, 'docker/build-push-action').filter((b) => b.with?.['push'] !== false);
  t.equal(pushing.length, 1, 'exactly one build can push');
  t.ok(j.steps.indexOf(login) < j.steps.indexOf(pushing[0]!), 'login comes before the push');
});

t.test('image job: pull requests build a loadable amd64 image for Trivy', async (t) => {
  const j = job('image');
  const scanBuild = stepsUsing(j, 'docker/build-push-action').find((b) => b.with?.['load'] === true);
  t.ok(scanBuild, 'one build loads its image into the local engine');
  t.same(csv(scanBuild?.with?.['platforms']), ['linux/amd64'], 'single platform: a multi-platform image cannot be loaded');
  t.equal(scanBuild?.with?.['push'], false, 'never pushed');
  t.equal(scanBuild?.if, undefined, 'runs on pull requests and on main');
  t.equal(scanBuild?.with?.['tags'], '${{ env.SCAN_IMAGE }}');
});

t.test('image job: Trivy fails on HIGH and CRITICAL and reports SARIF', async (t) => {
  const j = job('image');
  const trivy = stepsUsing(j, 'aquasecurity/trivy-action');
  t.ok(trivy.length >= 1, 'Trivy runs');
  for (const s of trivy) t.equal(s.with?.['image-ref'], '${{ env.SCAN_IMAGE }}', `${s.name}: scans the built image`);

  const gates = trivy.filter((s) => String(s.with?.['exit-code']) === '1');
  t.equal(gates.length, 1, 'one Trivy step gates the job');
  const gate = gates[0]!;
  t.same(csv(gate.with?.['severity']).sort(), ['CRITICAL', 'HIGH']);
  t.equal(gate.with?.['exit-code'], '1', "exit-code is the string '1'");
  t.equal(gate.with?.['ignore-unfixed'], true);
  t.equal(gate.if, undefined, 'the gate is never skipped');

  const sarif = trivy.find((s) => s.with?.['format'] === 'sarif');
  t.ok(sarif, 'a SARIF report');
  t.equal(sarif?.with?.['limit-severities-for-sarif'], 'true', 'the report keeps the severity filter');
  const upload = oneStepUsing(j, 'github/codeql-action/upload-sarif');
  t.equal(upload.with?.['sarif_file'], sarif?.with?.['output'], 'uploads the file Trivy wrote');
  t.equal((j.permissions as Record<string, string>)['security-events'], 'write');

  const pushStep = stepsUsing(j, 'docker/build-push-action').find((b) => b.with?.['push'] !== false)!;
  t.ok(j.steps.indexOf(gate) < j.steps.indexOf(pushStep), 'the gate runs before anything is pushed');
  t.equal(j.outputs?.['tag'], '${{ steps.vars.outputs.sha_tag }}', 'exposes the sha-<short sha> tag');
  t.match(runStep(j, /sha_tag=/).run!, /sha_tag=sha-\$\{GITHUB_SHA::\$\{DOCKER_METADATA_SHORT_SHA_LENGTH\}\}/);
});

t.test('promotion: dev -> staging -> prod, only on a push to main', async (t) => {
  const chain = [
    { id: 'promote-dev', env: 'dev', after: 'image' },
    { id: 'promote-staging', env: 'staging', after: 'promote-dev' },
    { id: 'promote-prod', env: 'prod', after: 'promote-staging' },
  ];
  for (const { id, env, after } of chain) {
    const j = job(id);
    t.ok(needsOf(j).includes(after), `${id} needs ${after}`);
    t.ok(needsOf(j).includes('image'), `${id} has the image tag at hand`);
    t.equal(expr(j.if), ON_MAIN, `${id} only on a push to main`);
    const environment = typeof j.environment === 'string' ? j.environment : j.environment?.name;
    t.equal(environment, env, `${id} runs in the ${env} environment`);
    t.equal(j.env?.['TAG'], '${{ needs.image.outputs.tag }}', `${id} deploys the built tag`);

    const checkout = oneStepUsing(j, 'actions/checkout');
    t.equal(checkout.with?.['ref'], 'main', `${id} works on the tip of main`);
    const ci = runIndex(j, /^npm ci\b/m);
    const promote = runIndex(j, new RegExp(`^npm run promote -- --env ${env} --tag "\\$TAG"$`, 'm'));
    const commit = runIndex(j, /git commit /);
    t.ok(ci >= 0, `${id} runs npm ci`);
    t.ok(promote > ci, `${id} runs npm run promote -- --env ${env} --tag ... after npm ci`);
    t.ok(commit > promote, `${id} commits after promoting`);

    const script = j.steps[commit]!.run!;
    t.match(script, /git config user\.name 'github-actions\[bot\]'/, `${id} commits as the bot`);
    t.match(script, /git config user\.email '41898282\+github-actions\[bot\]@users\.noreply\.github\.com'/);
    t.match(script, /git add --all -- dist\/ constructs\/releases\.json\n/, `${id} stages dist/ and the release tags only`);
    t.match(script, /git push origin HEAD:main/, `${id} pushes to main`);
    t.equal(expr(j.env?.['PROMOTE_ENV']), env);
    t.same(j.concurrency, { group: id, 'cancel-in-progress': false }, `${id} is serialised, never cancelled`);
  }
  t.same(
    Object.keys(wf.jobs).filter((id) => job(id).environment !== undefined),
    chain.map((c) => c.id),
    'only the promote jobs deploy',
  );
});

t.test('pinning: every action is pinned to a version', async (t) => {
  const uses = allUses(wf);
  t.ok(uses.length >= 10, 'the workflow uses actions');
  t.same(unpinned(wf), [], 'no branch, latest or unversioned reference');
  for (const { job: id, uses: ref } of uses) {
    const [, version = ''] = ref.split('@');
    if (/^[0-9a-f]{40}$/.test(version)) {
      // A commit pin must say which release it is, on the same line.
      const line = SOURCE.split('\n').find((l) => l.includes(ref)) ?? '';
      t.match(line, /#\s*v?\d+\.\d+\.\d+\s*$/, `${id}: ${ref} names its release`);
    } else {
      t.match(version, /^v\d+$/, `${id}: ${ref} is a major version tag`);
    }
  }

  // The check itself can fail: references by branch or latest are caught.
  const bad = parse(SOURCE) as Workflow;
  bad.jobs['test']!.steps[0]!.uses = 'actions/checkout@main';
  bad.jobs['image']!.steps[0]!.uses = 'actions/checkout@latest';
  bad.jobs['promote-dev']!.steps[0]!.uses = 'actions/checkout';
  t.same(unpinned(bad), ['actions/checkout@main', 'actions/checkout@latest', 'actions/checkout']);
});
