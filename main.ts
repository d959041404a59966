/**
 * Synthesizes the platform for every environment: one cdk8s App per environment, written
 * to `<out>/<env>/` (default `dist/`). The folder of each environment is emptied first, so
 * a removed part disappears from the output; the result is byte-for-byte deterministic.
 *
 *   npm run synth                 → dist/dev, dist/staging, dist/prod, dist/apps, dist/bootstrap
 *   npx tsx main.ts --out DIR     → the same under DIR (the drift test uses this)
 */
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { App, YamlOutputType } from 'cdk8s';
import { GitOpsApps, GitOpsBootstrap } from './constructs/delivery/argocd';
import { ENVIRONMENTS, ENVIRONMENT_NAMES, type EnvironmentName } from './constructs/environments';
import { MONITORING_APP_SERVICES } from './constructs/monitoring-app';
import { Platform } from './constructs/platform';

/** Folders of dist/ that are not an environment: what Argo CD itself is given. */
export const GITOPS_FOLDERS = ['apps', 'bootstrap'] as const;

export function synthesize(outRoot: string, envs: readonly EnvironmentName[] = ENVIRONMENT_NAMES): void {
  for (const name of envs) {
    const outdir = join(outRoot, name);
    rmSync(outdir, { recursive: true, force: true });
    const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
    new Platform(app, ENVIRONMENTS[name]);
    app.synth();
  }
  synthesizeGitOps(outRoot);
}

/**
 * dist/apps (the root Application's children) and dist/bootstrap (applied by hand once).
 * They depend on every environment's values but not on image tags, so a promotion rewrites
 * them byte for byte.
 */
export function synthesizeGitOps(outRoot: string): void {
  const apps = join(outRoot, 'apps');
  const bootstrap = join(outRoot, 'bootstrap');
  for (const dir of [apps, bootstrap]) rmSync(dir, { recursive: true, force: true });
  const appsApp = new App({ outdir: apps, yamlOutputType: YamlOutputType.FILE_PER_CHART });
  new GitOpsApps(appsApp, 'applications', { environments: ENVIRONMENT_NAMES.map((n) => ENVIRONMENTS[n]), app: MONITORING_APP_SERVICES });
  appsApp.synth();
  const bootstrapApp = new App({ outdir: bootstrap, yamlOutputType: YamlOutputType.FILE_PER_CHART });
  new GitOpsBootstrap(bootstrapApp, 'root');
  bootstrapApp.synth();
}

function parseOut(argv: readonly string[]): string {
  const i = argv.indexOf('--out');
  if (i === -1) return resolve(__dirname, 'dist');
  const dir = argv[i + 1];
  if (!dir) throw new Error('--out needs a directory');
  return resolve(dir);
}

if (require.main === module) {
  synthesize(parseOut(process.argv.slice(2)));
}
