import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadParams, validateParams } from '../../../core/stage/params.ts';
import { PARAM_TYPES } from '../../../core/stage/params-schema.ts';

const shipped = parse(readFileSync(new URL('../../../params.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;

function writeParams(edit: (p: Record<string, unknown>) => void): string {
  const p = structuredClone(shipped);
  edit(p);
  const file = join(mkdtempSync(join(tmpdir(), 'params-')), 'params.yaml');
  writeFileSync(file, JSON.stringify(p));
  return file;
}

test('params.yaml has exactly the schema keys, each with a comment', () => {
  assert.deepEqual(Object.keys(shipped).sort(), Object.keys(PARAM_TYPES).sort());
  const text = readFileSync(new URL('../../../params.yaml', import.meta.url), 'utf8');
  for (const key of Object.keys(PARAM_TYPES)) {
    const line = text.split('\n').find((l) => l.startsWith(`${key}:`));
    assert.ok(line?.includes('#'), `params.yaml line for ${key} lacks a comment`);
  }
});

test('loadParams returns only the requested keys, typed', () => {
  const p = loadParams(['lr', 'mm_emb_id', 'use_rope'], writeParams(() => {}));
  assert.deepEqual(Object.keys(p).sort(), ['lr', 'mm_emb_id', 'use_rope']);
  assert.equal(typeof p.lr, 'number');
  assert.deepEqual(p.mm_emb_id, ['81']);
});

test('mm_emb_id given as numbers (YAML [81, 82]) becomes strings', () => {
  const p = loadParams(['mm_emb_id'], writeParams((x) => (x.mm_emb_id = [81, 82])));
  assert.deepEqual(p.mm_emb_id, ['81', '82']);
});

test('an unknown key is an error naming it', () => {
  assert.throws(() => loadParams(['lr'], writeParams((x) => (x.margin_clik = 0.05))), /unknown param 'margin_clik'/);
});

test('a missing key is an error naming it', () => {
  assert.throws(() => loadParams(['lr'], writeParams((x) => delete x.temperature)), /missing param 'temperature'/);
});

test('wrong types and ranges name the key', () => {
  assert.throws(() => validateParams({ ...shipped, batch_size: 1.5 }, 'p'), /'batch_size' must be an integer/);
  assert.throws(() => validateParams({ ...shipped, use_rope: 'yes' }, 'p'), /'use_rope' must be true or false/);
  assert.throws(() => validateParams({ ...shipped, backend: 'gpu' }, 'p'), /'backend' must be one of auto/);
  assert.throws(() => validateParams({ ...shipped, model_type: 'bert4rec' }, 'p'), /'model_type' must be one of hstu \| sasrec/);
  assert.throws(() => validateParams({ ...shipped, sasrec_features: 1 }, 'p'), /'sasrec_features' must be true or false/);
  assert.throws(() => validateParams({ ...shipped, neg_bucket_bounds: [3, 'x'] }, 'p'), /'neg_bucket_bounds' must be a list of integers/);
  assert.throws(() => validateParams({ ...shipped, dropout_rate: 1.5 }, 'p'), /'dropout_rate' must be <= 0.99/);
  assert.throws(() => validateParams({ ...shipped, synth_users: -1 }, 'p'), /'synth_users' must be >= 1/);
});

test('a missing params file and invalid YAML are one-line errors', () => {
  assert.throws(() => loadParams(['lr'], '/nonexistent/params.yaml'), /params file not found: \/nonexistent\/params.yaml/);
  const file = join(mkdtempSync(join(tmpdir(), 'params-')), 'params.yaml');
  writeFileSync(file, 'lr: [1, 2\n');
  assert.throws(() => loadParams(['lr'], file), /invalid YAML/);
});

test('profiles/seed-gpu.yaml is a complete, valid params file with the seed GPU configuration', () => {
  const file = new URL('../../../profiles/seed-gpu.yaml', import.meta.url).pathname;
  const p = loadParams(['hidden_units', 'num_blocks', 'num_heads', 'batch_size', 'num_epochs', 'maxlen', 'lr'], file);
  assert.deepEqual(p, { hidden_units: 512, num_blocks: 48, num_heads: 16, batch_size: 1024, num_epochs: 8, maxlen: 101, lr: 0.0015 });
});

test('profiles/sparse.yaml is a complete, valid params file: the sparse shape, ids only, everything else the defaults', () => {
  const file = new URL('../../../profiles/sparse.yaml', import.meta.url).pathname;
  const sparse = loadParams(Object.keys(PARAM_TYPES) as (keyof typeof PARAM_TYPES)[], file) as Record<string, unknown>;
  const shape = {
    mm_emb_id: [], synth_users: 30000, synth_items: 24000, synth_min_len: 5, synth_max_len: 15, synth_predict_users: 0,
    synth_len_power: 1.6, synth_user_profiles: false, synth_all_clicks: true,
  };
  assert.deepEqual(Object.fromEntries(Object.keys(shape).map((k) => [k, sparse[k]])), shape);
  for (const key of Object.keys(PARAM_TYPES).filter((k) => !(k in shape))) assert.deepEqual(sparse[key], shipped[key], `${key} is the default`);
});

test("profiles/seed-cpu.yaml: the defaults with the seed's recipe (mixed negatives over every item, std-0.02 towers, last windows, 3 epochs, no early stopping)", () => {
  const file = new URL('../../../profiles/seed-cpu.yaml', import.meta.url).pathname;
  const seed = loadParams(Object.keys(PARAM_TYPES) as (keyof typeof PARAM_TYPES)[], file) as Record<string, unknown>;
  const recipe = { loss_negatives: 'mixed', train_exclude_history: false, embedding_updates: 'dense', tower_init: 'trunc_normal', train_windows: 'last', num_epochs: 3, early_stop_patience: 0 };
  assert.deepEqual(Object.fromEntries(Object.keys(recipe).map((k) => [k, seed[k]])), recipe);
  for (const key of Object.keys(PARAM_TYPES).filter((k) => !(k in recipe))) assert.deepEqual(seed[key], shipped[key], `${key} is the default`);
  const gpu = loadParams(['loss_negatives', 'train_exclude_history', 'embedding_updates', 'tower_init', 'train_windows'], new URL('../../../profiles/seed-gpu.yaml', import.meta.url).pathname);
  assert.deepEqual(gpu, { loss_negatives: 'mixed', train_exclude_history: false, embedding_updates: 'dense', tower_init: 'trunc_normal', train_windows: 'last' }, 'the seed GPU profile keeps the seed recipe too');
});
