import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatResult, rawUserId } from '../../../stages/evaluate/predict-top10.ts';

test('raw user ids: a re-id through the indexer, else the cell itself', () => {
  const ids = ['', 'user_00000001', 'user_00000002'];
  assert.equal(rawUserId(2, ids), 'user_00000002');
  assert.equal(rawUserId('user_12345678', ids), 'user_12345678');
  assert.equal(rawUserId(9, ids), '9');
});

test('result.json keys and layout', () => {
  const text = formatResult({ top10s: [[21340241443, 2]], user: ['user_1'], duplicateCandidates: 0, coldCreatives: 0 });
  assert.equal(text, '{"top10s":[[21340241443,2]],"user":["user_1"]}\n');
});
