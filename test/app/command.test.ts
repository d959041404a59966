/** `orchestrator app` as a process: TLS, listen address, no default credentials, clean SIGTERM, structured logs. */
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { DEFAULT_HEAP_GROWTH_PERCENT, DEFAULT_SEMI_SPACE_GROWTH, parseHeapGrowth, parseListen, parseSemiSpaceGrowth } from '../../runtime/app/command';
import { REPORT_PATH } from '../../runtime/control/protocol';
import { encodeReportSync } from '../../runtime/report';
import { SimProbe, loadTemplates } from './fleet';
import { TOKENS } from './helpers';
import { tempDir } from '../helpers/temp-dir';
import { selfSignedCertificate } from '../helpers/tls';

const TSX = join(__dirname, '../../node_modules/tsx/dist/cli.mjs');
const RUN = join(__dirname, '../../runtime/app/command.ts');

const tmp = (): string => tempDir('app-cli-');

function tokensFile(dir: string): string {
  const f = join(dir, 'tokens');
  writeFileSync(f, `# test tokens\nalice:viewer:${TOKENS.viewer}\nbot:probe:${TOKENS.probe}\n`, { mode: 0o600 });
  return f;
}

/** Starts the app and resolves with its URL (and its ingest listener's, when it has one) once it logs that it listens. */
function startProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ proc: ChildProcess; url: string; ingestUrl?: string; lines: Array<Record<string, unknown>> }> {
  const proc = spawn(process.execPath, [TSX, RUN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    proc.stderr!.on('data', (d) => (err += d));
    proc.stdout!.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const o = JSON.parse(line);
          lines.push(o);
          if (o.msg === 'listening') resolve({ proc, url: o.url, ...(o.ingestUrl ? { ingestUrl: o.ingestUrl } : {}), lines });
        } catch {
          // not a log line
        }
      }
    });
    proc.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

t.test('--listen parsing; 127.0.0.1 unless told', async (t) => {
  t.same(parseListen('0.0.0.0:4040'), { host: '0.0.0.0', port: 4040 });
  t.same(parseListen('[::1]:80'), { host: '::1', port: 80 });
  t.throws(() => parseListen('4040'));
  t.throws(() => parseListen('h:70000'));
  t.equal(parseHeapGrowth('30'), 30);
  t.equal(parseHeapGrowth('0'), 0, '0 leaves V8 its own heuristics');
  t.throws(() => parseHeapGrowth('-5'), /whole percent from 0 to 400/);
  t.throws(() => parseHeapGrowth('1e3'), /whole percent/);
  t.throws(() => parseHeapGrowth('500'), /whole percent/);
  t.equal(parseSemiSpaceGrowth('1'), 1);
  t.equal(parseSemiSpaceGrowth('0'), 0, '0 leaves V8 its own growth');
  t.throws(() => parseSemiSpaceGrowth('9'), /whole factor from 0 to 8/);
  t.throws(() => parseSemiSpaceGrowth('1.5'), /whole factor/);
  const help = spawnSync(process.execPath, [TSX, RUN, '--help'], { encoding: 'utf8' });
  t.match(help.stdout, /default: 127\.0\.0\.1:4040/);
  t.match(help.stdout, new RegExp(`--heap-growth-percent <n>[\\s\\S]*default: ${DEFAULT_HEAP_GROWTH_PERCENT}`));
  t.match(help.stdout, new RegExp(`--semi-space-growth <n>[\\s\\S]*default: ${DEFAULT_SEMI_SPACE_GROWTH}`));
});

t.test('no tokens, no app: there are no default credentials', async (t) => {
  const r = spawnSync(process.execPath, [TSX, RUN, '--listen', '127.0.0.1:0'], { encoding: 'utf8', env: { ...process.env, ORCHESTRATOR_APP_TOKENS: '' } });
  t.not(r.status, 0);
  t.match(r.stderr, /no tokens configured/);
  const half = spawnSync(process.execPath, [TSX, RUN, '--tokens-file', tokensFile(tmp()), '--tls-cert', 'x.pem'], { encoding: 'utf8' });
  t.not(half.status, 0);
  t.match(half.stderr, /--tls-cert and --tls-key go together/);
});

