import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseJsonLines, readJsonLines, type JsonLine } from '../../../core/taac/jsonl.ts';
import { UserError } from '../../../core/stage/errors.ts';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/tencentgr_1k_sample/', import.meta.url));

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

async function collect(file: string, chunkBytes?: number): Promise<JsonLine[]> {
  const out: JsonLine[] = [];
  for await (const l of readJsonLines(file, { chunkBytes })) out.push(l);
  return out;
}

/** Writes `bytes` to a fresh temp file, runs `fn(path)`, cleans up. */
async function withFile<T>(bytes: Uint8Array, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'jsonl-'));
  try {
    const path = join(dir, 'data.jsonl');
    writeFileSync(path, bytes);
    return await fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Line starts found independently: 0 (or 3 after a BOM) and every byte after a '\n' that is not EOF. */
function lineStarts(bytes: Uint8Array): number[] {
  const starts: number[] = [];
  let at = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  if (at < bytes.length) starts.push(at);
  for (; at < bytes.length; at++) if (bytes[at] === 0x0a && at + 1 < bytes.length) starts.push(at + 1);
  return starts;
}

// A mixed file: multi-byte UTF-8 (2-, 3- and 4-byte), CRLF, an empty line, a truncated JSON line,
// a long line, invalid UTF-8, and a final line without '\n'.
const MIXED = ((): Uint8Array => {
  const parts: Uint8Array[] = [
    encode('[1, "héllo", {"用户": "特征"}]\n'),
    encode('{"emoji": "𝄞🙂", "n": -1.5e3}\r\n'),
    encode('\n'),
    encode('[640, 47086, null, {"112": 14\n'),
    encode(`[${Array.from({ length: 400 }, (_, i) => `"€${i}"`).join(', ')}]\n`),
    Uint8Array.from([0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d, 0x0a]), // ["\xff\xfe"]
    encode('\r\n'),
    encode('"last line, no newline ✓"'),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
})();

test('real seq_line0.jsonl: one line, 97 item records then the user record', async (t) => {
  const file = join(FIXTURES, 'seq_line0.jsonl');
  if (!existsSync(file)) return t.skip(`fixture ${file} absent`);
  const lines = await collect(file);
  assert.equal(lines.length, 1);
  const [first] = lines;
  assert.equal(first!.line, 1);
  assert.equal(first!.offset, 0);
  assert.equal(first!.error, undefined);
  const records = first!.value as unknown[][];
  assert.equal(records.length, 98);
  const items = records.filter((r) => r[1] !== null);
  assert.equal(items.length, 97);
  const user = records[records.length - 1]!;
  assert.equal(user[1], null);
  assert.equal(typeof user[2], 'object');
  assert.equal(user[0], records[0]![0]);
  // Same answer from the in-memory parser.
  assert.deepEqual([...parseJsonLines(new Uint8Array(readFileSync(file)))], lines);
});

test('mixed file: per-line values and errors, exact byte offsets', () => {
  const lines = [...parseJsonLines(MIXED)];
  assert.deepEqual(lines.map((l) => l.line), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(lines.map((l) => l.offset), lineStarts(MIXED));
  assert.deepEqual(lines[0]!.value, [1, 'héllo', { 用户: '特征' }]);
  assert.deepEqual(lines[1]!.value, { emoji: '𝄞🙂', n: -1500 }); // '\r' stripped
  assert.equal(lines[2]!.error, 'empty line');
  assert.ok(lines[3]!.error !== undefined && lines[3]!.value === undefined, 'truncated JSON is a line error');
  assert.equal((lines[4]!.value as string[]).length, 400);
  assert.equal(lines[5]!.error, 'invalid UTF-8');
  assert.equal(lines[6]!.error, 'empty line'); // a bare CRLF
  assert.equal(lines[7]!.value, 'last line, no newline ✓');
});

test('chunked file reads equal the whole-buffer parse for every chunk size', async () => {
  const expected = [...parseJsonLines(MIXED)];
  await withFile(MIXED, async (path) => {
    for (const chunkBytes of [1, 2, 3, 7, 64, 100, 1000, MIXED.length, 1 << 20, undefined]) {
      assert.deepEqual(await collect(path, chunkBytes), expected, `chunkBytes=${chunkBytes}`);
    }
  });
});

test('a multi-byte character split at every possible chunk boundary', async () => {
  const bytes = encode('"a€b𝄞c"\n["€€€"]\n');
  const expected = [...parseJsonLines(bytes)];
  assert.deepEqual(expected.map((l) => l.value), ['a€b𝄞c', ['€€€']]);
  await withFile(bytes, async (path) => {
    for (let chunkBytes = 1; chunkBytes <= bytes.length; chunkBytes++) {
      assert.deepEqual(await collect(path, chunkBytes), expected, `chunkBytes=${chunkBytes}`);
    }
  });
});

test('a UTF-8 BOM is skipped; offsets still count from the first byte of the file', async () => {
  const bytes = Uint8Array.from([0xef, 0xbb, 0xbf, ...encode('{"a": 1}\n[2]\n')]);
  const expected: JsonLine[] = [
    { line: 1, offset: 3, value: { a: 1 } },
    { line: 2, offset: 12, value: [2] },
  ];
  assert.deepEqual([...parseJsonLines(bytes)], expected);
  await withFile(bytes, async (path) => {
    for (const chunkBytes of [1, 2, 4, 64]) assert.deepEqual(await collect(path, chunkBytes), expected);
  });
  // A BOM-only file has no lines; a BOM later in the file is data, not skipped.
  assert.deepEqual([...parseJsonLines(Uint8Array.from([0xef, 0xbb, 0xbf]))], []);
  const later = [...parseJsonLines(Uint8Array.from([...encode('1\n'), 0xef, 0xbb, 0xbf, ...encode('2\n')]))];
  assert.ok(later[1]!.error !== undefined);
});

test('empty input and a lone newline', async () => {
  assert.deepEqual([...parseJsonLines(new Uint8Array(0))], []);
  assert.deepEqual([...parseJsonLines(encode('\n'))], [{ line: 1, offset: 0, error: 'empty line' }]);
  await withFile(new Uint8Array(0), async (path) => assert.deepEqual(await collect(path, 7), []));
});

test('offsets match a newline scan on a synthetic many-line file read with small chunks', async () => {
  const rows = Array.from({ length: 300 }, (_, i) => JSON.stringify([i, 'ü'.repeat(i % 17), { k: i * 3 }]));
  const bytes = encode(rows.join('\n') + '\n');
  await withFile(bytes, async (path) => {
    const lines = await collect(path, 64);
    assert.equal(lines.length, 300);
    assert.deepEqual(lines.map((l) => l.offset), lineStarts(bytes));
    assert.deepEqual(lines.map((l) => l.value), rows.map((r) => JSON.parse(r)));
  });
});

test('a missing file is a UserError naming it', async () => {
  const missing = join(tmpdir(), 'definitely-missing-dir-xyz', 'seq.jsonl');
  await assert.rejects(collect(missing), (e: unknown) => e instanceof UserError && e.message === `${missing}: not found`);
  const dir = mkdtempSync(join(tmpdir(), 'jsonl-dir-'));
  try {
    await assert.rejects(collect(dir), (e: unknown) => e instanceof UserError && e.message.startsWith(`${dir}: `));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
