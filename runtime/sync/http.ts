/**
 * The engine's HTTP endpoints: `/metrics` (Prometheus text), `/healthz`
 * (200 unless the engine failed), `/readyz` (200 while streaming with lag
 * under the threshold), `/status` (JSON, including conflicts) and
 * `POST /conflicts/resolve` (`{"path": "/x", "take": "source"|"target"}`).
 */
import http from 'node:http';
import { SyncError } from './errors';
import type { SyncEngine } from './engine';

export async function serveEngine(engine: SyncEngine, port: number, host = '0.0.0.0'): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const send = (code: number, body: unknown, type = 'application/json'): void => {
      res.writeHead(code, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/metrics') {
      engine.status(); // refreshes the backlog and open-conflict gauges
      engine.metrics.registry.metrics().then(
        (text) => send(200, text, engine.metrics.registry.contentType),
        (err: unknown) => send(500, { error: String(err) }),
      );
    } else if (req.method === 'GET' && url.pathname === '/healthz') {
      send(engine.phase === 'failed' ? 503 : 200, { phase: engine.phase });
    } else if (req.method === 'GET' && url.pathname === '/readyz') {
      const r = engine.readiness();
      send(r.ready ? 200 : 503, r);
    } else if (req.method === 'GET' && (url.pathname === '/status' || url.pathname === '/')) {
      send(200, engine.status());
    } else if (req.method === 'POST' && url.pathname === '/conflicts/resolve') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        let input: { path?: unknown; take?: unknown };
        try {
          input = JSON.parse(body) as typeof input;
        } catch {
          return send(400, { error: 'body must be JSON: {"path": "/x", "take": "source"|"target"}' });
        }
        if (typeof input.path !== 'string' || (input.take !== 'source' && input.take !== 'target')) return send(400, { error: 'need path (string) and take (source|target)' });
        engine.resolveConflict(input.path, input.take).then(
          (c) => send(200, c),
          (err: unknown) => send(err instanceof SyncError && err.code === 'SYNC_USAGE' ? 404 : 500, { error: (err as Error).message }),
        );
      });
    } else send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
