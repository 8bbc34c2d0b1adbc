import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { columnValues, flat, listColumn, makeTable, readArrowFile, vectorColumn, writeArrowFile, writeParquetFile } from '../../../core/artifacts/arrow-io.ts';

const dir = mkdtempSync(join(tmpdir(), 'arrow-io-'));
const python = new URL('../../../.venv/bin/python', import.meta.url).pathname;

test('flat, list and vector columns round-trip through Arrow IPC with exact lengths', () => {
  const ids = Int32Array.from([5, 6, 7]);
  const table = makeTable({
    item: flat(ids),
    same: flat(ids), // shares a buffer with `item`
    action: flat(Int8Array.from([0, 1, 2])),
    tags: { kind: 'list', offsets: Int32Array.from([0, 2, 2, 3]), values: Int32Array.from([1, 2, 3]) },
    emb: { kind: 'vector', dim: 2, values: Float32Array.from([0.5, 1, 1.5, 2, 2.5, 3]) },
  });
  const file = join(dir, 't.arrow');
  writeArrowFile(file, table);
  const back = readArrowFile(file);
  assert.equal(back.numRows, 3);
  assert.deepEqual(Array.from(columnValues(back, 'item')), [5, 6, 7]);
  assert.deepEqual(Array.from(columnValues(back, 'same')), [5, 6, 7]);
  assert.deepEqual(Array.from(columnValues(back, 'action')), [0, 1, 2], 'int8 column not padded to 8 rows');
  const tags = listColumn(back, 'tags');
  assert.deepEqual([Array.from(tags.offsets), Array.from(tags.values)], [[0, 2, 2, 3], [1, 2, 3]]);
  const emb = vectorColumn(back, 'emb');
  assert.equal(emb.dim, 2);
  assert.deepEqual(Array.from(emb.values), [0.5, 1, 1.5, 2, 2.5, 3]);
  assert.throws(() => columnValues(back, 'nope'), /missing column 'nope'/);
});

test('writes are deterministic and a corrupt file is a clear error', () => {
  const t = makeTable({ a: flat(Int32Array.from([1, 2, 3])) });
  writeArrowFile(join(dir, 'a.arrow'), t);
  writeArrowFile(join(dir, 'b.arrow'), t);
  assert.deepEqual(readFileSync(join(dir, 'a.arrow')), readFileSync(join(dir, 'b.arrow')));
  writeParquetFile(join(dir, 'a.parquet'), t);
  writeParquetFile(join(dir, 'b.parquet'), t);
  assert.deepEqual(readFileSync(join(dir, 'a.parquet')), readFileSync(join(dir, 'b.parquet')));
  assert.throws(() => readArrowFile(join(dir, 'a.parquet')), /a\.parquet: not a valid Arrow IPC file/);
  assert.throws(() => readArrowFile(join(dir, 'missing.arrow')), /missing\.arrow: not found/);
});

test('pyarrow reads the Parquet copy with the same schema and values', (t) => {
  const r0 = spawnSync(python, ['-c', 'import pyarrow'], { encoding: 'utf8' });
  if (r0.status !== 0) return t.skip('pyarrow not in .venv (run npm run setup)');
  const table = makeTable({
    user: flat(Int32Array.from([1, 2, 3, 4])),
    ts: flat(Uint32Array.from([1745813860, 1745813861, 4000000000, 0])),
    tags: { kind: 'list', offsets: Int32Array.from([0, 1, 1, 3, 4]), values: Int32Array.from([9, 8, 7, 6]) },
    emb: { kind: 'vector', dim: 3, values: new Float32Array(12).map((_, i) => i / 4) },
  });
  const file = join(dir, 'py.parquet');
  writeParquetFile(file, table);
  const r = spawnSync(python, ['-c', `
import pyarrow.parquet as pq, json
t = pq.read_table(${JSON.stringify(file)})
print(json.dumps({"rows": t.num_rows, "types": [str(f.type) for f in t.schema], "ts": t.column("ts").to_pylist(), "tags": t.column("tags").to_pylist(), "emb_sum": sum(sum(v) for v in t.column("emb").to_pylist()), "codec": pq.ParquetFile(${JSON.stringify(file)}).metadata.row_group(0).column(0).compression}))
`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  assert.equal(got.rows, 4);
  assert.deepEqual(got.types, ['int32', 'uint32', 'list<item: int32 not null>', 'fixed_size_list<item: float not null>[3]']);
  assert.deepEqual(got.ts, [1745813860, 1745813861, 4000000000, 0]);
  assert.deepEqual(got.tags, [[9], [], [8, 7], [6]]);
  assert.equal(got.emb_sum, 16.5);
  assert.equal(got.codec, 'ZSTD');
});
