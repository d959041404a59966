/** The OpenAPI document: generated from the schemas that validate requests, served, and kept in docs/. */
import t from 'tap';
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { openApiText, OPENAPI_DOC_FILE } from '../../runtime/app/openapi';
import { CONTROL_BODY, FILTERS_QUERY, ROUTES, SEARCH_QUERY } from '../../runtime/app/api-spec';
import { check } from '../../runtime/app/schema';
import { TOKENS, http, startApp } from './helpers';

t.test('docs/openapi.json is what the code generates (run `npx tsx runtime/app/openapi.ts` after an API change)', async (t) => {
  t.equal(readFileSync(OPENAPI_DOC_FILE, 'utf8'), openApiText());
});

t.test('the app serves the same document, to a viewer', async (t) => {
  const app = await startApp();
  t.teardown(() => app.stop());
  const r = await http(app, 'GET', '/api/openapi.json', { token: TOKENS.viewer });
  t.equal(r.status, 200);
  t.equal(r.text, openApiText());
  t.equal(r.json.openapi, '3.0.3');
  for (const route of ROUTES) t.ok(r.json.paths[route.path][route.method], `${route.method} ${route.path} documented`);
  t.same(r.json.paths['/api/control'].post.requestBody.content['application/json'].schema, CONTROL_BODY, 'the request schema is the validating one');
});

t.test('the request schemas are valid JSON Schema, and ajv agrees with the app on samples', async (t) => {
  const ajv = new Ajv({ strict: false });
  const cases: Array<[object, unknown[]]> = [
    [CONTROL_BODY, [{ nodeId: 'container;abc', control: 'pause' }, { nodeId: 'container;abc', control: 'exec' }, { nodeId: 'x', control: 'stop' }, { control: 'stop' }, { nodeId: 'container;a', control: 'logs', tail: 0 }, { nodeId: 'container;a', control: 'logs', tail: 5, x: 1 }, []]],
    [FILTERS_QUERY, [{}, { namespace: 'shop' }, { namespace: 'Shop_' }, { status: 'running' }, { status: 'x' }, { colour: 'red' }]],
    [SEARCH_QUERY, [{ q: 'nginx' }, { q: '' }, { q: 'a', limit: 5 }, { q: 'a', limit: 0 }, { limit: 5 }]],
  ];
  for (const [schema, samples] of cases) {
    const validate = ajv.compile(schema);
    for (const s of samples) t.equal(check(schema, s) === null, validate(s), JSON.stringify(s));
  }
});
