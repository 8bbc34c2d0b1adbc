import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPredictFiles, parseCandidate, parsePredictUser, readCandidates, readPredictUserBatches } from '../../../stages/evaluate/predict-files.ts';

test('a predict_seq line: string user id, raw creative ids, string feature values, profile record anywhere', () => {
  const u = parsePredictUser([
    ['user_00000042', null, { '103': 'x9', '106': [3, 'y'] }, null, null, 50],
    ['user_00000042', 7, null, { '100': 2, '118': '1180000457' }, 0, 10],
    ['user_00000042', 23121332822, null, null, 1, 20],
  ]);
  assert.equal(u.userCell, 'user_00000042');
  assert.deepEqual(u.itemCells, [7, 23121332822]);
  assert.deepEqual(u.actions, [0, 1]);
  assert.deepEqual(u.ts, [10, 20]);
  assert.deepEqual(u.itemFeatures, [{ '100': 2, '118': '1180000457' }, null]);
  assert.deepEqual(u.profile, { '103': 'x9', '106': [3, 'y'] });
  assert.equal(parsePredictUser([[5, null, {}, null, null, 1], [5, 1, null, null, 0, 1]]).profile, null, 'an empty profile is none');
});

test('malformed predict lines are refused naming the record', () => {
  assert.throws(() => parsePredictUser({}), /JSON array of records/);
  assert.throws(() => parsePredictUser([[1, 2, null, null, 0]]), /record\[0\]: expected \[user_id/);
  assert.throws(() => parsePredictUser([[1, 2, null, null, 0, 1], [2, 3, null, null, 0, 1]]), /record\[1\]: user_id 2 differs/);
  assert.throws(() => parsePredictUser([[1, 'abc', null, null, 0, 1]]), /item_id must be a positive int/);
  assert.throws(() => parsePredictUser([[1, 2, null, null, 5, 1]]), /action_type/);
  assert.deepEqual(parseCandidate({ creative_id: 123, retrieval_id: 0, features: { '100': 'z' } }), { creativeId: 123, features: { '100': 'z' } });
  assert.throws(() => parseCandidate({ creative_id: '123' }), /creative_id must be a positive int/);
});

async function collect<T>(gen: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of gen) out.push(v);
  return out;
}

test('findPredictFiles: none → null, one without the other → error', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'predict-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(findPredictFiles(dir), null);
  writeFileSync(join(dir, 'predict_seq.jsonl'), '[[1, 2, null, null, 0, 5]]\n');
  assert.throws(() => findPredictFiles(dir), /predict_set\.jsonl: not found \(competition inference needs both/);
  writeFileSync(join(dir, 'predict_set.jsonl'), '{"creative_id": 9, "retrieval_id": 0, "features": {}}\n');
  assert.deepEqual(findPredictFiles(dir), { seq: join(dir, 'predict_seq.jsonl'), set: join(dir, 'predict_set.jsonl') });
});

test('predict users stream in batches in file order; candidates one by one; a bad line → file:line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'predict-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const seq = join(dir, 'predict_seq.jsonl');
  const set = join(dir, 'predict_set.jsonl');
  writeFileSync(seq, [1, 2, 3, 4, 5].map((u) => JSON.stringify([[u, u + 10, null, null, 0, 5]])).join('\n') + '\n');
  const batches = await collect(readPredictUserBatches(seq, 2));
  assert.deepEqual(batches.map((b) => b.map((u) => u.userCell)), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(batches[2]![0]!.itemCells, [15]);
  writeFileSync(set, '{"creative_id": 9, "retrieval_id": 0, "features": {}}\n{"creative_id": 7, "retrieval_id": 1}\n');
  assert.deepEqual(await collect(readCandidates(set)), [{ creativeId: 9, features: {} }, { creativeId: 7, features: {} }]);
  writeFileSync(seq, '[[1, 2, null, null, 0, 5]]\n[[2, 3, null, null, 1\n');
  await assert.rejects(collect(readPredictUserBatches(seq, 1)), /predict_seq\.jsonl:2: invalid JSON/);
  writeFileSync(set, '{"creative_id": 9}\n\n');
  await assert.rejects(collect(readCandidates(set)), /predict_set\.jsonl:2: empty line/);
});
