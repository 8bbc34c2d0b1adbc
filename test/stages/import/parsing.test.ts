// The small parsers under import: CSV rows (quotes, CRLF, BOM, embedded newlines, line numbers),
// timestamps (seconds, milliseconds, ISO dates), --action-map rules and header recognition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mapAction, parseActionMap } from '../../../stages/import/action-map.ts';
import { parseHeader, resolveColumns } from '../../../stages/import/columns.ts';
import { readDelimited, sniffDelimiter } from '../../../stages/import/delimited.ts';
import { parseTimestamp } from '../../../stages/import/timestamps.ts';
import { tempDir } from './import-fixture.ts';

function rows(text: string | Uint8Array, delimiter = ','): [number, string[]][] {
  const file = join(tempDir(), 'x.csv');
  writeFileSync(file, text);
  return [...readDelimited(file, delimiter)].map((r) => [r.line, r.fields]);
}

test('CSV rows: quotes, doubled quotes, delimiters and newlines inside quotes, CRLF, BOM, blank lines', () => {
  const text = '\uFEFFa,b\r\n"x, y","say ""hi"""\r\n\r\n"multi\nline",é\n1,\n';
  assert.deepEqual(rows(text), [
    [1, ['a', 'b']],
    [2, ['x, y', 'say "hi"']],
    [4, ['multi\nline', 'é']],
    [6, ['1', '']],
  ]);
  assert.deepEqual(rows('a\tb\nc\td', '\t'), [[1, ['a', 'b']], [2, ['c', 'd']]], 'no final newline');
});

test('CSV rows: a row longer than the read buffer, and many rows across buffer boundaries', () => {
  const long = 'x'.repeat(5 << 20);
  assert.deepEqual(rows(`h\n${long}\n`).map(([l, f]) => [l, f[0]!.length]), [[1, 1], [2, long.length]]);
  const many = ['u,i', ...Array.from({ length: 300_000 }, (_, k) => `${k},"${k % 7}"`)].join('\n');
  const got = rows(many);
  assert.equal(got.length, 300_001);
  assert.deepEqual(got[123_456], [123_457, ['123455', String(123_455 % 7)]]);
});

test('delimiter: by extension, else sniffed from the header', () => {
  assert.equal(sniffDelimiter('a.tsv', 'a,b'), '\t');
  assert.equal(sniffDelimiter('ml.inter', 'a,b'), '\t');
  assert.equal(sniffDelimiter('a.csv', 'a\tb'), ',');
  assert.equal(sniffDelimiter('log.txt', 'a;b;c'), ';');
  assert.equal(sniffDelimiter('log.txt', 'a\tb'), '\t');
});

test('timestamps: seconds, floats, milliseconds, ISO dates with zones; null for the rest', () => {
  assert.equal(parseTimestamp('881250949'), 881250949);
  assert.equal(parseTimestamp('881250949.7'), 881250949);
  assert.equal(parseTimestamp('1700000000123'), 1700000000);
  assert.equal(parseTimestamp(1700000000123n), 1700000000);
  assert.equal(parseTimestamp('2024-01-02'), 1704153600);
  assert.equal(parseTimestamp('2024-01-02T03:04:05Z'), 1704153600 + 3 * 3600 + 4 * 60 + 5);
  assert.equal(parseTimestamp('2024-01-02 08:00:00+08:00'), 1704153600);
  assert.equal(parseTimestamp('2024-01-02T03:04:05.250-01:30'), 1704153600 + 3 * 3600 + 4 * 60 + 5 + 5400);
  for (const bad of ['', 'soon', '-5', '2024-02-30', '2024-13-01', '99999999999999999999', 'NaN', '1e400']) assert.equal(parseTimestamp(bad), null, bad);
});

test('--action-map: comparisons on named columns, bare values on the action column, else and drop, first match wins', () => {
  const m = parseActionMap('rating>=4:1,rating=3:0,else:drop');
  const row = (rating: string) => mapAction(m, (c) => (c === 'rating' ? rating : ''));
  assert.deepEqual(['5', '4', '3', '2.5', 'n/a'].map(row), [1, 1, 0, 'drop', 'drop']);
  const b = parseActionMap('view:0,click:1, buy :2');
  assert.deepEqual(['view', 'click', 'buy', 'cart'].map((v) => mapAction(b, () => v)), [0, 1, 2, null]);
  const ne = parseActionMap('!=0:1,else:0');
  assert.deepEqual(['0', '0.0', '3'].map((v) => mapAction(ne, () => v)), [0, 0, 1]);
  assert.throws(() => parseActionMap('rating>=4'), /has no ':VALUE'/);
  assert.throws(() => parseActionMap('rating>high:1'), /> needs a number/);
  assert.throws(() => parseActionMap(':1'), /empty condition/);
});

test('columns: spellings recognised across case and RecBole types; the first-ranked spelling wins; flags override', () => {
  const cols = parseHeader('f', 1, ['UserId', 'movieId', 'Rating', 'time', 'timestamp:float']);
  const r = resolveColumns('f', 1, cols, {});
  assert.deepEqual(r.index, { user: 0, item: 1, time: 4, rating: 2 });
  assert.deepEqual(resolveColumns('f', 1, cols, { time: 'time' }).index.time, 3);
  assert.throws(() => resolveColumns('f', 1, cols, { item: 'UserId' }), /cannot be both the user and the item column/);
  assert.deepEqual(parseHeader('f', 1, ['a:token_seq', 'b:c'])[1], { name: 'b:c', type: null }, 'an unknown suffix is part of the name');
});
