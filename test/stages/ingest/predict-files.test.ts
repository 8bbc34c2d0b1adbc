import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPredictFiles, readParsedLines } from '../../../stages/ingest/predict-files.ts';
import { LineError } from '../../../stages/ingest/records.ts';

test('findPredictFiles: none → null, one without the other → error', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'predict-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(findPredictFiles(dir), null);
  writeFileSync(join(dir, 'predict_seq.jsonl'), '[[1, 2, null, null, 0, 5]]\n');
  assert.throws(() => findPredictFiles(dir), /predict_set\.jsonl: not found \(competition inference needs both/);
  writeFileSync(join(dir, 'predict_set.jsonl'), '{"creative_id": 9, "retrieval_id": 0, "features": {}}\n');
  assert.deepEqual(findPredictFiles(dir), { seq: join(dir, 'predict_seq.jsonl'), set: join(dir, 'predict_set.jsonl') });
});

test('readParsedLines: lines in order with their numbers; bad JSON or a refused line → file:line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'predict-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'predict_seq.jsonl');
  const collect = async (parse: (v: unknown) => unknown): Promise<unknown[]> => {
    const out: unknown[] = [];
    for await (const { line, parsed } of readParsedLines(file, parse)) out.push([line, parsed]);
    return out;
  };
  writeFileSync(file, '1\n2\n3\n');
  assert.deepEqual(await collect((v) => (v as number) * 10), [[1, 10], [2, 20], [3, 30]]);
  await assert.rejects(collect((v) => {
    if (v === 2) throw new LineError('two is refused');
    return v;
  }), /predict_seq\.jsonl:2: two is refused/);
  writeFileSync(file, '1\n[2, \n');
  await assert.rejects(collect((v) => v), /predict_seq\.jsonl:2: invalid JSON \(truncated\?\)/);
});
