// The streamed InfoNCE must equal the one-big-matrix reference in value and gradient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { positionWeights, referenceInfoNce, streamedInfoNce, type InfoNceInput, type InfoNceParams, type NegativeBank } from '../../../core/train/infonce.ts';
import { Rng } from '../../../core/random/rng.ts';

await tf.setBackend('cpu');

function unitRows(rng: Rng, rows: number, d: number): tf.Tensor2D {
  return tf.tidy(() => {
    const x = tf.tensor2d(Float32Array.from({ length: rows * d }, () => rng.normal()), [rows, d]);
    return tf.div(x, tf.norm(x, 2, 1, true)) as tf.Tensor2D;
  });
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

const ids = (...xs: number[]): Int32Array => Int32Array.from(xs);

interface Case {
  q: tf.Tensor2D;
  p: tf.Tensor2D;
  sampled: tf.Tensor2D;
  bank: tf.Tensor2D;
  input: (withBank: boolean, weighted: boolean, inBatchIsPositive: boolean, logQ?: boolean) => InfoNceInput;
}

/** M = 5 positives (ids collide with the sampled negatives and with each other), D = 4. */
function makeCase(seed: number): Case {
  const rng = new Rng(seed);
  const M = 5, D = 4;
  const q = unitRows(rng, M, D), p = unitRows(rng, M, D), sampled = unitRows(rng, 7, D), bank = unitRows(rng, 6, D);
  const positiveIds = ids(3, 8, 3, 5, 9); // row 0 and row 2 share an item
  const input = (withBank: boolean, weighted: boolean, inBatchIsPositive: boolean, logQ = false): InfoNceInput => {
    const banks: NegativeBank[] = [
      { emb: sampled, ids: ids(1, 3, 4, 5, 6, 7, 2), detached: false }, // hits rows 0, 2 (id 3) and 3 (id 5)
      { emb: inBatchIsPositive ? p : p.clone(), ids: positiveIds, detached: false }, // in-batch items
    ];
    if (logQ) { // sampled-softmax corrections of both trainable banks (distinct per column)
      banks[0]!.logQ = Float32Array.from([-1.5, 0.3, 0, 2.1, -0.4, 0.9, 1.2]);
      banks[1]!.logQ = Float32Array.from([0.7, -2, 0.7, 0.1, 1.6]);
    }
    if (withBank) banks.push({ emb: bank, ids: ids(9, 10, 11, 8, 12, 13), detached: true });
    return {
      query: q,
      positive: p,
      positiveIds,
      positiveActions: [0, 1, 2, 1, 0],
      weights: weighted ? positionWeights([1, 1, 0, 1, 1, 1], 2, 3, 0.8).filter((_, k) => k !== 2) : new Float32Array(M).fill(1),
      banks,
    };
  };
  return { q, p, sampled, bank, input };
}

test('streamed loss and gradients equal the unstreamed reference (chunk 1, 3, all)', () => {
  const c = makeCase(7);
  for (const withBank of [false, true]) {
    for (const weighted of [false, true]) {
      for (const [margins, logQ] of [[0, false], [0.1, false], [0.1, true]] as const) {
        for (const [chunk, maskMode] of [[1, 'scatter'], [3, 'scatter'], [1000, 'scatter'], [3, 'dense'], [1000, 'dense'], [3, 'auto']] as const) {
          const params: InfoNceParams = { temperature: 0.3, margin_click: margins, margin_conv: 2 * margins, chunk, maskMode };
          const what = `bank=${withBank} weighted=${weighted} margin=${margins} logQ=${logQ} chunk=${chunk} mask=${maskMode}`;
          tf.tidy(() => {
            const input = c.input(withBank, weighted, true, logQ);
            const f = (fn: typeof streamedInfoNce) => (q: tf.Tensor, p: tf.Tensor, s: tf.Tensor) =>
              fn({ ...input, query: q as tf.Tensor2D, positive: p as tf.Tensor2D, banks: input.banks.map((b, i) => (i === 0 ? { ...b, emb: s as tf.Tensor2D } : i === 1 ? { ...b, emb: p as tf.Tensor2D } : b)) }, params);
            const fast = tf.valueAndGrads(f(streamedInfoNce))([c.q, c.p, c.sampled]);
            const ref = tf.valueAndGrads(f(referenceInfoNce))([c.q, c.p, c.sampled]);
            assert.ok(maxAbsDiff(fast.value, ref.value) < 1e-5, `${what}: loss ${fast.value.dataSync()[0]} vs ${ref.value.dataSync()[0]}`);
            ['q', 'p (positive + in-batch)', 'sampled negatives'].forEach((name, i) => {
              const d = maxAbsDiff(fast.grads[i]!, ref.grads[i]!);
              assert.ok(d < 1e-5, `${what}: d/d${name} differs by ${d}`);
            });
          });
        }
      }
    }
  }
});

test('the memory bank adds to the loss but gets no gradient', () => {
  const c = makeCase(11);
  const params: InfoNceParams = { temperature: 0.2, margin_click: 0, margin_conv: 0, chunk: 4 };
  tf.tidy(() => {
    const without = streamedInfoNce(c.input(false, false, true), params).dataSync()[0]!;
    const withBank = streamedInfoNce(c.input(true, false, true), params).dataSync()[0]!;
    assert.ok(withBank > without, `more negatives raise the loss: ${withBank} vs ${without}`);
    const input = c.input(true, false, true);
    const qVar = tf.variable(c.q.clone());
    const bankVar = tf.variable(c.bank.clone());
    const banks = input.banks.map((b, i) => (i === 2 ? { ...b, emb: bankVar as tf.Tensor2D } : b));
    const { grads } = tf.variableGrads(() => streamedInfoNce({ ...input, query: qVar as tf.Tensor2D, banks }, params), [qVar, bankVar]);
    assert.deepEqual(Object.keys(grads), [qVar.name], 'only the query gets a gradient; the detached bank is not on the tape');
    qVar.dispose();
    bankVar.dispose();
  });
});

test('a negative equal to the positive contributes nothing', () => {
  const rng = new Rng(3);
  const q = unitRows(rng, 2, 3), p = unitRows(rng, 2, 3), n = unitRows(rng, 3, 3);
  const params: InfoNceParams = { temperature: 0.1, margin_click: 0, margin_conv: 0, chunk: 2 };
  const base = { query: q, positive: p, positiveIds: ids(5, 6), positiveActions: [0, 0], weights: new Float32Array([1, 1]) };
  const lossWith = (negIds: Int32Array) => (emb: tf.Tensor) => streamedInfoNce({ ...base, banks: [{ emb: emb as tf.Tensor2D, ids: negIds }].map((b) => ({ ...b, detached: false })) }, params);
  const only2 = n.slice([0, 0], [2, 3]);
  const plain = lossWith(ids(1, 2))(only2).dataSync()[0]!;
  // Row 2 (id 7 → no hit) adds to both rows; id 5 → hits row 0 only; both ids 5 and 6 → one hit each.
  const hitRow0 = lossWith(ids(1, 2, 5))(n).dataSync()[0]!;
  const extra = lossWith(ids(1, 2, 7))(n).dataSync()[0]!;
  assert.ok(extra > hitRow0 && hitRow0 > plain, `${plain} < ${hitRow0} < ${extra}`);
  // Both rows' positive is item 5: a copy of it among the negatives must change nothing.
  const bothFive = (negIds: Int32Array, emb: tf.Tensor2D) => streamedInfoNce({ ...base, positiveIds: ids(5, 5), banks: [{ emb, ids: negIds, detached: false }] }, params).dataSync()[0]!;
  const masked = bothFive(ids(1, 2, 5), tf.concat([only2, p.slice([0, 0], [1, 3])]) as tf.Tensor2D);
  assert.ok(Math.abs(masked - bothFive(ids(1, 2), only2 as tf.Tensor2D)) < 1e-6, `the hit is masked: ${masked}`);
  assert.ok(Math.abs(bothFive(ids(1, 2, 4), tf.concat([only2, p.slice([0, 0], [1, 3])]) as tf.Tensor2D) - masked) > 1e-3, 'the same row under another id counts');
  const g = tf.grad(lossWith(ids(1, 2, 5)))(n).arraySync() as number[][];
  assert.ok(g[2]!.some((x) => x !== 0), 'the hit row still gets a gradient from the row it does not hit');
  const gOnlyHit = tf.grad((e: tf.Tensor) => streamedInfoNce({ ...base, positiveIds: ids(5, 5), banks: [{ emb: e as tf.Tensor2D, ids: ids(5), detached: false }] }, params))(n.slice([0, 0], [1, 3]));
  assert.deepEqual(Array.from(gOnlyHit.dataSync()), [0, 0, 0], 'a negative masked in every row gets zero gradient');
});

test('hand-computed 2 × 2 case', () => {
  const q = tf.tensor2d([[1, 0], [0, 1]]);
  const p = tf.tensor2d([[1, 0], [0.6, 0.8]]);
  const n = tf.tensor2d([[0, 1], [0.8, 0.6]]);
  const params: InfoNceParams = { temperature: 0.5, margin_click: 0.1, margin_conv: 0.3, chunk: 1 };
  const input: InfoNceInput = {
    query: q, positive: p, positiveIds: ids(10, 11), positiveActions: [0, 1], weights: new Float32Array([1, 3]),
    banks: [{ emb: n, ids: ids(11, 12), detached: false }],
  };
  // Row 1 (exposure): s_pos = 1/0.5 = 2; negatives 0/0.5 = 0 and 0.8/0.5 = 1.6.
  const loss1 = Math.log(Math.exp(2) + Math.exp(0) + Math.exp(1.6)) - 2;
  // Row 2 (click): s_pos = (0.8 − 0.1)/0.5 = 1.4; negative id 11 is its positive → masked; 0.6/0.5 = 1.2.
  const loss2 = Math.log(Math.exp(1.4) + Math.exp(1.2)) - 1.4;
  const expected = (loss1 + 3 * loss2) / 4;
  const got = streamedInfoNce(input, params).dataSync()[0]!;
  assert.ok(Math.abs(got - expected) < 1e-6, `${got} vs ${expected}`);
  assert.ok(Math.abs(referenceInfoNce(input, params).dataSync()[0]! - expected) < 1e-6, 'reference agrees');
});

test('bad inputs fail with the reason', () => {
  const q = tf.tensor2d([[1, 0]]);
  const base: InfoNceInput = { query: q, positive: q, positiveIds: ids(1), positiveActions: [0], weights: new Float32Array([1]), banks: [] };
  const params: InfoNceParams = { temperature: 1, margin_click: 0, margin_conv: 0, chunk: 2 };
  assert.throws(() => streamedInfoNce({ ...base, positiveActions: [3] }, params), /action 3/);
  assert.throws(() => streamedInfoNce({ ...base, weights: new Float32Array([0]) }, params), /weights sum to 0/);
  assert.throws(() => streamedInfoNce(base, { ...params, chunk: 0 }), /chunk must be a positive integer/);
  assert.throws(() => streamedInfoNce({ ...base, banks: [{ emb: q, ids: ids(1, 2), detached: false }] }, params), /1 rows but 2 ids/);
  assert.equal(streamedInfoNce(base, params).dataSync()[0], 0, 'no negatives: the positive is the whole softmax');
  const empty = tf.zeros([0, 2]);
  const g = tf.grad((e: tf.Tensor) => streamedInfoNce({ ...base, banks: [{ emb: e as tf.Tensor2D, ids: ids(), detached: false }] }, params))(empty);
  assert.deepEqual(g.shape, [0, 2], 'an empty bank gets an empty gradient');
});

test('position weights follow the seed formula (rank among positives, N = sequence length)', () => {
  const a = 0.8;
  const mask = [0, 1, 1, 0, 1, /* user 2 */ 1, 1, 1, 1, 1];
  const w = positionWeights(mask, 2, 5, a);
  const expected = [0, 0.2, 0.2 + 1.6 / 5, 0, 0.2 + 3.2 / 5, 0.2, 0.2 + 1.6 / 5, 0.2 + 3.2 / 5, 0.2 + 4.8 / 5, 0.2 + 6.4 / 5];
  expected.forEach((e, k) => assert.ok(Math.abs(w[k]! - e) < 1e-6, `w[${k}] = ${w[k]} vs ${e}`));
  // Literal transcription of `rank = mask.cumsum(1) - mask; (1 - a) + 2a·rank/N`, kept at positives.
  tf.tidy(() => {
    const m = tf.tensor2d(mask, [2, 5]);
    const rank = tf.sub(tf.cumsum(m, 1), m);
    const seed = tf.mul(tf.add(1 - a, tf.mul(2 * a, tf.div(rank, 5))), m);
    assert.ok(maxAbsDiff(seed, tf.tensor2d(w, [2, 5])) < 1e-6);
  });
  assert.throws(() => positionWeights([1, 0], 2, 2, a), /expected 2×2/);
  // A batch trimmed to its longest window weighs as the same rows padded to maxlen + 1 (the seed's N).
  const trimmed = positionWeights([0, 1, 1, 1, 1, 1], 2, 3, a, 8);
  const padded = positionWeights([0, 0, 0, 0, 0, 0, 1, 1, /* user 2 */ 0, 0, 0, 0, 0, 1, 1, 1], 2, 8, a);
  assert.deepEqual([...trimmed], [...padded.subarray(5, 8), ...padded.subarray(13, 16)]);
});

test('a loss-and-gradient step leaks no tensors', () => {
  const c = makeCase(5);
  for (const maskMode of ['scatter', 'dense'] as const) {
    const params: InfoNceParams = { temperature: 0.3, margin_click: 0.02, margin_conv: 0.02, chunk: 2, maskMode };
    const input = { ...c.input(true, true, true), excluded: { ptr: ids(0, 1, 1, 1, 1, 3), items: ids(4, 1, 7) } };
    const run = (): void => {
      const { value, grads } = tf.valueAndGrads((q: tf.Tensor, p: tf.Tensor) => streamedInfoNce({ ...input, query: q as tf.Tensor2D, positive: p as tf.Tensor2D }, params))([c.q, c.p]);
      value.dispose();
      tf.dispose(grads);
    };
    run(); // warm-up: first-call backend allocations
    const before = tf.memory().numTensors;
    run();
    run();
    assert.equal(tf.memory().numTensors, before, maskMode);
  }
});

test('logQ: every column\'s logit is lowered by its correction; the positive is not (hand-computed)', () => {
  const q = tf.tensor2d([[1, 0], [0, 1]]);
  const p = tf.tensor2d([[1, 0], [0.6, 0.8]]);
  const n = tf.tensor2d([[0, 1], [0.8, 0.6]]);
  const params: InfoNceParams = { temperature: 0.5, margin_click: 0, margin_conv: 0, chunk: 1 };
  const logQ = Float32Array.from([Math.log(4), Math.log(0.5)]);
  const input: InfoNceInput = {
    query: q, positive: p, positiveIds: ids(10, 11), positiveActions: [0, 1], weights: new Float32Array([1, 1]),
    banks: [{ emb: n, ids: ids(12, 13), detached: false, logQ }],
  };
  // Row 1: s_pos = 2; negatives 0 − log 4 and 1.6 − log 0.5. Row 2: s_pos = 1.6; negatives 2 − log 4, 1.2 − log 0.5.
  const loss1 = Math.log(Math.exp(2) + Math.exp(0) / 4 + Math.exp(1.6) / 0.5) - 2;
  const loss2 = Math.log(Math.exp(1.6) + Math.exp(2) / 4 + Math.exp(1.2) / 0.5) - 1.6;
  const got = streamedInfoNce(input, params).dataSync()[0]!;
  assert.ok(Math.abs(got - (loss1 + loss2) / 2) < 1e-6, `${got} vs ${(loss1 + loss2) / 2}`);
  assert.ok(Math.abs(referenceInfoNce(input, params).dataSync()[0]! - got) < 1e-6, 'reference agrees');
  assert.throws(() => streamedInfoNce({ ...input, banks: [{ emb: n, ids: ids(12, 13), detached: false, logQ: new Float32Array(3) }] }, params), /2 rows but 3 logQ values/);
});

test('excluded items: masked in their row only, in every bank and chunking, as the reference does', () => {
  const c = makeCase(13);
  // row 0 excludes ids 4 and 8 (8: the in-batch positive of row 1 and a memory-bank column), row 3 excludes 1,
  // row 4 excludes its own positive (9: a no-op beside the accidental-hit mask) and 42 (in no bank)
  const excluded = { ptr: ids(0, 2, 2, 2, 3, 5), items: ids(4, 8, 1, 9, 42) };
  for (const [chunk, maskMode] of [[1, 'scatter'], [3, 'scatter'], [1000, 'scatter'], [1, 'dense'], [3, 'dense'], [1000, 'auto']] as const) {
    const params: InfoNceParams = { temperature: 0.3, margin_click: 0.1, margin_conv: 0.2, chunk, maskMode };
    tf.tidy(() => {
      const input = { ...c.input(true, true, true, true), excluded };
      const f = (fn: typeof streamedInfoNce) => (q: tf.Tensor, p: tf.Tensor, s: tf.Tensor) =>
        fn({ ...input, query: q as tf.Tensor2D, positive: p as tf.Tensor2D, banks: input.banks.map((b, i) => (i === 0 ? { ...b, emb: s as tf.Tensor2D } : i === 1 ? { ...b, emb: p as tf.Tensor2D } : b)) }, params);
      const fast = tf.valueAndGrads(f(streamedInfoNce))([c.q, c.p, c.sampled]);
      const ref = tf.valueAndGrads(f(referenceInfoNce))([c.q, c.p, c.sampled]);
      assert.ok(maxAbsDiff(fast.value, ref.value) < 1e-5, `chunk ${chunk} ${maskMode}: loss ${fast.value.dataSync()[0]} vs ${ref.value.dataSync()[0]}`);
      for (let i = 0; i < 3; i++) assert.ok(maxAbsDiff(fast.grads[i]!, ref.grads[i]!) < 1e-5, `chunk ${chunk} ${maskMode}: gradient ${i}`);
      const plain = streamedInfoNce(c.input(true, true, true, true), params).dataSync()[0]!;
      assert.ok(fast.value.dataSync()[0]! < plain - 1e-4, `fewer negatives, lower loss: ${fast.value.dataSync()[0]} vs ${plain}`);
    });
  }
  // One row, one bank: excluding a column is exactly dropping it from the bank.
  const rng = new Rng(5);
  const q = unitRows(rng, 1, 3), p = unitRows(rng, 1, 3), n = unitRows(rng, 4, 3);
  const params: InfoNceParams = { temperature: 0.2, margin_click: 0, margin_conv: 0, chunk: 2 };
  const one = (emb: tf.Tensor2D, negIds: Int32Array, ex?: { ptr: Int32Array; items: Int32Array }) =>
    streamedInfoNce({ query: q, positive: p, positiveIds: ids(9), positiveActions: [0], weights: new Float32Array([1]), banks: [{ emb, ids: negIds, detached: false }], excluded: ex }, params).dataSync()[0]!;
  const dropped = one(tf.gather(n, [0, 1, 3]) as tf.Tensor2D, ids(1, 2, 4));
  const masked = one(n, ids(1, 2, 3, 4), { ptr: ids(0, 1), items: ids(3) });
  assert.ok(Math.abs(dropped - masked) < 1e-6, `${masked} vs ${dropped}`);
  assert.throws(() => one(n, ids(1, 2, 3, 4), { ptr: ids(0, 1, 1), items: ids(3) }), /excluded items for 2 rows, expected 1/);
});
