// The fused native attention kernel (core/model/encoders/hstu/native/attention.cc) against the readable reference:
// block.ts's attention arithmetic under tfjs autodiff (RoPE by rope.ts, QKᵀ + gathered relative bias, SiLU,
// weights, ·V, 1/n), on the cpu backend. The kernel's output and every gradient (q, k, v, w_pos, w_time) must
// agree, with its hash dropout (the reference is given the kernel's own mask), with an explicit keep mask and
// without dropout; with and without RoPE and time buckets; padding rows; shapes that are not multiples of the
// kernel's blocks; on the AVX2 kernels and on the portable loops. The thread count must not change a bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { type AttentionKernel, attentionKernel } from '../../../../../core/model/encoders/hstu/native/attention.ts';
import { applyRope, ropeTables } from '../../../../../core/model/encoders/hstu/rope.ts';
import { mergeHeads, splitHeads } from '../../../../../core/model/heads.ts';
import { Rng } from '../../../../../core/random/rng.ts';

const absent = attentionKernel() === null ? 'the native attention kernel is not built (bash scripts/setup-kernels.sh; HSTU_NO_KERNELS unset)' : false;

interface Case {
  name: string;
  B: number; H: number; N: number; dqk: number; dv: number; half: number;
  time: boolean;
  dropout: 'hash' | 'keep' | 'none';
}

const CASES: Case[] = [
  { name: 'hash dropout, RoPE, time bias', B: 3, H: 2, N: 37, dqk: 16, dv: 16, half: 4, time: true, dropout: 'hash' },
  { name: 'explicit keep mask, dqk 8, dv 32', B: 2, H: 3, N: 21, dqk: 8, dv: 32, half: 2, time: true, dropout: 'keep' },
  { name: 'no dropout, no RoPE, no time bias', B: 2, H: 2, N: 16, dqk: 16, dv: 8, half: 0, time: false, dropout: 'none' },
  { name: 'widths the AVX2 kernels do not cover (12, 6)', B: 2, H: 2, N: 13, dqk: 12, dv: 6, half: 3, time: true, dropout: 'hash' },
  { name: 'one token', B: 1, H: 1, N: 1, dqk: 8, dv: 8, half: 4, time: true, dropout: 'none' },
];

const RATE = 0.3;
const SEED = 123456789;
const THETA = 10000;

/** A random problem: left-padded sequences (some all padding), scores of order 1, 1/n row scales. */
function problem(c: Case, rng: Rng) {
  const { B, H, N, dqk, dv } = c;
  const R = B * N;
  const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => rng.normal() * s);
  const pad = Array.from({ length: B }, (_, b) => (b === 0 ? 0 : b === 1 ? Math.floor(N / 2) : N)); // sequence 2+ all padding
  const real = (b: number, i: number) => i >= pad[b]!;
  const visible = new Float32Array(R * N);
  const rowScale = new Float32Array(R);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < N; i++) {
      if (!real(b, i)) continue;
      let seen = 0;
      for (let j = 0; j <= i; j++) if (real(b, j)) (visible[(b * N + i) * N + j] = 1), seen++;
      rowScale[b * N + i] = Math.fround(1 / seen / (c.dropout === 'none' ? 1 : 1 - RATE));
    }
  const T = 9;
  const timeIdx = c.time ? Int32Array.from({ length: R * N }, () => rng.int(T)) : new Int32Array(0);
  return {
    q: rand(R * H * dqk, 0.5), k: rand(R * H * dqk, 0.5), v: rand(R * H * dv), dO: rand(R * H * dv),
    visible, rowScale, wPos: rand(N + 3, 0.5), wTime: c.time ? rand(T, 0.5) : new Float32Array(0), timeIdx,
    dims: Int32Array.from([B, H, N, dqk, dv, c.half]),
  };
}

type Problem = ReturnType<typeof problem>;

/** The weights W [B, H, N, N] the case attends with. */
function weightsOf(kernel: AttentionKernel, c: Case, p: Problem, rng: Rng): { W: Float32Array; keep: Float32Array; rate: number } {
  const { B, H, N } = c;
  if (c.dropout === 'hash') return { W: kernel.keepWeights(Int32Array.from([B, H, N]), p.visible, SEED, RATE), keep: new Float32Array(0), rate: RATE };
  const W = new Float32Array(B * H * N * N);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let x = 0; x < N * N; x++) W[(b * H + h) * N * N + x] = p.visible[b * N * N + x]! * (c.dropout === 'keep' && rng.next() < RATE ? 0 : 1);
  return { W, keep: c.dropout === 'keep' ? W : new Float32Array(0), rate: c.dropout === 'keep' ? RATE : 0 };
}

