import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AliasTable } from '../../../core/train/alias-table.ts';
import { chiSquareStatistic, chiSquareSurvival } from '../../helpers/chi-square.ts';
import { Rng } from '../../../core/random/rng.ts';

function normalised(w: readonly number[]): number[] {
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
}

function assertImpliedEquals(weights: readonly number[]): void {
  const implied = AliasTable.build(weights).impliedProbabilities();
  const want = normalised(weights);
  want.forEach((p, i) => assert.ok(Math.abs(implied[i]! - p) < 1e-12, `outcome ${i}: ${implied[i]} vs ${p} (weights ${weights.length})`));
}

test('alias table encodes the weights exactly (within 1e-12)', () => {
  assertImpliedEquals([0.251, 0.265, 0.274, 0.068, 0.113, 0.029]);
  assertImpliedEquals([1]);
  assertImpliedEquals([3, 0, 1, 0, 0, 7]);
  assertImpliedEquals([1e-9, 1, 1e9]);
  const rng = new Rng(7);
  for (let trial = 0; trial < 20; trial++) {
    const n = 1 + rng.int(500);
    assertImpliedEquals(Array.from({ length: n }, () => (rng.next() < 0.1 ? 0 : rng.gamma(0.3))));
  }
});

test('zero weights are never drawn and the table rejects bad weights', () => {
  const table = AliasTable.build([0, 2, 0, 1, 0]);
  const rng = new Rng(1);
  for (let i = 0; i < 20000; i++) {
    const k = table.draw(rng);
    assert.ok(k === 1 || k === 3, `drew ${k}`);
  }
  assert.throws(() => AliasTable.build([]), RangeError);
  assert.throws(() => AliasTable.build([0, 0]), RangeError);
  assert.throws(() => AliasTable.build([1, -1]), RangeError);
  assert.throws(() => AliasTable.build([1, NaN]), RangeError);
});

test('alias draws follow the weights (chi-square, 1e5 seeded draws)', () => {
  const weights = [5, 1, 0.5, 20, 3, 3, 0.1, 8];
  const table = AliasTable.build(weights);
  const rng = new Rng(42);
  const draws = 100_000;
  const observed = new Float64Array(weights.length);
  for (let i = 0; i < draws; i++) observed[table.draw(rng)]!++;
  const expected = normalised(weights).map((p) => p * draws);
  const p = chiSquareSurvival(chiSquareStatistic(observed, expected), weights.length - 1);
  assert.ok(p > 0.001, `p = ${p}`);
});

test('draws are reproducible from the rng seed', () => {
  const table = AliasTable.build([1, 2, 3]);
  const a = new Rng(9);
  const b = new Rng(9);
  for (let i = 0; i < 100; i++) assert.equal(table.draw(a), table.draw(b));
});
