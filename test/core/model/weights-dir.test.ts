import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveWeightsDir } from '../../../core/model/weights-dir.ts';

function fakeWeights(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'weights.json', 'weights.bin']) writeFileSync(join(dir, f), '');
}

test('best/ wins over final/, a bare weights folder is accepted, anything else is one clear error', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'model-weights-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.throws(() => resolveWeightsDir(join(root, 'absent')), /absent: model folder not found \(run train first\)/);
  const model = join(root, 'model');
  mkdirSync(model);
  assert.throws(() => resolveWeightsDir(model), /model: no model weights \(expected best\/ or final\//);
  fakeWeights(join(model, 'final'));
  assert.deepEqual(resolveWeightsDir(model), { dir: join(model, 'final'), choice: 'final' });
  mkdirSync(join(model, 'best'));
  writeFileSync(join(model, 'best', 'config.json'), '');
  assert.equal(resolveWeightsDir(model).choice, 'final', 'an incomplete best/ is not used');
  fakeWeights(join(model, 'best'));
  assert.deepEqual(resolveWeightsDir(model), { dir: join(model, 'best'), choice: 'best' });
  const bare = join(root, 'bare');
  fakeWeights(bare);
  assert.deepEqual(resolveWeightsDir(bare), { dir: bare, choice: 'given' });
});
