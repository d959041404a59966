import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { checkPromotion, setReleaseTag } from '../../scripts/promote';
import { tempDir } from '../helpers/temp-dir';

t.test('a promotion changes only its environment and keeps a stable layout', async (t) => {
  const file = join(tempDir('promote-'), 'releases.json');
  writeFileSync(file, JSON.stringify({ prod: '1.0.0', dev: '1.0.0', staging: '1.0.0' }));
  setReleaseTag(file, 'staging', 'sha-1a2b3c4');
  t.equal(readFileSync(file, 'utf8'), '{\n  "dev": "1.0.0",\n  "staging": "sha-1a2b3c4",\n  "prod": "1.0.0"\n}\n');
});

t.test('bad promotions are refused with the reason', async (t) => {
  t.throws(() => checkPromotion('qa', 'sha-1'), /unknown environment "qa"; expected one of dev, staging, prod/);
  t.throws(() => checkPromotion('dev', 'latest'), /"latest" is not a release/);
  t.throws(() => checkPromotion('dev', 'a tag'), /not a valid image tag/);
  t.throws(() => checkPromotion('dev', '-x'), /not a valid image tag/);
  t.equal(checkPromotion('prod', 'v1.2.3'), 'prod');
});
