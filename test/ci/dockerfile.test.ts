/**
 * The Dockerfile and .dockerignore, checked by reading them.
 *
 * No Docker engine runs on this machine, so the image itself cannot be built
 * or run here: CI builds it (linux/amd64 and linux/arm64) and scans it with
 * Trivy. These tests parse the Dockerfile into instructions with a small
 * parser and hold it to the rules the image depends on: pinned bookworm Node 20
 * bases, multi-stage, `npm ci`, a numeric non-root user, the CLI entrypoint.
 * The rules are also run on broken Dockerfiles to show that each one can fail.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const DOCKERIGNORE = readFileSync(join(ROOT, '.dockerignore'), 'utf8');

interface Instruction {
  /** Upper-cased keyword: FROM, RUN, COPY, ... */
  keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
  /** Index of the build stage (0 for the first FROM); -1 before any FROM. */
  stage: number;
}

/**
 * Splits a Dockerfile into instructions. Handles what this Dockerfile may use:
 * comments, blank lines, parser directives, and lines continued with a
 * trailing backslash (comment and blank lines inside a continuation are
 * skipped, as Docker does). Heredocs and a custom escape character are not
 * supported.
 */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending: { text: string; line: number } | null = null;

  const finish = (full: string, line: number): void => {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(full.trim());
    if (!m) return;
    const keyword = m[1]!.toUpperCase();
    if (keyword === 'FROM') stage += 1;
    out.push({ keyword, args: m[2]!.trim(), line, stage });
  };

  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const continued = /\\\s*$/.test(raw);
    const body = (continued ? raw.replace(/\\\s*$/, '') : raw).trim();
    if (pending) pending.text += ' ' + body;
    else pending = { text: body, line: i + 1 };
    if (!continued) {
      finish(pending.text, pending.line);
      pending = null;
    }
  }
  if (pending) finish(pending.text, pending.line);
  return out;
}

/** FROM arguments: the image, and the stage name after AS. */
function fromParts(args: string): { image: string; name?: string } {
  const words = args.split(/\s+/).filter((w) => !w.startsWith('--'));
  const image = words[0] ?? '';
  const as = words.findIndex((w) => w.toUpperCase() === 'AS');
  return as > 0 && words[as + 1] ? { image, name: words[as + 1]! } : { image };
}

/** The exec (JSON array) form of ENTRYPOINT/CMD, or null for the shell form. */
function execForm(args: string): string[] | null {
  try {
    const v = JSON.parse(args) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
  } catch {
    return null;
  }
}

/** A pinned Debian 12 Node 20 image: node:20.x.y-bookworm[-slim][@sha256:...]. */
const PINNED_NODE_20_BOOKWORM = /^(docker\.io\/(library\/)?)?node:20\.\d+\.\d+-bookworm(-slim)?(@sha256:[0-9a-f]{64})?$/;

/**
 * Every rule the Dockerfile must meet; returns the broken ones (empty when
 * all hold), so the same rules can be shown to fail on bad input.
 */
function checkDockerfile(text: string): string[] {
  const problems: string[] = [];
  const ins = parseDockerfile(text);
  const froms = ins.filter((i) => i.keyword === 'FROM');
  const stages = froms.map((f) => fromParts(f.args));
  const lastStage = froms.length - 1;
  const final = ins.filter((i) => i.stage === lastStage);

  if (froms.length < 2) problems.push('not multi-stage: fewer than 2 FROM');
  stages.forEach((s, idx) => {
    const earlier = stages.slice(0, idx).some((e) => e.name !== undefined && e.name === s.image);
    if (!earlier && !PINNED_NODE_20_BOOKWORM.test(s.image)) problems.push(`FROM ${s.image}: not a pinned bookworm Node 20 image`);
  });

  // The user the final stage runs as: the last USER of that stage.
  const users = final.filter((i) => i.keyword === 'USER');
  const user = users.length > 0 ? users[users.length - 1]!.args : undefined;
  if (user === undefined) problems.push('final stage has no USER (runs as root)');
  else if (!/^\d+(:\d+)?$/.test(user)) problems.push(`USER ${user}: not numeric`);
  else if (Number(user.split(':')[0]) === 0) problems.push(`USER ${user}: root`);

  const entrypoints = final.filter((i) => i.keyword === 'ENTRYPOINT');
  const entry = entrypoints.length > 0 ? execForm(entrypoints[entrypoints.length - 1]!.args) : null;
  if (!entry) problems.push('final stage has no exec-form ENTRYPOINT');
  else if (entry[0] !== 'node' || !entry.some((a) => /(^|\/)build\/runtime\/cli\.js$/.test(a)))
    problems.push(`ENTRYPOINT ${JSON.stringify(entry)}: does not run build/runtime/cli.js with node`);

  for (const i of ins.filter((x) => x.keyword === 'ADD')) {
    if (/(^|\s)(https?:\/\/|git@|[\w.-]+\.git(\s|$))/i.test(i.args)) problems.push(`line ${i.line}: ADD of a remote source`);
  }

  const runs = ins.filter((i) => i.keyword === 'RUN');
  if (!runs.some((r) => /\bnpm ci\b/.test(r.args))) problems.push('npm ci is not used');
  for (const r of runs) {
    if (/\bnpm\s+(install|i|add)\b/.test(r.args)) problems.push(`line ${r.line}: npm install instead of npm ci`);
  }
  return problems;
}

