// SASRec-only parts (the properties every encoder shares are in test/core/model/sequence-model.test.ts):
// positions counted from the first real token, the causal + padding mask, and one block against a
// plain-JS reference of its arithmetic (softmax attention per head, pre-LN query, FFN, residuals).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { TOKEN_ITEM, TOKEN_PAD, TOKEN_USER } from '../../../../../core/model/inputs.ts';
import { ModelWeights } from '../../../../../core/model/model-weights.ts';
import { LN_EPS, makeForwardContext } from '../../../../../core/model/layers.ts';
import { MASKED, initSasrecBlock, sasrecBlock } from '../../../../../core/model/encoders/sasrec/block.ts';
import { attentionMaskBias, positionIndices } from '../../../../../core/model/encoders/sasrec/sasrec.ts';
import { UserError } from '../../../../../core/stage/errors.ts';
import { Rng } from '../../../../../core/random/rng.ts';
import { randomBatch, tinySasrecConfig } from '../../tiny-model.ts';

await tf.setBackend('cpu');

const P = TOKEN_PAD;
const U = TOKEN_USER;
const I = TOKEN_ITEM;

function batchOf(tokenTypes: number[][]) {
  const c = tinySasrecConfig();
  const N = tokenTypes[0]!.length;
  return { ...randomBatch(c, 1, tokenTypes.length, N), tokenType: Int32Array.from(tokenTypes.flat()) };
}

test('positions count from the first real token, so left padding does not move them', () => {
  assert.deepEqual([...positionIndices(batchOf([[P, P, U, I, I], [U, I, I, I, I]]))], [0, 0, 0, 1, 2, 0, 1, 2, 3, 4]);
});

test('mask: query i sees keys j ≤ i that are real tokens; padding rows see nothing', () => {
  const m = attentionMaskBias(batchOf([[P, U, I]]));
  const X = MASKED;
  assert.deepEqual([...m], [X, X, X, X, 0, X, X, 0, 0].map(Math.fround));
});

test('hidden_units must divide by num_heads (each head is D/H wide), named in the error', () => {
  assert.throws(() => tinySasrecConfig({ hiddenUnits: 8, numHeads: 3 }), (e: unknown) => e instanceof UserError && /hidden_units \(8\) divisible by num_heads \(3\)/.test(e.message));
});

/** LayerNorm of one row with γ, β. */
function lnRow(x: number[], g: Float32Array, b: Float32Array): number[] {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const varr = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
  return x.map((v, d) => ((v - mean) / Math.sqrt(varr + LN_EPS)) * g[d]! + b[d]!);
}

/** x·W + b for one row, W [dIn, dOut] row-major. */
function linRow(x: number[], w: Float32Array, b: Float32Array): number[] {
  const dOut = b.length;
  return Array.from({ length: dOut }, (_, o) => x.reduce((s, v, i) => s + v * w[i * dOut + o]!, b[o]!));
}

test('one block equals a plain-JS reference: per-head causal softmax over real keys, q̂ residual, ReLU FFN', () => {
  const c = tinySasrecConfig({ hiddenUnits: 6, numHeads: 2 });
  const [D, H, d] = [6, 2, 3];
  const w = new ModelWeights();
  initSasrecBlock(w, c, 'blk', new Rng(4));
  const rng = new Rng(8);
  for (const n of w.names()) w.get(n).assign(tf.tensor(Float32Array.from({ length: w.get(n).size }, () => 0.5 * rng.normal()), w.get(n).shape));
  const types = [[P, U, I, I], [U, I, I, I]];
  const b = batchOf(types);
  const [B, N] = [2, 4];
  const xs = Float32Array.from({ length: B * N * D }, () => rng.normal());
  for (let s = 0; s < B; s++) for (let i = 0; i < N; i++) if (types[s]![i] === P) xs.fill(0, (s * N + i) * D, (s * N + i + 1) * D);
  const valid = tf.tensor3d(types.flat().map((t) => (t === P ? 0 : 1)), [B, N, 1]);
  const got = tf.tidy(() => sasrecBlock(w, c, 'blk', tf.tensor3d(xs, [B, N, D]), tf.tensor4d(attentionMaskBias(b), [B, 1, N, N]), valid, makeForwardContext(0, { training: false })).dataSync());
  const v = (n: string) => w.get(`blk.${n}`).dataSync() as Float32Array;
  for (let s = 0; s < B; s++) {
    const x = Array.from({ length: N }, (_, i) => Array.from(xs.subarray((s * N + i) * D, (s * N + i + 1) * D)));
    const qHat = x.map((r) => lnRow(r, v('ln_attn.g'), v('ln_attn.b')));
    const q = qHat.map((r) => linRow(r, v('q.w'), v('q.b')));
    const kv = x.map((r) => linRow(r, v('kv.w'), v('kv.b')));
    for (let i = 0; i < N; i++) {
      const want = new Array<number>(D).fill(0);
      if (types[s]![i] !== P) {
        const attn = new Array<number>(D).fill(0);
        for (let h = 0; h < H; h++) {
          const keys = [...Array(i + 1).keys()].filter((j) => types[s]![j] !== P);
          const scores = keys.map((j) => q[i]!.slice(h * d, (h + 1) * d).reduce((acc, qv, e) => acc + qv * kv[j]![h * d + e]!, 0) / Math.sqrt(d));
          const mx = Math.max(...scores);
          const ex = scores.map((z) => Math.exp(z - mx));
          const sum = ex.reduce((a, z) => a + z, 0);
          keys.forEach((j, k) => { for (let e = 0; e < d; e++) attn[h * d + e]! += (ex[k]! / sum) * kv[j]![D + h * d + e]!; });
        }
        const a = linRow(attn, v('out.w'), v('out.b'));
        const hRow = lnRow(qHat[i]!.map((z, e) => z + a[e]!), v('ln_ffn.g'), v('ln_ffn.b'));
        const f = linRow(linRow(hRow, v('ffn1.w'), v('ffn1.b')).map((z) => Math.max(z, 0)), v('ffn2.w'), v('ffn2.b'));
        hRow.forEach((z, e) => (want[e] = z + f[e]!));
      }
      for (let e = 0; e < D; e++) {
        const g = got[(s * N + i) * D + e]!;
        assert.ok(Math.abs(g - want[e]!) < 1e-4, `seq ${s} token ${i} dim ${e}: block ${g}, reference ${want[e]}`);
      }
    }
  }
  valid.dispose();
  w.dispose();
});
