/**
 * Synthesizes the platform for every environment: one cdk8s App per environment, written
 * to `<out>/<env>/` (default `dist/`). The folder of each environment is emptied first, so
 * a removed part disappears from the output; the result is byte-for-byte deterministic.
 *
 *   npm run synth                 → dist/dev, dist/staging, dist/prod
 *   npx tsx main.ts --out DIR     → the same under DIR (the drift test uses this)
 */
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { App, YamlOutputType } from 'cdk8s';
import { ENVIRONMENTS, ENVIRONMENT_NAMES, type EnvironmentName } from './constructs/environments';
import { Platform } from './constructs/platform';

export function synthesize(outRoot: string, envs: readonly EnvironmentName[] = ENVIRONMENT_NAMES): void {
  for (const name of envs) {
    const outdir = join(outRoot, name);
    rmSync(outdir, { recursive: true, force: true });
    const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
    new Platform(app, ENVIRONMENTS[name]);
    app.synth();
  }
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
