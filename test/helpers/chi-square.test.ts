import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chiSquareStatistic, chiSquareSurvival, logGamma } from './chi-square.ts';

// Even dof has a closed form: Q(k, x/2) = e^{-x/2} Σ_{i<k} (x/2)^i / i!, with k = dof/2.
function evenDofSurvival(x: number, dof: number): number {
  const h = x / 2;
  let term = 1;
  let sum = 1;
  for (let i = 1; i < dof / 2; i++) {
    term *= h / i;
    sum += term;
  }
  return Math.exp(-h) * sum;
}

test('chi-square survival matches published critical values', () => {
  // (x, dof, p) from standard tables (x = the (1 − p) quantile)
  const known: [number, number, number][] = [
    [3.841458820694124, 1, 0.05],
    [18.307038053275146, 10, 0.05],
    [15.08627246938899, 5, 0.01],
    [124.34211340400407, 100, 0.05],
  ];
  for (const [x, dof, p] of known) {
    const got = chiSquareSurvival(x, dof);
    assert.ok(Math.abs(got - p) < 1e-9, `dof ${dof}, x ${x}: ${got} vs ${p}`);
  }
});

test('chi-square survival matches the even-dof closed form on both sides of the series/fraction switch', () => {
  for (const dof of [2, 4, 10, 40, 200]) {
    for (const x of [0.1, 1, dof / 2, dof - 1, dof, dof + 3, 2 * dof, 3 * dof + 20]) {
      const want = evenDofSurvival(x, dof);
      const got = chiSquareSurvival(x, dof);
      assert.ok(Math.abs(got - want) <= 1e-10 * Math.max(1, want) + 1e-13, `dof ${dof}, x ${x}: ${got} vs ${want}`);
    }
  }
  assert.equal(chiSquareSurvival(0, 3), 1);
});

test('logGamma matches factorials', () => {
  let fact = 1;
  for (let n = 1; n <= 20; n++) {
    assert.ok(Math.abs(logGamma(n) - Math.log(fact)) < 1e-10 * Math.max(1, Math.log(fact)), `n ${n}`);
    fact *= n;
  }
  assert.ok(Math.abs(logGamma(0.5) - 0.5 * Math.log(Math.PI)) < 1e-12);
});

test('chi-square statistic skips zero-expectation cells', () => {
  assert.equal(chiSquareStatistic([10, 20, 0], [15, 15, 0]), 25 / 15 + 25 / 15);
  assert.throws(() => chiSquareStatistic([1], [1, 2]), RangeError);
});
