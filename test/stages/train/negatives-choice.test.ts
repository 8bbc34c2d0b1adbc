import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveNegatives, sampledColumns } from '../../../stages/train/negatives-choice.ts';

test('loss_negatives auto: the whole catalogue while it is no larger than what sampled touches a step, sampled above; explicit choices stay', () => {
  const p = { batch_size: 64, maxlen: 50, num_negatives: 512 };
  assert.equal(sampledColumns(p), 64 * 51 + 512);
  assert.equal(resolveNegatives('auto', 1682, p), 'all_items', 'MovieLens-100k');
  assert.equal(resolveNegatives('auto', 3776, p), 'all_items');
  assert.equal(resolveNegatives('auto', 3777, p), 'sampled');
  assert.equal(resolveNegatives('auto', 6000, p), 'sampled', 'the default synthetic data');
  assert.equal(resolveNegatives('auto', 6000, { ...p, batch_size: 128 }), 'all_items', 'a larger batch touches more items a step');
  assert.equal(resolveNegatives('auto', 4_800_000, p), 'sampled');
  assert.equal(resolveNegatives('mixed', 10, p), 'mixed');
  assert.equal(resolveNegatives('sampled', 10, p), 'sampled');
  assert.equal(resolveNegatives('all_items', 4_800_000, p), 'all_items');
});
