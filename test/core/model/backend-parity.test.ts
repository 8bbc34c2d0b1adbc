// The same model — each encoder: HSTU, SASRec on ids and with features — on cpu, wasm and (where
// scripts/setup-native.sh built it) native TensorFlow: forward values and gradients agree (wasm loads its .wasm files from
// node_modules/@tensorflow/tfjs-backend-wasm/dist under node). Native runs its own code paths
// (transpose-flag matmuls, segment-sum gather gradients), so it gets its own check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../../core/ops/backend.ts';
import { initModel } from '../../../core/model/sequence-model.ts';
import type { ModelConfig } from '../../../core/model/config.ts';
import { randomBatch, randomTargets, tinyConfig, tinySasrecConfig } from './tiny-model.ts';
import { nativeAbsentReason } from '../../helpers/native.ts';


const ENCODERS: [string, () => ModelConfig][] = [['hstu', () => tinyConfig()], ['sasrec (ids only)', () => tinySasrecConfig()], ['sasrec (feature towers)', () => tinySasrecConfig({}, true)]];

function runOn(backend: string, config: () => ModelConfig, training = false): { states: Float32Array; items: Float32Array; grads: Map<string, Float32Array> } {
  const c = config();
  // JS dropout masks (jsMasks) are the same on every backend.
  const m = initModel(training ? { ...c, dropoutRate: 0.2 } : c, 1);
  const w = m.weights;
  const b = randomBatch(c, 2, 3, 8);
  const t = randomTargets(c, 3, 5);
  assert.equal(tf.getBackend(), backend);
  const opts = { training, seed: 5, jsMasks: true };
  const states = m.encodeSequences(b, opts);
  const items = m.encodeTargets(t);
  const loss = () => tf.tidy(() => tf.sum(tf.matMul(tf.reshape(m.encodeSequences(b, opts), [-1, c.hiddenUnits]), m.encodeTargets(t), false, true))) as tf.Scalar;
  const { grads } = tf.variableGrads(loss, w.trainable());
  const out = {
    states: states.dataSync() as Float32Array,
    items: items.dataSync() as Float32Array,
    grads: new Map(w.names().map((n) => [n, grads[w.get(n).name]!.dataSync() as Float32Array])),
  };
  tf.dispose([states, items, ...Object.values(grads)]);
  m.dispose();
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function assertAgree(cpu: ReturnType<typeof runOn>, other: ReturnType<typeof runOn>, what: string): void {
  assert.ok(maxAbsDiff(cpu.states, other.states) < 1e-4, `${what}: states differ by ${maxAbsDiff(cpu.states, other.states)}`);
  assert.ok(maxAbsDiff(cpu.items, other.items) < 1e-4, `${what}: items differ by ${maxAbsDiff(cpu.items, other.items)}`);
  // Gradients relative to their scale: at init (std 0.02 everywhere) activations are far below the
  // LayerNorm epsilon, so some gradients are ~1e5 and float32 rounding differs in absolute terms.
  for (const [name, g] of cpu.grads) {
    const scale = Math.max(1, ...Array.from(g, Math.abs));
    const d = maxAbsDiff(g, other.grads.get(name)!);
    assert.ok(d <= 1e-4 * scale, `${what}: gradient of ${name} differs by ${d} (scale ${scale})`);
  }
}

test('cpu and wasm agree on forward outputs (1e-4) and gradients', async () => {
  for (const [what, config] of ENCODERS) {
    await tf.setBackend('cpu');
    const cpu = runOn('cpu', config);
    assert.ok(await tf.setBackend('wasm'), 'wasm backend failed to initialise');
    assertAgree(cpu, runOn('wasm', config), what);
  }
});

const nativeAbsent = nativeAbsentReason();

test('cpu and native tensorflow agree on forward outputs (1e-4) and gradients, with and without dropout', { skip: nativeAbsent ?? false }, async () => {
  for (const [what, config] of ENCODERS) {
    for (const training of [false, true]) {
      await tf.setBackend('cpu');
      const cpu = runOn('cpu', config, training);
      assert.equal(await initBackend('tensorflow'), 'tensorflow');
      assertAgree(cpu, runOn('tensorflow', config, training), `${what}${training ? ', dropout' : ''}`);
    }
  }
});
