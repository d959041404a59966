/**
 * Promotes this project's image to an environment: sets the environment's tag in
 * constructs/releases.json and re-synthesizes dist/<env>/. CI runs it after a build on main
 * (dev first, then staging and prod behind their approvals) and commits the result; ArgoCD
 * then rolls it out. Usable by hand the same way:
 *
 *   npm run promote -- --env staging --tag sha-1a2b3c4
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../constructs/environments';

export const RELEASES_FILE = join(__dirname, '..', 'constructs', 'releases.json');

/** Docker's tag grammar; `latest` is refused because dist/ must pin what it deploys. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function checkPromotion(env: string, tag: string): EnvironmentName {
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(env)) {
    throw new Error(`unknown environment "${env}"; expected one of ${ENVIRONMENT_NAMES.join(', ')}`);
  }
  if (!TAG.test(tag)) throw new Error(`"${tag}" is not a valid image tag (letters, digits, _ . -; at most 128)`);
  if (tag === 'latest') throw new Error('"latest" is not a release: promote an exact tag such as sha-1a2b3c4');
  return env as EnvironmentName;
}

/** Writes `tag` for `env` into the releases file, keeping the other environments and a stable layout. */
export function setReleaseTag(file: string, env: EnvironmentName, tag: string): void {
  const releases = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  releases[env] = tag;
  const ordered = Object.fromEntries(ENVIRONMENT_NAMES.map((e) => [e, releases[e]]));
  writeFileSync(file, JSON.stringify(ordered, null, 2) + '\n');
}

function arg(argv: readonly string[], name: string): string {
  const i = argv.indexOf(name);
  const v = i === -1 ? undefined : argv[i + 1];
  if (!v) throw new Error(`missing ${name}; usage: npm run promote -- --env <dev|staging|prod> --tag <tag>`);
  return v;
}

if (require.main === module) {
  try {
    const argv = process.argv.slice(2);
    const env = checkPromotion(arg(argv, '--env'), arg(argv, '--tag'));
    setReleaseTag(RELEASES_FILE, env, arg(argv, '--tag'));
    // Loaded after the write: environments.ts reads releases.json when it is imported.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { synthesize } = require('../main') as typeof import('../main');
    synthesize(join(__dirname, '..', 'dist'), [env]);
    process.stdout.write(`promoted ${env} to ${arg(argv, '--tag')}; dist/${env} re-synthesized\n`);
  } catch (err) {
    process.stderr.write(`promote: ${(err as Error).message}\n`);
    process.exitCode = 2;
  }
}
