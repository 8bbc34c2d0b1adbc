// Parquet input: the same columns as CSV, typed — string user ids, int64 item ids, a timestamp column
// (epoch milliseconds in Arrow) — give the same TAAC lines as the equivalent CSV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Table, TimestampMillisecond, tableToIPC, vectorFromArray } from 'apache-arrow';
import { Table as WasmTable, writeParquet } from 'parquet-wasm';
import { inputFolder, runImport } from './import-fixture.ts';

test('Parquet: typed columns import like the equivalent CSV', async () => {
  const table = new Table({
    userId: vectorFromArray(['b', 'a', 'b']),
    movieId: vectorFromArray([BigInt(20), BigInt(10), BigInt(10)]),
    timestamp: vectorFromArray([new Date(3_000_000_000), new Date(1_000_000_000), new Date(2_000_000_000)], new TimestampMillisecond()),
  });
  const dir = inputFolder({ 'log.csv': 'userId,movieId,timestamp\nb,20,3000000\na,10,1000000\nb,10,2000000\n' });
  writeFileSync(join(dir, 'log.parquet'), writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream'))));
  const s = await runImport(join(dir, 'log.parquet'), join(dir, 'pq'));
  await runImport(join(dir, 'log.csv'), join(dir, 'csv'));
  assert.equal(s.format, 'parquet');
  const seq = readFileSync(join(dir, 'pq', 'seq.jsonl'), 'utf8');
  assert.deepEqual(seq.trim().split('\n'), ['[[1, 2, null, null, 1, 2000000], [1, 1, null, null, 1, 3000000]]', '[[2, 2, null, null, 1, 1000000]]']);
  for (const f of ['seq.jsonl', 'indexer.pkl', 'seq_offsets.pkl', 'item_feat_dict.json']) {
    assert.equal(readFileSync(join(dir, 'pq', f), 'latin1'), readFileSync(join(dir, 'csv', f), 'latin1'), `${f} identical to the CSV import`);
  }
});
