// HSTU-only properties (the properties every encoder shares are in test/core/model/sequence-model.test.ts):
// FiLM is the identity at init, and the attention mask/normalisation per attn_norm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initModel } from '../../../../../core/model/sequence-model.ts';
import { attentionMask } from '../../../../../core/model/encoders/hstu/hstu.ts';
import { film } from '../../../../../core/model/film.ts';
import { TOKEN_ITEM, TOKEN_PAD, TOKEN_USER } from '../../../../../core/model/inputs.ts';
import { randomBatch, tinyConfig } from '../../tiny-model.ts';

await tf.setBackend('cpu');

test('FiLM is the identity at init, and not once γ/β move', () => {
  const m = initModel(tinyConfig(), 3);
  const w = m.weights;
  tf.tidy(() => {
    const h = tf.randomNormal([2, 4, m.config.hiddenUnits], 0, 1, 'float32', 1);
    const a = tf.tensor2d([[0, 1, 2, 1], [2, 2, 0, 1]], [2, 4], 'int32');
    assert.equal(tf.max(tf.abs(tf.sub(film(w, 'film', h, a), h))).dataSync()[0], 0);
    w.get('film.gamma').assign(tf.onesLike(w.get('film.gamma')));
    assert.ok(tf.max(tf.abs(tf.sub(film(w, 'film', h, a), h))).dataSync()[0]! > 0.1);
  });
  m.dispose();
});

test('attention mask: causal over real tokens; 1/n is 1/(maxlen + 1) (padded) or 1/keys seen (real)', () => {
  const b = { ...randomBatch(tinyConfig(), 1, 1, 4), tokenType: Int32Array.from([TOKEN_PAD, TOKEN_USER, TOKEN_ITEM, TOKEN_ITEM]) };
  for (const attnNorm of ['padded', 'real'] as const) {
    const m = attentionMask(tinyConfig({ attnNorm }), b);
    assert.deepEqual([...m.visible], [0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1]);
    const expected = attnNorm === 'padded' ? [0, 1 / 8, 1 / 8, 1 / 8] : [0, 1, 1 / 2, 1 / 3];
    assert.deepEqual([...m.rowScale], expected.map(Math.fround));
  }
});
