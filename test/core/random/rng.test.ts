import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../core/random/rng.ts';

test('same seed gives the same stream; different seeds or streams differ', () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43), d = new Rng(42, 1);
  const xs = Array.from({ length: 5 }, () => a.nextU32());
  assert.deepEqual(Array.from({ length: 5 }, () => b.nextU32()), xs);
  assert.notDeepEqual(Array.from({ length: 5 }, () => c.nextU32()), xs);
  assert.notDeepEqual(Array.from({ length: 5 }, () => d.nextU32()), xs);
});

test('state round-trips mid-stream', () => {
  const a = new Rng(7);
  for (let i = 0; i < 100; i++) a.next();
  const b = new Rng(0);
  b.setState(a.getState());
  assert.deepEqual(Array.from({ length: 10 }, () => b.next()), Array.from({ length: 10 }, () => a.next()));
});

test('next() is uniform in [0,1): mean and range over 1e5 draws', () => {
  const r = new Rng(1);
  let sum = 0, min = 1, max = 0;
  for (let i = 0; i < 100000; i++) {
    const x = r.next();
    sum += x; min = Math.min(min, x); max = Math.max(max, x);
  }
  assert.ok(min >= 0 && max < 1);
  assert.ok(Math.abs(sum / 100000 - 0.5) < 0.005, `mean ${sum / 100000}`);
});

test('int(n) covers 0..n-1 evenly; normal has mean 0 and variance 1; gamma has mean = shape', () => {
  const r = new Rng(3);
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 60000; i++) counts[r.int(6)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 400, `count ${c}`);
  let s = 0, s2 = 0;
  for (let i = 0; i < 50000; i++) { const z = r.normal(); s += z; s2 += z * z; }
  assert.ok(Math.abs(s / 50000) < 0.02 && Math.abs(s2 / 50000 - 1) < 0.03);
  for (const shape of [0.3, 2.5]) {
    let g = 0;
    for (let i = 0; i < 40000; i++) g += r.gamma(shape);
    assert.ok(Math.abs(g / 40000 - shape) < 0.05 * Math.max(1, shape), `gamma(${shape}) mean ${g / 40000}`);
  }
  assert.throws(() => r.int(0), /positive/);
});