const instructions = parseDockerfile(DOCKERFILE);
const froms = instructions.filter((i) => i.keyword === 'FROM');
const lastStage = froms.length - 1;
const finalStage = instructions.filter((i) => i.stage === lastStage);
const buildStage = instructions.filter((i) => i.stage === 0);

t.test('the parser: continuations, comments, stages', async (t) => {
  const parsed = parseDockerfile(
    [
      '# a comment',
      'FROM node:20.19.5-bookworm-slim AS build',
      'RUN apt-get update \\',
      '  # a comment inside a continuation',
      '',
      ' && echo done',
      'from build AS next',
      'CMD ["x"]',
    ].join('\n'),
  );
  t.same(
    parsed.map((i) => [i.keyword, i.args, i.line, i.stage]),
    [
      ['FROM', 'node:20.19.5-bookworm-slim AS build', 2, 0],
      ['RUN', 'apt-get update && echo done', 3, 0],
      ['FROM', 'build AS next', 7, 1],
      ['CMD', '["x"]', 8, 1],
    ],
  );
  t.same(fromParts('--platform=$BUILDPLATFORM node:20.19.5-bookworm AS b'), { image: 'node:20.19.5-bookworm', name: 'b' });
  t.same(execForm('["node", "a.js"]'), ['node', 'a.js']);
  t.equal(execForm('node a.js'), null);
});

t.test('the Dockerfile meets every rule', async (t) => {
  t.same(checkDockerfile(DOCKERFILE), []);
});

t.test('multi-stage, every FROM a pinned bookworm Node 20 image', async (t) => {
  t.ok(froms.length >= 2, `${froms.length} stages`);
  for (const f of froms) {
    const { image } = fromParts(f.args);
    t.match(image, PINNED_NODE_20_BOOKWORM, `line ${f.line}: ${image}`);
    t.notMatch(image, /alpine|latest|:20$|:lts/, `line ${f.line}: neither alpine nor a floating tag`);
  }
  t.same(
    froms.map((f) => fromParts(f.args)),
    [
      { image: 'node:20.19.5-bookworm-slim', name: 'build' },
      { image: 'node:20.19.5-bookworm-slim', name: 'runtime' },
    ],
    'build and runtime on the same base',
  );
});

t.test('build stage: npm ci, build, prune the dev dependencies', async (t) => {
  const runs = buildStage.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  const ci = runs.findIndex((r) => /\bnpm ci\b/.test(r));
  const build = runs.findIndex((r) => /\bnpm run build\b/.test(r));
  t.ok(ci >= 0, 'npm ci');
  t.ok(build > ci, 'npm run build after npm ci');
  t.match(runs[build], /npm run build[\s\S]*npm prune --omit=dev/, 'then npm prune --omit=dev');
  const allRuns = instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
  t.notMatch(allRuns, /\bnpm\s+(install|i)\b/, 'never npm install');

  const lockCopy = buildStage.findIndex((i) => i.keyword === 'COPY' && /package-lock\.json/.test(i.args));
  const ciAt = buildStage.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
  const sources = buildStage.findIndex((i) => i.keyword === 'COPY' && /^\.\s+\./.test(i.args));
  t.ok(lockCopy >= 0 && lockCopy < ciAt, 'the lock file is copied before npm ci');
  t.ok(sources > ciAt, 'the sources come after npm ci, so the dependency layer stays cached');
});

t.test('runtime stage: production files only, non-root, the CLI as entrypoint', async (t) => {
  const copies = finalStage.filter((i) => i.keyword === 'COPY').map((i) => i.args);
  t.same(
    copies,
    [
      '--from=build /app/package.json ./package.json',
      '--from=build /app/node_modules ./node_modules',
      '--from=build /app/build ./build',
    ],
    'package.json, the pruned node_modules and build/ from the build stage, nothing else',
  );
  t.ok(
    finalStage.some((i) => i.keyword === 'WORKDIR' && i.args === '/app'),
    'works in /app, where the entrypoint looks',
  );
  t.ok(
    finalStage.some((i) => i.keyword === 'ENV' && /(^|\s)NODE_ENV=production(\s|$)/.test(i.args)),
    'NODE_ENV=production',
  );

  const users = finalStage.filter((i) => i.keyword === 'USER');
  t.equal(users.length, 1, 'one USER in the final stage');
  t.equal(users[0]?.args, '1000:1000', 'the node user of the base image, by number');
  const lastCopyOrRun = Math.max(
    ...finalStage.filter((i) => i.keyword === 'COPY' || i.keyword === 'RUN').map((i) => instructions.indexOf(i)),
  );
  t.ok(instructions.indexOf(users[0]!) > lastCopyOrRun, 'USER after the last RUN/COPY: nothing later runs as root');

  const entry = finalStage.filter((i) => i.keyword === 'ENTRYPOINT');
  t.equal(entry.length, 1);
  t.same(execForm(entry[0]!.args), ['node', '/app/build/runtime/cli.js'], 'exec form, node runs the CLI');
  const cmd = finalStage.filter((i) => i.keyword === 'CMD');
  t.same(cmd.length === 1 ? execForm(cmd[0]!.args) : null, ['--help'], 'default argument --help');
});

