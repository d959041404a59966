/**
 * jsonPieces / jsonChunks (runtime/report/json-pieces.ts): joined, they are
 * JSON.stringify's text for every kind of value a report (or anything else)
 * can hold, at every split depth; chunks stay near their size.
 */
import t from 'tap';
import { jsonChunks, jsonPieces } from '../../runtime/report/json-pieces';

class WithToJson {
  toJSON(): unknown {
    return { as: 'json' };
  }
}

const values: Array<[string, unknown]> = [
  ['a number', 42],
  ['a string with quotes and unicode', 'a "q" \\ é ✓ \u2028'],
  ['null', null],
  ['true', true],
  ['undefined at the top', undefined],
  ['a function at the top', () => 1],
  ['an empty object', {}],
  ['an empty array', []],
  [
    'nested objects with undefined, functions and symbols left out',
    { a: 1, b: undefined, c: () => 2, d: Symbol('s'), e: { f: [1, undefined, () => 3, Symbol('t'), { g: null }] }, h: '' },
  ],
  ['objects whose first keys are left out', { a: undefined, b: { c: undefined, d: 1 } }],
  ['toJSON giving undefined: the key left out, null in an array', { a: { toJSON: () => undefined }, b: [{ toJSON: () => undefined }], c: 1 }],
  ['a Date and a class with toJSON', { when: new Date(0), x: new WithToJson(), y: [new WithToJson()] }],
  ['boxed primitives and a Map', { n: new Number(3), s: new String('s'), b: new Boolean(false), m: new Map([[1, 2]]) }],
  ['an object without a prototype', Object.assign(Object.create(null) as object, { k: [1, 2, { z: 'z' }] })],
  ['keys that need escaping', { 'a"b': 1, 'new\nline': { '\u0000': 2 } }],
  ['integer-like keys (JSON.stringify writes them first, ascending)', { b: 1, 2: 'two', a: 3, 1: 'one' }],
  ['deep arrays', [[[[[[1, [2, [3]]]]]]]]],
];

t.test('joined pieces are JSON.stringify text at every split depth', async (t) => {
  for (const [name, value] of values) {
    for (const depth of [0, 1, 2, 3, 4, 8]) {
      t.equal([...jsonPieces(value, depth)].join(''), JSON.stringify(value) ?? '', `${name}, depth ${depth}`);
    }
  }
});

t.test('pieces split the top levels: a node is one piece, not the whole text', async (t) => {
  const report = { topologies: { process: { nodes: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`n${i}`, { latest: { v: 'x'.repeat(100) } }])) } } };
  const pieces = [...jsonPieces(report)];
  const longest = Math.max(...pieces.map((p) => p.length));
  t.ok(pieces.length > 50, `${pieces.length} pieces for 50 nodes`);
  t.ok(longest < 200, `longest piece ${longest} characters (one node)`);
});

t.test('chunks are at least chunkChars (but the last) and at most chunkChars plus one piece', async (t) => {
  const value = { list: Array.from({ length: 2000 }, (_, i) => ({ i, s: 'y'.repeat(i % 37) })) };
  const longestPiece = Math.max(...[...jsonPieces(value, 2)].map((p) => p.length));
  const chunks = [...jsonChunks(value, 1000, 2)];
  t.equal(chunks.join(''), JSON.stringify(value));
  chunks.slice(0, -1).forEach((c, i) => t.ok(c.length >= 1000 && c.length < 1000 + longestPiece, `chunk ${i}: ${c.length}`));
  t.throws(() => [...jsonChunks(value, 0)], /chunkChars must be a positive number/);
});
