// Model folders on disk: save → load round trip for every encoder, the documented format, fine-tuning
// assignment, the pre-model_type HSTU format still loading, and an unknown format refused with its remedy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type SequenceModel, initModel, loadModel } from '../../../core/model/sequence-model.ts';
import { HSTU_V1_FORMAT, copyWeights } from '../../../core/model/weights-io.ts';
import type { WeightsManifest } from '../../../core/model/weights-io.ts';
import type { ModelConfig } from '../../../core/model/config.ts';
import { randomBatch, randomTargets, tinyConfig, tinySasrecConfig } from './tiny-model.ts';

await tf.setBackend('cpu');

function withTempDir(f: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-weights-'));
    try {
      await f(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function assertSameOutputs(a: SequenceModel, b: SequenceModel): void {
  const batch = randomBatch(a.config, 2, 3, 8);
  const t = randomTargets(a.config, 3, 4);
  tf.tidy(() => {
    assert.deepEqual(b.encodeSequences(batch, { training: false }).dataSync(), a.encodeSequences(batch, { training: false }).dataSync());
    assert.deepEqual(b.encodeTargets(t).dataSync(), a.encodeTargets(t).dataSync());
  });
}

const ENCODERS: [string, () => ModelConfig, string][] = [
  ['hstu', () => tinyConfig(), 'film.gamma'],
  ['sasrec (ids only)', () => tinySasrecConfig(), 'sasrec.pos'],
  ['sasrec (feature towers)', () => tinySasrecConfig({}, true), 'sasrec.blocks.1.kv.w'],
];

for (const [name, config, probe] of ENCODERS) {
  test(`${name}: save → load gives identical outputs; the files follow the documented format`, withTempDir(async (dir) => {
    const c = config();
    const m = initModel(c, 1);
    m.weights.get(probe).assign(tf.fill(m.weights.get(probe).shape, 0.5)); // a non-init value must round-trip too
    await m.save(join(dir, 'model'));
    const loaded = loadModel(join(dir, 'model'));
    assert.deepEqual(loaded.config, c);
    assertSameOutputs(m, loaded);
    // weights.bin = float32 LE in sorted-name order at the manifest's offsets.
    const manifest = JSON.parse(readFileSync(join(dir, 'model', 'weights.json'), 'utf8')) as WeightsManifest;
    assert.equal(manifest.format, 'sequence-model-weights-v2');
    const names = manifest.tensors.map((e) => e.name);
    assert.deepEqual(names, [...names].sort());
    const bin = readFileSync(join(dir, 'model', 'weights.bin'));
    assert.equal(bin.readFloatLE(manifest.tensors.find((x) => x.name === probe)!.offset), 0.5);
    // Fine-tuning path: assign into a freshly initialised model.
    const fresh = initModel(c, 99);
    copyWeights(fresh.weights, loaded.weights);
    assert.deepEqual(fresh.weights.get(probe).dataSync(), m.weights.get(probe).dataSync());
    const other = initModel({ ...c, hiddenUnits: 12 }, 1);
    assert.throws(() => copyWeights(other.weights, loaded.weights), /do not match/);
    for (const x of [m, loaded, fresh, other]) x.dispose();
  }));
}

test('a folder in the pre-model_type format (hstu-weights-v1, HSTU knobs flat in config.json) still loads, as HSTU', withTempDir(async (dir) => {
  const c = tinyConfig();
  const m = initModel(c, 2);
  await m.save(join(dir, 'v1'));
  const { encoder, ...shared } = c;
  const { type: _type, ...hstuKnobs } = encoder;
  writeFileSync(join(dir, 'v1', 'config.json'), JSON.stringify({ ...shared, ...hstuKnobs }));
  const manifest = JSON.parse(readFileSync(join(dir, 'v1', 'weights.json'), 'utf8')) as WeightsManifest;
  writeFileSync(join(dir, 'v1', 'weights.json'), JSON.stringify({ ...manifest, format: HSTU_V1_FORMAT }));
  const loaded = loadModel(join(dir, 'v1'));
  assert.deepEqual(loaded.config, c);
  assertSameOutputs(m, loaded);
  m.dispose();
  loaded.dispose();
}));

test('an unknown weights format, a v2 config without an encoder or with an unknown attn_norm, is refused naming the remedy', withTempDir(async (dir) => {
  const m = initModel(tinyConfig(), 2);
  await m.save(join(dir, 'model'));
  m.dispose();
  const path = join(dir, 'model', 'weights.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as WeightsManifest;
  writeFileSync(path, JSON.stringify({ ...manifest, format: 'other-weights-v9' }));
  assert.throws(() => loadModel(join(dir, 'model')), /format "other-weights-v9" is not one this version reads .*retrain with `dvc repro train`/);
  writeFileSync(path, JSON.stringify(manifest));
  const config = JSON.parse(readFileSync(join(dir, 'model', 'config.json'), 'utf8')) as Record<string, unknown>;
  // Its choices are parsed as params.yaml's are: the same allowed values, the same message.
  writeFileSync(join(dir, 'model', 'config.json'), JSON.stringify({ ...config, encoder: { ...(config['encoder'] as object), attnNorm: 'full' } }));
  assert.throws(() => loadModel(join(dir, 'model')), /config\.json: 'attn_norm' must be one of padded \| real, got "full"/);
  delete config['encoder'];
  writeFileSync(join(dir, 'model', 'config.json'), JSON.stringify(config));
  assert.throws(() => loadModel(join(dir, 'model')), /config\.json: 'model_type' must be one of hstu \| sasrec, got undefined/);
}));

test('weights.json records weights.bin\'s length and sha256: one flipped byte or a truncated file is refused, not loaded', withTempDir(async (dir) => {
  const m = initModel(tinyConfig(), 3);
  await m.save(join(dir, 'model'));
  m.dispose();
  const bin = join(dir, 'model', 'weights.bin');
  const good = new Uint8Array(readFileSync(bin));
  const manifest = JSON.parse(readFileSync(join(dir, 'model', 'weights.json'), 'utf8')) as WeightsManifest;
  assert.equal(manifest.bytes, good.length);
  assert.match(manifest.sha256 ?? '', /^[0-9a-f]{64}$/);
  const flipped = good.slice();
  flipped[Math.floor(good.length / 2)]! ^= 0x01;
  writeFileSync(bin, flipped);
  assert.throws(() => loadModel(join(dir, 'model')), /model: weights\.bin does not match weights\.json \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\)/);
  writeFileSync(bin, good.subarray(0, good.length - 4));
  assert.throws(() => loadModel(join(dir, 'model')), new RegExp(`weights\\.bin does not match weights\\.json \\(${good.length - 4} bytes, expected ${good.length}\\)`));
  writeFileSync(bin, good);
  loadModel(join(dir, 'model')).dispose();
}));