/** block.ts's attention as tfjs ops: o [B·N, H·dv] from token-major q, k, v; autodiff gives the gradients. */
function reference(c: Case, p: Problem, W: Float32Array) {
  const { B, H, N, dqk, dv } = c;
  const posIdx = tf.tensor2d(Int32Array.from({ length: N * N }, (_, x) => Math.max(0, Math.floor(x / N) - (x % N))), [N, N], 'int32');
  const f = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, wPos: tf.Tensor, wTime: tf.Tensor) => {
    const rot = (t: tf.Tensor) => {
      const heads = tf.reshape(splitHeads(t, B, N, H, dqk), [B, H, N, dqk]);
      return tf.reshape(c.half > 0 ? applyRope(heads, 2 * c.half, THETA) : heads, [B * H, N, dqk]);
    };
    let rab = tf.reshape(tf.gather(wPos, posIdx), [1, 1, N, N]);
    if (c.time) rab = tf.add(tf.reshape(tf.gather(wTime, tf.tensor3d(p.timeIdx, [B, N, N], 'int32')), [B, 1, N, N]), rab);
    const z = tf.add(tf.reshape(tf.matMul(rot(q), rot(k), false, true), [B, H, N, N]), rab);
    const a = tf.mul(tf.mul(z, tf.sigmoid(z)), tf.tensor4d(W, [B, H, N, N]));
    const av = tf.mul(tf.reshape(tf.matMul(tf.reshape(a, [B * H, N, N]), splitHeads(v, B, N, H, dv)), [B, H, N, dv]), tf.tensor4d(p.rowScale, [B, 1, N, 1]));
    const o = tf.reshape(mergeHeads(tf.reshape(av, [B * H, N, dv]), B, N, H, dv), [B * N, H * dv]);
    return c.time ? o : tf.add(o, tf.mul(tf.sum(wTime), 0)); // keeps w_time in the graph (its gradient: 0)
  };
  const inputs = [
    tf.tensor2d(p.q, [B * N, H * dqk]), tf.tensor2d(p.k, [B * N, H * dqk]), tf.tensor2d(p.v, [B * N, H * dv]),
    tf.tensor1d(p.wPos), tf.tensor1d(c.time ? p.wTime : new Float32Array(1)),
  ];
  const dO = tf.tensor2d(p.dO, [B * N, H * dv]);
  const o = f(...(inputs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])).dataSync() as Float32Array;
  const grads = tf.grads((q, k, v, wPos, wTime) => tf.sum(tf.mul(f(q!, k!, v!, wPos!, wTime!), dO)))(inputs).map((g) => g.dataSync() as Float32Array);
  return { o, dq: grads[0]!, dk: grads[1]!, dv: grads[2]!, dwPos: grads[3]!, dwTime: c.time ? grads[4]! : new Float32Array(0) };
}

function assertClose(what: string, got: Float32Array, want: Float32Array, rel = 2e-5): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 1e-6;
  for (const x of want) scale = Math.max(scale, Math.abs(x));
  let worst = 0;
  for (let x = 0; x < want.length; x++) worst = Math.max(worst, Math.abs(got[x]! - want[x]!));
  assert.ok(worst <= rel * scale * 10, `${what}: max difference ${worst} (scale ${scale})`);
}

function run(kernel: AttentionKernel, c: Case, p: Problem, keep: Float32Array, rate: number, threads: number) {
  const { cos, sin } = c.half > 0 ? ropeTables(c.N, 2 * c.half, THETA) : { cos: new Float32Array(0), sin: new Float32Array(0) };
  const args = [p.q, p.k, p.v, p.dims, p.visible, p.rowScale, keep, p.wPos, p.wTime, p.timeIdx, cos, sin, SEED, rate, threads] as const;
  return { o: kernel.attentionForward(...args), ...kernel.attentionBackward(...args, p.dO) };
}

