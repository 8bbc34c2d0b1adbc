import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_ITEMS_MAX, resolveNegatives } from '../../../stages/train/negatives-choice.ts';

test('loss_negatives auto: the whole catalogue up to ALL_ITEMS_MAX items, the seed\'s mixed negatives above; explicit choices stay', () => {
  assert.equal(resolveNegatives('auto', 1682), 'all_items');
  assert.equal(resolveNegatives('auto', ALL_ITEMS_MAX), 'all_items');
  assert.equal(resolveNegatives('auto', ALL_ITEMS_MAX + 1), 'mixed');
  assert.equal(resolveNegatives('auto', 4_800_000), 'mixed');
  assert.equal(resolveNegatives('mixed', 10), 'mixed');
  assert.equal(resolveNegatives('all_items', 4_800_000), 'all_items');
});