t.test('an address the app cannot have: exit 1 naming it, with or without --ingest-listen (no abort)', async (t) => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  const tokens = tokensFile(tmp());
  for (const extra of [[], ['--ingest-listen', '127.0.0.1:0']]) {
    const r = spawnSync(process.execPath, [TSX, RUN, '--listen', `127.0.0.1:${port}`, '--tokens-file', tokens, ...extra], { encoding: 'utf8', timeout: 60_000 });
    const how = extra.length === 0 ? 'alone' : 'with an ingest listener';
    t.equal(r.status, 1, `${how}: exit 1`);
    t.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`), `${how}: the address is named`);
    t.notMatch(r.stderr, /uv_loop_close|Assertion failed/, `${how}: no abort (the model thread's listener is closed first)`);
  }
});

t.test('TLS with certificate and key files; SIGTERM stops it cleanly', async (t) => {
  const dir = tmp();
  const { certFile: cert, keyFile: key, ...ssl } = selfSignedCertificate(dir);
  t.equal(ssl.status, 0, ssl.stderr);
  const audit = join(dir, 'audit.jsonl');
  const { proc, url, lines } = await startProcess(['--listen', '127.0.0.1:0', '--tokens-file', tokensFile(dir), '--tls-cert', cert, '--tls-key', key, '--audit-log', audit]);
  t.teardown(() => proc.kill('SIGKILL'));
  t.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const dispatcher = new Agent({ connect: { ca: readFileSync(cert) } });
  const health = await request(url + '/healthz', { dispatcher });
  t.equal(health.statusCode, 200);
  await health.body.text();
  const views = await request(url + '/api/topology', { dispatcher, headers: { authorization: `Bearer ${TOKENS.viewer}` } });
  t.equal(views.statusCode, 200);
  t.equal((await views.body.json() as unknown[]).length, 8);
  const none = await request(url + '/api/topology', { dispatcher });
  t.equal(none.statusCode, 401);
  await none.body.text();
  await dispatcher.close();
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  proc.kill('SIGTERM');
  t.equal(await exited, 0, 'exit code 0 after SIGTERM');
  t.ok(lines.some((l) => l.msg === 'stopping' && l.signal === 'SIGTERM'));
  t.ok(lines.some((l) => l.msg === 'stopped'));
  t.ok(lines.every((l) => typeof l.level === 'string' && typeof l.time === 'string' && l.service === 'app'), 'structured logs');
});

t.test('--ingest-listen: reports over TLS on a port of their own; SIGTERM stops both listeners', async (t) => {
  const dir = tmp();
  const { certFile: cert, keyFile: key, ...ssl } = selfSignedCertificate(dir);
  t.equal(ssl.status, 0, ssl.stderr);
  t.throws(() => parseListen('127.0.0.1'), /expected HOST:PORT/, '--ingest-listen is parsed as --listen is');
  const { proc, url, ingestUrl, lines } = await startProcess(['--listen', '127.0.0.1:0', '--ingest-listen', '127.0.0.1:0', '--tokens-file', tokensFile(dir), '--tls-cert', cert, '--tls-key', key]);
  t.teardown(() => proc.kill('SIGKILL'));
  t.match(ingestUrl, /^https:\/\/127\.0\.0\.1:\d+$/, 'the listening line gives the ingest URL, with TLS as the app\'s');
  t.not(ingestUrl, url);
  const dispatcher = new Agent({ connect: { ca: readFileSync(cert) } });
  const tpl = await loadTemplates();
  const report = new SimProbe(0, { probes: 1, containersPerProbe: 1, processesPerProbe: 2, connectionsPerProbe: 0 }, tpl).full(Date.now());
  const posted = await request(ingestUrl + REPORT_PATH, {
    dispatcher,
    method: 'POST',
    headers: { authorization: `Bearer ${TOKENS.probe}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: encodeReportSync(report),
  });
  t.equal(posted.statusCode, 202, await posted.body.text());
  const probes = await request(url + '/api/probes', { dispatcher, headers: { authorization: `Bearer ${TOKENS.viewer}` } });
  t.equal(((await probes.body.json()) as unknown[]).length, 1, 'the app\'s listener shows the probe');
  await dispatcher.close();
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  proc.kill('SIGTERM');
  t.equal(await exited, 0, 'exit code 0 after SIGTERM');
  t.ok(lines.some((l) => l.msg === 'stopped'));
});
