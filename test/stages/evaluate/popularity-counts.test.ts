import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Role } from '../../../core/artifacts/artifacts.ts';
import { addTrainInteractions } from '../../../stages/evaluate/popularity-counts.ts';

test('only training-visible events with a known item count', () => {
  const counts = new Int32Array(5);
  const { train, valid, between, test: testRole, after } = Role;
  addTrainInteractions(counts, [1, 1, 2, 0, 3, 3, 4, 1], [train, train, train, train, valid, between, testRole, after]);
  addTrainInteractions(counts, [2, 4], [train, train]);
  assert.deepEqual([...counts], [0, 2, 2, 0, 1]);
  assert.throws(() => addTrainInteractions(counts, [9], [train]), /item 9 is outside 1\.\.4/);
  assert.throws(() => addTrainInteractions(counts, [1, 2], [train]), /2 items but 1 roles/);
});
