// The early-stopping rule on hand-made validation Score sequences: which validation stops training.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { improves, shouldStop, validationsSinceBest } from '../../../stages/train/early-stop.ts';

/** 1-based index of the validation after which training stops, or null when it runs to the cap. */
function stopsAfter(scores: number[], patience: number): number | null {
  for (let n = 1; n <= scores.length; n++) if (shouldStop(scores.slice(0, n), patience)) return n;
  return null;
}

test('stops after `patience` validations in a row without a better Score', () => {
  assert.equal(stopsAfter([0.1, 0.2, 0.3, 0.25, 0.24, 0.29, 0.5], 3), 6);
  assert.equal(stopsAfter([0.1, 0.2, 0.3, 0.25, 0.24, 0.29, 0.5], 2), 5);
  assert.equal(stopsAfter([0.3, 0.1, 0.2], 1), 2);
  assert.equal(stopsAfter([0.3, 0.1, 0.2], 2), 3, 'the first validation sets the best; two worse ones follow');
});

test('an improvement resets the patience count', () => {
  // 0.22 → two worse, then 0.23 resets; the second run of three worse ones ends it.
  const scores = [0.2, 0.22, 0.21, 0.2, 0.23, 0.1, 0.1, 0.1, 0.9];
  assert.deepEqual(scores.map((_, i) => validationsSinceBest(scores.slice(0, i + 1))), [0, 0, 1, 2, 0, 1, 2, 3, 0]);
  assert.equal(stopsAfter(scores, 3), 8);
  assert.equal(stopsAfter(scores, 4), null, 'the 0.9 comes before a fourth worse validation');
});

test('a tie is not an improvement: equal Scores use up patience', () => {
  assert.equal(improves(0.3, 0.3), false);
  assert.equal(improves(0.30000000000000004, 0.3), true);
  assert.equal(stopsAfter([0.3, 0.3, 0.3], 2), 3);
  assert.equal(stopsAfter([0.3, 0.3, 0.31, 0.31, 0.31], 2), 5, '0.31 resets the count once; its ties do not');
});

test('NaN never improves; the first finite Score does', () => {
  assert.equal(improves(NaN, null), false);
  assert.equal(improves(0, null), true);
  assert.equal(improves(NaN, 0.1), false);
  assert.equal(validationsSinceBest([NaN, NaN]), 2);
  assert.equal(validationsSinceBest([NaN, 0.1, NaN]), 1);
});

test('patience 0 never stops; no validations never stop', () => {
  assert.equal(stopsAfter([0.5, 0.4, 0.3, 0.2, 0.1, 0, 0, 0], 0), null);
  assert.equal(shouldStop([], 1), false);
  assert.equal(validationsSinceBest([]), 0);
});

test('a rising sequence never stops at any patience', () => {
  const rising = Array.from({ length: 30 }, (_, i) => i / 30);
  for (const p of [1, 2, 5]) assert.equal(stopsAfter(rising, p), null, `patience ${p}`);
});
