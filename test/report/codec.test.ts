import t from 'tap';
import { gunzipSync, gzipSync } from 'node:zlib';
import { decodeReport, decodeReportSync, encodeReport, encodeReportSync, WIRE_LIMITS } from '../../runtime/report';
import { node, report } from './helpers';

const sample = report({ process: { 'process;h1;1;2': node({ latest: { name: { ts: 1, v: 'init' } } }) } });

t.test('encode then decode gives the report back', async (t) => {
  const bytes = await encodeReport(sample);
  t.equal(bytes[0], 0x1f, 'gzip magic');
  t.equal(bytes[1], 0x8b);
  const r = await decodeReport(bytes);
  t.ok(r.ok);
  if (r.ok) t.same(r.value, sample);
  const s = decodeReportSync(encodeReportSync(sample));
  t.ok(s.ok && JSON.stringify(s.value) === JSON.stringify(sample), 'sync forms agree');
});

t.test('a gzip bomb stops at the decompressed limit with a clear error', async (t) => {
  // 80 MB of spaces inside a valid JSON string, about 80 KB compressed: over the default 64 MiB limit.
  const head = Buffer.from('{"pad":"');
  const bomb = gzipSync(Buffer.concat([head, Buffer.alloc(80 * 1024 * 1024, 0x20), Buffer.from('"}')]));
  t.ok(bomb.length < 200_000, `bomb is ${bomb.length} bytes compressed`);
  const r = await decodeReport(bomb);
  t.notOk(r.ok);
  if (!r.ok) {
    t.equal(r.error.code, 'E_WIRE_TOO_LARGE');
    t.match(r.error.message, String(WIRE_LIMITS.maxDecodedBytes));
  }
  const small = decodeReportSync(gzipSync(Buffer.alloc(2 * 1024 * 1024, 0x20)), { maxDecodedBytes: 1024 * 1024 });
  t.equal(small.ok ? '' : small.error.code, 'E_WIRE_TOO_LARGE', 'a lower limit is honoured too');
});

t.test('garbage is an error result, not a rejection', async (t) => {
  const cases: [Uint8Array, string][] = [
    [Buffer.from('not gzip at all'), 'E_WIRE_CORRUPT'],
    [gzipSync(Buffer.from('{"half":')), 'E_WIRE_CORRUPT'],
    [gzipSync(Buffer.from('{"version":1}')), 'E_REPORT_INVALID'],
    [gzipSync(Buffer.from('{"version":99}')), 'E_REPORT_VERSION'],
    [(await encodeReport(sample)).subarray(0, 20), 'E_WIRE_CORRUPT'],
    [Buffer.alloc(0), 'E_WIRE_CORRUPT'],
  ];
  for (const [bytes, code] of cases) {
    const r = await decodeReport(bytes);
    t.equal(r.ok ? 'ok' : r.error.code, code);
  }
  const big = await decodeReport(Buffer.alloc(2048), { maxEncodedBytes: 1024 });
  t.equal(big.ok ? 'ok' : big.error.code, 'E_WIRE_TOO_LARGE', 'compressed size is bounded too');
});

t.test('a report of several megabytes is encoded in chunks and decodes to the same value', async (t) => {
  // 3,000 processes with long command lines: far more JSON than one ENCODE_CHUNK_CHARS chunk.
  const nodes: Record<string, ReturnType<typeof node>> = {};
  for (let i = 0; i < 3000; i++) {
    nodes[`process;h1;${i};${i}`] = node({ latest: { name: { ts: i, v: `p${i}` }, cmdline: { ts: i, v: `/usr/bin/p${i} --flag ${'x'.repeat(900)} é ✓` } } });
  }
  const big = report({ process: nodes });
  const text = JSON.stringify(big);
  t.ok(text.length > 2_000_000, `${text.length} characters of JSON`);
  const bytes = await encodeReport(big);
  t.same(gunzipSync(bytes).toString('utf8'), text, 'the bytes inflate to JSON.stringify of the report');
  const r = await decodeReport(bytes);
  t.ok(r.ok, r.ok ? 'valid' : r.error.message);
});