t.test('labels, no healthcheck, no secrets, no remote ADD', async (t) => {
  const labels = finalStage.filter((i) => i.keyword === 'LABEL').map((i) => i.args).join(' ');
  for (const key of ['title', 'description', 'licenses']) {
    t.match(labels, new RegExp(`org\\.opencontainers\\.image\\.${key}=`), `OCI label ${key}`);
  }
  t.notOk(
    instructions.some((i) => i.keyword === 'HEALTHCHECK'),
    'no HEALTHCHECK: Kubernetes probes are in the manifests',
  );
  t.match(DOCKERFILE, /No HEALTHCHECK/, 'and the Dockerfile says why');
  t.notOk(instructions.some((i) => i.keyword === 'ADD'), 'no ADD at all (COPY for local files)');
  for (const i of instructions.filter((x) => x.keyword === 'ENV' || x.keyword === 'ARG')) {
    t.notMatch(i.args, /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY)/i, `line ${i.line}: no secret in ${i.keyword}`);
  }
  for (const i of instructions.filter((x) => x.keyword === 'COPY')) {
    t.notMatch(i.args, /\.npmrc|\.env\b|id_rsa|\.pem\b/, `line ${i.line}: copies no credentials`);
  }
});

t.test('.dockerignore keeps local and generated files out of the context', async (t) => {
  const entries = DOCKERIGNORE.split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const needed of ['node_modules', 'build', 'dist', '.git', 'test', 'bench', 'coverage', '.tap', 'docs']) {
    t.ok(entries.includes(needed), `ignores ${needed}`);
  }
  for (const kept of ['package.json', 'package-lock.json', 'runtime', 'tsconfig.json', 'tsconfig.build.json']) {
    t.notOk(entries.includes(kept), `keeps ${kept}, which the build needs`);
  }
  t.notOk(entries.some((e) => e.startsWith('!')), 'no re-includes');
});

t.test('each rule fails on a Dockerfile that breaks it', async (t) => {
  const broken: [string, string, RegExp][] = [
    ['alpine base', DOCKERFILE.replace(/node:20\.19\.5-bookworm-slim AS build/, 'node:20-alpine AS build'), /node:20-alpine: not a pinned bookworm/],
    ['floating tag', DOCKERFILE.replace(/node:20\.19\.5-bookworm-slim AS runtime/, 'node:lts AS runtime'), /node:lts: not a pinned bookworm/],
    ['Node 22', DOCKERFILE.replace(/node:20\.19\.5-bookworm-slim AS runtime/, 'node:22.20.0-bookworm-slim AS runtime'), /node:22\.20\.0-bookworm-slim/],
    ['bullseye', DOCKERFILE.replace(/node:20\.19\.5-bookworm-slim AS build/, 'node:20.19.5-bullseye-slim AS build'), /bullseye-slim: not a pinned/],
    ['single stage', DOCKERFILE.replace(/^FROM node:20\.19\.5-bookworm-slim AS runtime$/m, ''), /not multi-stage/],
    ['root user', DOCKERFILE.replace(/^USER 1000:1000$/m, 'USER 0:0'), /USER 0:0: root/],
    ['named user', DOCKERFILE.replace(/^USER 1000:1000$/m, 'USER node'), /USER node: not numeric/],
    ['no user', DOCKERFILE.replace(/^USER 1000:1000$/m, ''), /no USER/],
    ['shell-form entrypoint', DOCKERFILE.replace(/^ENTRYPOINT .*$/m, 'ENTRYPOINT node /app/build/runtime/cli.js'), /no exec-form ENTRYPOINT/],
    ['other entrypoint', DOCKERFILE.replace(/^ENTRYPOINT .*$/m, 'ENTRYPOINT ["node", "/app/main.js"]'), /does not run build\/runtime\/cli\.js/],
    ['remote ADD', DOCKERFILE.replace(/^WORKDIR \/app$/m, 'WORKDIR /app\nADD https://example.com/x.tgz /tmp/'), /ADD of a remote source/],
    ['npm install', DOCKERFILE.replace(/npm ci --no-audit --no-fund/, 'npm install --no-audit --no-fund'), /npm ci is not used/],
    ['npm install as well', DOCKERFILE.replace(/npm run build/, 'npm install && npm run build'), /npm install instead of npm ci/],
  ];
  for (const [what, text, expected] of broken) {
    t.not(text, DOCKERFILE, `${what}: the copy is changed`);
    t.match(checkDockerfile(text).join('\n'), expected, `${what} is caught`);
  }
});
