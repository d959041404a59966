import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The version of this build, read from package.json at the repository (or
 * image) root. The file sits two levels above both `runtime/common/*.ts` and
 * the compiled `build/runtime/common/*.js`, so one lookup serves both layouts.
 */
export function packageVersion(): string {
  for (const up of ['../..', '../../..']) {
    try {
      const pkg = JSON.parse(readFileSync(join(__dirname, up, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'orchestrator' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not at this level; try the next
    }
  }
  throw new Error('package.json of orchestrator not found above ' + __dirname);
}
