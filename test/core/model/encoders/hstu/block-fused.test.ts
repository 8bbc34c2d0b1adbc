// The fused HSTU block (one op, hand-written backward) against autodiff of the reference block:
// same value and the same gradient for x and every block variable (incl. the relative biases),
// with and without dropout, RoPE, time bias, both attention normalisations — on cpu, and on native
// TensorFlow where it is built (there the attention runs in the fused native kernel when that is built too; both
// blocks draw the JS masks so their dropout agrees).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../../../core/ops/backend.ts';
import { hstuBlock } from '../../../../../core/model/encoders/hstu/block.ts';
import { hstuBlockFused } from '../../../../../core/model/encoders/hstu/block-fused.ts';
import { attentionInputs, initHstu } from '../../../../../core/model/encoders/hstu/hstu.ts';
import { ModelWeights } from '../../../../../core/model/model-weights.ts';
import { makeForwardContext } from '../../../../../core/model/layers.ts';
import { Rng } from '../../../../../core/random/rng.ts';
import { randomBatch, tinyConfig } from '../../tiny-model.ts';
import { nativeAbsentReason } from '../../../../helpers/native.ts';

type Over = Parameters<typeof tinyConfig>[0];

const CASES: { name: string; over: Over; training: boolean }[] = [
  { name: 'training, dropout 0.3', over: { dropoutRate: 0.3 }, training: true },
  { name: 'inference', over: { dropoutRate: 0.3 }, training: false },
  { name: 'no RoPE, no time bias, real-length normalisation', over: { dropoutRate: 0.3, useRope: false, loadTimeIntervals: false, attnNorm: 'real' }, training: true },
];

function checkBlock(over: Over, training: boolean, what: string, jsMasks = false): void {
  const c = tinyConfig(over);
  const w = new ModelWeights();
  initHstu(w, c, new Rng(7));
  const b = randomBatch(c, 3, 3, 8); // 3 sequences of 8 tokens, some left-padded
  const [B, N, D] = [b.batchSize, b.seqLen, c.hiddenUnits];
  const rng = new Rng(5);
  const x = tf.variable(tf.tensor3d(Float32Array.from({ length: B * N * D }, () => rng.normal()), [B, N, D]));
  const coef = tf.tensor3d(Float32Array.from({ length: B * N * D }, () => rng.normal()), [B, N, D]);
  // Move every variable off its init (zero biases, unit LayerNorm gains) so no term hides.
  for (const n of w.names()) w.get(n).assign(tf.add(w.get(n), tf.mul(tf.randomNormal(w.get(n).shape, 0, 1, 'float32', 3), 0.3)));
  const ctx = () => makeForwardContext(c.dropoutRate, { training, seed: 11, jsMasks });
  const { mask, bias } = attentionInputs(c, b, ctx());
  const blockNames = w.names().filter((n) => n.startsWith('blocks.0.'));
  const vars = [x, ...blockNames.map((n) => w.get(n))];
  const label = (v: tf.Variable): string => (v === x ? 'x' : blockNames.find((n) => w.get(n) === v)!);
  const run = (block: typeof hstuBlock) => tf.variableGrads(() => tf.sum(tf.mul(block(w, c, 'blocks.0', x, mask, bias, ctx()), coef)) as tf.Scalar, vars);
  const ref = run(hstuBlock);
  const fused = run(hstuBlockFused);
  const scale = Math.max(1, Math.abs(ref.value.dataSync()[0]!));
  assert.ok(Math.abs(ref.value.dataSync()[0]! - fused.value.dataSync()[0]!) < 1e-5 * scale, `${what}: values ${ref.value.dataSync()[0]} vs ${fused.value.dataSync()[0]}`);
  for (const v of vars) {
    const [g, h] = [ref.grads[v.name]!, fused.grads[v.name]!];
    const gScale = Math.max(1e-3, tf.max(tf.abs(g)).dataSync()[0]!);
    const d = tf.max(tf.abs(tf.sub(g, h))).dataSync()[0]!;
    assert.ok(d < 1e-4 * gScale, `${what}: gradient of ${label(v)} differs by ${d} (scale ${gScale})`);
  }
  assert.ok(tf.max(tf.abs(fused.grads[x.name]!)).dataSync()[0]! > 0, 'x gets a gradient');
  tf.dispose([ref.value, fused.value, ...Object.values(ref.grads), ...Object.values(fused.grads), x, coef, mask.visibleTensor, mask.rowScale, bias.pos, ...(bias.time ? [bias.time] : []), ...(mask.keepVisible ? [mask.keepVisible] : [])]);
  w.dispose();
}

test('fused block = autodiff of hstuBlock: value and every gradient (cpu)', async () => {
  await tf.setBackend('cpu');
  for (const k of CASES) checkBlock(k.over, k.training, k.name);
});

test('fused block = autodiff of hstuBlock on native TensorFlow (its raw-op paths)', { skip: nativeAbsentReason() ?? false }, async () => {
  assert.equal(await initBackend('tensorflow'), 'tensorflow');
  for (const k of CASES) checkBlock(k.over, k.training, `native, ${k.name}`, true);
  await tf.setBackend('cpu');
});

test("the fused op's weights are the ones initHstuBlock creates: one it has no gradient for is refused by name", async () => {
  await tf.setBackend('cpu');
  const c = tinyConfig();
  const w = new ModelWeights();
  initHstu(w, c, new Rng(7));
  w.add('blocks.0.gate.w', 'weight', [c.hiddenUnits], new Float32Array(c.hiddenUnits)); // as if init had grown a variable
  const b = randomBatch(c, 3, 2, 8);
  const [B, N] = [b.batchSize, b.seqLen];
  const ctx = makeForwardContext(0, { training: false });
  const { mask, bias } = attentionInputs(c, b, ctx);
  const x = tf.zeros([B, N, c.hiddenUnits]);
  assert.throws(() => hstuBlockFused(w, c, 'blocks.0', x, mask, bias, ctx), /no hand-written gradient for blocks\.0\.gate\.w/);
  tf.dispose([x, mask.visibleTensor, mask.rowScale, bias.pos, ...(bias.time ? [bias.time] : [])]);
  w.dispose();
});
