// The epoch plan (seeded shuffles, every training cut once per epoch) and one micro-batch's loss
// (finite, gradients for every variable, no tensor leak), on the tiny synthetic dataset.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { rmSync } from 'node:fs';
import { buildModelConfig } from '../../../core/model/config.ts';
import { initModel } from '../../../core/model/sequence-model.ts';
import { buildCutBatch } from '../../../core/sequences/cut-batch.ts';
import { selectCuts } from '../../../core/sequences/cut.ts';
import { batchLoss, positivePositions } from '../../../stages/train/batch-loss.ts';
import { TrainData } from '../../../stages/train/train-data.ts';
import { validate } from '../../../stages/train/validate.ts';
import { QUERY_BATCH } from '../../../core/sequences/queries.ts';
import { AdamW, decayFromKinds } from '../../../core/train/adamw.ts';
import type { RowSparseGrad } from '../../../core/train/row-tape.ts';
import { buildArtifacts } from './fixture.ts';

let data: TrainData;
let dir = '';
before(async () => {
  const a = await buildArtifacts();
  dir = a.dir;
  data = new TrainData(a.ingest, a.features, 20);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('epoch plan: every training cut exactly once, batches of batch_size, seeded per (seed, epoch)', () => {
  const plan = data.epochPlan(0, 32, 42);
  assert.equal(plan.length, data.batchesPerEpoch(32));
  const seen = plan.flatMap((b) => [...b.rows]).sort((x, y) => x - y);
  assert.deepEqual(seen, Array.from({ length: data.trainCount }, (_, i) => i));
  assert.ok(plan.slice(0, -1).every((b) => b.rows.length === 32));
  assert.deepEqual(data.epochPlan(0, 32, 42), plan, 'same seed and epoch → same plan');
  assert.notDeepEqual(data.epochPlan(1, 32, 42)[0]!.rows, plan[0]!.rows, 'another epoch reshuffles');
  assert.notDeepEqual(data.epochPlan(0, 32, 43)[0]!.rows, plan[0]!.rows, 'another seed reshuffles');
});

test('one micro-batch: finite loss, a gradient for every variable, no tensors left behind', () => {
  const c = buildModelConfig(
    { model_type: 'hstu', sasrec_features: false, maxlen: 20, hidden_units: 16, num_blocks: 1, num_heads: 2, linear_dim: 8, attention_dim: 8, dropout_rate: 0.2, use_rope: true, rope_theta: 10000, rope_partial_dim: 4, attn_norm: 'padded', load_time_intervals: true, tower_init: 'trunc_normal' as const },
    data.schema, data.store.rows,
  );
  const model = initModel(c, 1);
  const w = model.weights;
  const { shard, train } = data.load(data.shards[0]!);
  const cb = buildCutBatch(selectCuts(train, [0, 1, 2, 3]), shard, data.store, 20, 'train');
  const settings = { temperature: 0.05, margin_click: 0.02, margin_conv: 0.02, chunk: 16, pos_weight_a: 0.8, l2_emb: 1e-4, loss_negatives: 'mixed' as const };
  const before = tf.memory().numTensors;
  const r = batchLoss({ model, store: data.store, cb, negativeIds: Int32Array.from([1, 2, 3, 4, 5]), memory: [], settings, dropoutSeed: 7 });
  assert.ok(Number.isFinite(r.loss) && r.loss > 0, `loss ${r.loss}`);
  assert.equal(r.positives, positivePositions(cb.positives.isPositive).length);
  assert.deepEqual(Object.keys(r.grads).sort(), w.names());
  assert.deepEqual(r.negatives.shape, [5, 16]);
  tf.dispose([...Object.values(r.grads), r.negatives]);
  assert.equal(tf.memory().numTensors, before);
  const again = batchLoss({ model, store: data.store, cb, negativeIds: Int32Array.from([1, 2, 3, 4, 5]), memory: [], settings, dropoutSeed: 7 });
  assert.equal(again.loss, r.loss, 'same dropout seed → same loss');
  tf.dispose([...Object.values(again.grads), again.negatives]);
  model.dispose();
});

test('all_items: the loss is the full softmax over the catalogue, positives gathered from the catalogue embeddings', () => {
  const c = buildModelConfig(
    { model_type: 'hstu', sasrec_features: false, maxlen: 20, hidden_units: 16, num_blocks: 1, num_heads: 2, linear_dim: 8, attention_dim: 8, dropout_rate: 0, use_rope: true, rope_theta: 10000, rope_partial_dim: 4, attn_norm: 'padded', load_time_intervals: true, tower_init: 'he' as const },
    data.schema, data.store.rows,
  );
  const model = initModel(c, 3);
  const { shard, train } = data.load(data.shards[0]!);
  const cb = buildCutBatch(selectCuts(train, [0, 1, 2]), shard, data.store, 20, 'train');
  const tau = 0.05;
  const settings = { temperature: tau, margin_click: 0, margin_conv: 0, chunk: 7, pos_weight_a: 0, l2_emb: 0, loss_negatives: 'all_items' as const };
  const V = data.store.count;
  const catalogue = Int32Array.from({ length: V }, (_, k) => k + 1);
  const r = batchLoss({ model, store: data.store, cb, negativeIds: catalogue, memory: [], settings, dropoutSeed: 7 });
  // reference: every position's query against every item, lse − s_pos, averaged (no margins, equal weights)
  const at = positivePositions(cb.positives.isPositive);
  const reference = tf.tidy(() => {
    const D = c.hiddenUnits;
    const states = tf.reshape(model.encodeSequences(cb.batch, { training: false }), [-1, D]);
    const q = tf.gather(states, tf.tensor1d(at, 'int32'));
    const items = model.encodeTargets(data.store.targetItems(catalogue)); // [V, D]
    const logits = tf.div(tf.matMul(q, items, false, true), tau); // [M, V]
    const pos = tf.sum(tf.mul(logits, tf.oneHot(tf.tensor1d(Int32Array.from(at, (i) => cb.positives.item[i]! - 1), 'int32'), V)), 1);
    return tf.mean(tf.sub(tf.logSumExp(logits, 1), pos)).dataSync()[0]!;
  });
  assert.ok(Math.abs(r.loss - reference) < 1e-4 * Math.max(1, reference), `loss ${r.loss} vs full softmax ${reference}`);
  assert.throws(() => batchLoss({ model, store: data.store, cb, negativeIds: catalogue.subarray(1), memory: [], settings, dropoutSeed: 7 }), /every item/);
  tf.dispose([...Object.values(r.grads), r.negatives]);
  model.dispose();
});

test('embedding_updates sparse: the same loss (l2_emb included) and, on the rows the step read, the same table gradients as dense', () => {
  const c = buildModelConfig(
    { model_type: 'hstu', sasrec_features: false, maxlen: 20, hidden_units: 16, num_blocks: 1, num_heads: 2, linear_dim: 8, attention_dim: 8, dropout_rate: 0.2, use_rope: true, rope_theta: 10000, rope_partial_dim: 4, attn_norm: 'padded', load_time_intervals: true, tower_init: 'he' as const },
    data.schema, data.store.rows,
  );
  const { shard, train } = data.load(data.shards[0]!);
  const cb = buildCutBatch(selectCuts(train, [0, 1, 2, 3]), shard, data.store, 20, 'train');
  const settings = { temperature: 0.05, margin_click: 0.02, margin_conv: 0.02, chunk: 16, pos_weight_a: 0.8, l2_emb: 0.01, loss_negatives: 'mixed' as const };
  const negativeIds = Int32Array.from([1, 2, 3, 4, 5]);
  const run = (sparse: boolean) => {
    const model = initModel(c, 5);
    const w = model.weights;
    const tables = [...w.lookupTables];
    const vars = Object.fromEntries(w.names().map((n) => [n, w.get(n)]));
    const optimizer = new AdamW(vars, { weightDecay: 0.01, decays: decayFromKinds(w.kinds), ...(sparse ? { rowSparse: tables } : {}) });
    const r = batchLoss({ model, store: data.store, cb, negativeIds, memory: [], settings, dropoutSeed: 7, ...(sparse ? { rowTables: optimizer } : {}) });
    return { model, optimizer, r, tables };
  };
  const dense = run(false);
  const sparse = run(true);
  assert.ok(dense.tables.includes('emb.item') && dense.tables.length > 1, `the item table and feature tables: ${dense.tables}`);
  assert.ok(Math.abs(sparse.r.loss - dense.r.loss) < 1e-5 * Math.abs(dense.r.loss), `loss ${sparse.r.loss} vs ${dense.r.loss}`);
  assert.deepEqual(Object.keys(sparse.r.grads).sort(), Object.keys(dense.r.grads).sort(), 'a gradient for every variable (every table was read)');
  for (const name of dense.tables) {
    const g = sparse.r.grads[name] as RowSparseGrad;
    const full = (dense.r.grads[name] as tf.Tensor).arraySync() as number[][];
    const rows = g.rows.arraySync() as number[][];
    Array.from(g.ids.dataSync()).forEach((id, k) => rows[k]!.forEach((x, e) => assert.ok(Math.abs(x - full[id]![e]!) < 1e-5, `${name}[${id}][${e}]: ${x} vs ${full[id]![e]}`)));
  }
  for (const side of [dense, sparse]) {
    tf.dispose([Object.values(side.r.grads), side.r.negatives]);
    side.optimizer.dispose();
    side.model.dispose();
  }
});

test('validate reports progress after every query batch: the targets ranked so far, ending at every validation target', () => {
  const c = buildModelConfig(
    { model_type: 'sasrec', sasrec_features: false, maxlen: 20, hidden_units: 16, num_blocks: 1, num_heads: 2, linear_dim: 8, attention_dim: 8, dropout_rate: 0, use_rope: true, rope_theta: 10000, rope_partial_dim: 4, attn_norm: 'padded', load_time_intervals: true, tower_init: 'he' as const },
    data.schema, data.store.rows,
  );
  const model = initModel(c, 5);
  const calls: number[] = [];
  const m = validate(model, data, { excludeHistory: true, itemChunk: 64 }, (done) => calls.push(done));
  const batches = data.shards.reduce((n, name) => n + Math.ceil(data.load(name).valid.count / QUERY_BATCH), 0);
  assert.ok(data.validCount > 0);
  assert.equal(calls.length, batches, 'one call per query batch');
  assert.ok(calls.every((d, i) => d > (calls[i - 1] ?? 0)), `strictly increasing: ${calls.join(', ')}`);
  assert.equal(calls.at(-1), data.validCount);
  assert.equal(m.count, data.validCount);
  model.dispose();
});