test('the native attention kernel = autodiff of the reference attention: output and every gradient, AVX2 and portable', { skip: absent }, async () => {
  await tf.setBackend('cpu');
  const kernel = attentionKernel()!;
  const simd = kernel.simd();
  try {
    for (const c of CASES) {
      const rng = new Rng(7);
      const p = problem(c, rng);
      const { W, keep, rate } = weightsOf(kernel, c, p, rng);
      const want = tf.tidy(() => reference(c, p, W));
      for (const mode of simd ? [true, false] : [false]) {
        kernel.simd(mode);
        const got = run(kernel, c, p, keep, rate, 2);
        const what = `${c.name} (${mode ? 'AVX2' : 'portable'})`;
        assertClose(`${what}: o`, got.o, want.o);
        assertClose(`${what}: dq`, got.dq, want.dq);
        assertClose(`${what}: dk`, got.dk, want.dk);
        assertClose(`${what}: dv`, got.dv, want.dv);
        assertClose(`${what}: dw_pos`, got.dwPos, want.dwPos);
        assertClose(`${what}: dw_time`, got.dwTime, want.dwTime);
        assert.ok(got.o.some((x) => x !== 0) && got.dq.some((x) => x !== 0), `${what}: not all zero`);
      }
    }
  } finally {
    kernel.simd(simd);
  }
});

test('the native attention kernel gives the same bits on 1 and 3 threads', { skip: absent }, () => {
  const kernel = attentionKernel()!;
  const c = CASES[0]!;
  const p = problem(c, new Rng(3));
  const one = run(kernel, c, p, new Float32Array(0), RATE, 1);
  const three = run(kernel, c, p, new Float32Array(0), RATE, 3);
  for (const key of ['o', 'dq', 'dk', 'dv', 'dwPos', 'dwTime'] as const) assert.deepEqual(three[key], one[key], key);
});

test('hash dropout keeps each visible cell with probability 1 − rate, never an invisible one, differently per seed', { skip: absent }, () => {
  const kernel = attentionKernel()!;
  const [B, H, N] = [4, 4, 64];
  const visible = new Float32Array(B * N * N);
  for (let b = 0; b < B; b++) for (let i = 0; i < N; i++) for (let j = 0; j <= i; j++) visible[(b * N + i) * N + j] = 1;
  const dims = Int32Array.from([B, H, N]);
  const a = kernel.keepWeights(dims, visible, 1, 0.2);
  const b2 = kernel.keepWeights(dims, visible, 2, 0.2);
  let cells = 0, kept = 0, same = 0;
  for (let g = 0; g < B * H; g++)
    for (let x = 0; x < N * N; x++) {
      const vis = visible[Math.floor(g / H) * N * N + x]!;
      if (vis === 0) assert.equal(a[g * N * N + x], 0, 'an invisible cell is never kept');
      else {
        cells++;
        kept += a[g * N * N + x]!;
        same += a[g * N * N + x] === b2[g * N * N + x] ? 1 : 0;
      }
    }
  const sd = Math.sqrt(cells * 0.2 * 0.8);
  assert.ok(Math.abs(kept - 0.8 * cells) < 4 * sd, `kept ${kept} of ${cells}`);
  assert.ok(same < 0.75 * cells, `seeds 1 and 2 agree on ${same} of ${cells} cells (independent masks: ~68%)`);
  assert.deepEqual(kernel.keepWeights(dims, visible, 1, 0.2), a, 'the same seed draws the same mask');
});

test('the native attention kernel refuses inconsistent arguments, naming the function and the argument', { skip: absent }, () => {
  const kernel = attentionKernel()!;
  const c = CASES[2]!;
  const p = problem(c, new Rng(1));
  const e = new Float32Array(0);
  const call = (over: Record<string, unknown>, rate = 0) => {
    const q = { ...p, ...over } as Problem;
    return () => kernel.attentionForward(q.q, q.k, q.v, q.dims, q.visible, q.rowScale, e, q.wPos, q.wTime, q.timeIdx, e, e, 1, rate, 1);
  };
  assert.throws(call({ q: p.q.subarray(1) }), /attentionForward: q, k or v does not have/);
  assert.throws(call({ wPos: p.wPos.subarray(0, c.N - 1) }), /attentionForward: wPos must have at least N entries/);
  assert.throws(call({ wTime: new Float32Array(3), timeIdx: new Int32Array(c.B * c.N * c.N).fill(3) }), /a timeIdx entry is outside wTime/);
  assert.throws(call({}, 1), /rate must be in \[0, 1\)/);
  assert.throws(call({ visible: new Float64Array(4) as unknown as Float32Array }), /attentionForward: visible has the wrong array type/);
});
