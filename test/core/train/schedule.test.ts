import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosineLr, warmupSteps } from '../../../core/train/schedule.ts';

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test('warmup rounds up and rejects nonsense', () => {
  assert.equal(warmupSteps(1000, 0.01), 10);
  assert.equal(warmupSteps(150, 0.01), 2, 'ceil(1.5) = 2');
  assert.equal(warmupSteps(10, 0.001), 1, 'any positive ratio warms up at least one step');
  assert.equal(warmupSteps(10, 0), 0);
  assert.throws(() => warmupSteps(10, 1.5), /warmup_ratio/);
});

test('cosine with warmup matches hand-computed values', () => {
  const s = { peak: 0.002, warmup: 10, total: 110 };
  close(cosineLr(0, s), 0, 'step 0');
  close(cosineLr(5, s), 0.001, 'mid-warmup');
  close(cosineLr(10, s), 0.002, 'end of warmup = peak');
  close(cosineLr(35, s), 0.002 * 0.5 * (1 + Math.SQRT1_2), 'quarter of the decay: cos(π/4)');
  close(cosineLr(60, s), 0.001, 'halfway');
  close(cosineLr(110, s), 0, 'end');
  close(cosineLr(200, s), 0, 'past the end stays at 0');
});

test('no warmup starts at the peak', () => {
  close(cosineLr(0, { peak: 1, warmup: 0, total: 4 }), 1, 'step 0');
  close(cosineLr(2, { peak: 1, warmup: 0, total: 4 }), 0.5, 'halfway');
});
