/**
 * The OpenAPI 3.0 document of the REST API, generated from the route table and
 * the request schemas the server validates with (api-spec.ts). Served at
 * /api/openapi.json and written to docs/openapi.json (`npx tsx runtime/app/openapi.ts`;
 * a test fails when the committed file is stale).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageVersion } from '../common/version';
import { COMPONENTS, ROUTES, type RouteSpec } from './api-spec';
import type { Schema } from './schema';

function bodySchema(body: string): Schema | object {
  if (body.endsWith('[]')) return { type: 'array', items: { $ref: `#/components/schemas/${body.slice(0, -2)}` } };
  return { $ref: `#/components/schemas/${body}` };
}

function operation(r: RouteSpec): object {
  const parameters: object[] = [];
  for (const [name, description] of Object.entries(r.params ?? {})) parameters.push({ name, in: 'path', required: true, description, schema: { type: 'string' } });
  for (const [name, schema] of Object.entries(r.query?.properties ?? {})) {
    const { description, ...rest } = schema;
    parameters.push({ name, in: 'query', required: (r.query?.required ?? []).includes(name), ...(description ? { description } : {}), schema: rest });
  }
  const responses: Record<string, object> = {};
  for (const [code, spec] of Object.entries(r.responses)) {
    const content =
      spec.body === undefined ? undefined : spec.body === 'text' ? { 'text/plain': { schema: { type: 'string' } } } : { 'application/json': { schema: bodySchema(spec.body) } };
    responses[code] = content ? { description: spec.description, content } : { description: spec.description };
  }
  const op: Record<string, unknown> = { operationId: r.name, summary: r.summary, responses };
  if (parameters.length > 0) op.parameters = parameters;
  if (r.role !== null) {
    op.security = [{ bearer: [] }];
    op['x-role'] = r.role;
  } else {
    op.security = [];
  }
  if (r.websocket) op['x-websocket'] = true;
  if (r.body) {
    const schema = typeof r.body.schema === 'string' ? { $ref: `#/components/schemas/${r.body.schema}` } : r.body.schema;
    op.requestBody = {
      required: true,
      description: r.body.encoding ? `Sent with Content-Encoding: ${r.body.encoding}` : undefined,
      content: { [r.body.contentType]: { schema } },
    };
    if (!r.body.encoding) delete (op.requestBody as Record<string, unknown>).description;
  }
  return op;
}

export function openApiDocument(): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const r of ROUTES) (paths[r.path] ??= {})[r.method] = operation(r);
  return {
    openapi: '3.0.3',
    info: {
      title: 'orchestrator monitoring app',
      version: packageVersion(),
      description: 'Live topologies merged from every probe. Every endpoint but /healthz needs a bearer token; roles: probe, viewer, admin (admin includes viewer). /metrics and /readyz take a token of any role (x-role: any).',
    },
    servers: [{ url: '/' }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: COMPONENTS },
    paths,
  };
}

export function openApiText(): string {
  return JSON.stringify(openApiDocument(), null, 2) + '\n';
}

export const OPENAPI_DOC_FILE = join(__dirname, '../../docs/openapi.json');

if (require.main === module) {
  writeFileSync(OPENAPI_DOC_FILE, openApiText());
  process.stdout.write(`wrote ${OPENAPI_DOC_FILE}\n`);
}
