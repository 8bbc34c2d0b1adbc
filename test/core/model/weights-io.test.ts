import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { encodeSequences, encodeTargets, initHstu } from '../../../core/model/hstu.ts';
import { assignWeights, loadModel, saveModel } from '../../../core/model/weights-io.ts';
import type { WeightsManifest } from '../../../core/model/weights-io.ts';
import { randomBatch, randomTargets, tinyConfig } from './tiny-model.ts';

await tf.setBackend('cpu');

test('save → load gives identical outputs; the files follow the documented format', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hstu-weights-'));
  try {
    const c = tinyConfig();
    const p = initHstu(c, 1);
    p.get('film.gamma').assign(tf.fill(p.get('film.gamma').shape, 0.5)); // a non-init value must round-trip too
    await saveModel(join(dir, 'model'), p, c);
    const { config, params } = loadModel(join(dir, 'model'));
    assert.deepEqual(config, c);
    const b = randomBatch(c, 2, 3, 8);
    const t = randomTargets(c, 3, 4);
    tf.tidy(() => {
      assert.deepEqual(encodeSequences(params, config, b, { training: false }).dataSync(), encodeSequences(p, c, b, { training: false }).dataSync());
      assert.deepEqual(encodeTargets(params, config, t).dataSync(), encodeTargets(p, c, t).dataSync());
    });
    // weights.bin = float32 LE in sorted-name order at the manifest's offsets.
    const manifest = JSON.parse(readFileSync(join(dir, 'model', 'weights.json'), 'utf8')) as WeightsManifest;
    const names = manifest.tensors.map((e) => e.name);
    assert.deepEqual(names, [...names].sort());
    const bin = readFileSync(join(dir, 'model', 'weights.bin'));
    const e = manifest.tensors.find((x) => x.name === 'film.gamma')!;
    assert.equal(bin.readFloatLE(e.offset), 0.5);
    // Fine-tuning path: assign into a freshly initialised model.
    const fresh = initHstu(c, 99);
    assignWeights(fresh, params);
    assert.deepEqual(fresh.get('blocks.1.uvqk.w').dataSync(), p.get('blocks.1.uvqk.w').dataSync());
    const other = initHstu(tinyConfig({ hiddenUnits: 12 }), 1);
    assert.throws(() => assignWeights(other, params), /do not match/);
    for (const m of [p, params, fresh, other]) m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
