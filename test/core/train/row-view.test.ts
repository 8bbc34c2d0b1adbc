// Row views and the row-sparse AdamW update: gradients through a view are the dense gradient's
// touched rows, and the sparse update of those rows equals the dense update, leaving the rest as is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { encodeSequences, encodeTargets, initHstu } from '../../../core/model/hstu.ts';
import { AdamW, FLAT_MAX_SIZE, type NamedGrads } from '../../../core/train/adamw.ts';
import { touchedRows, viewRows } from '../../../core/train/row-view.ts';
import { Rng } from '../../../core/rng.ts';
import { randomBatch, randomTargets, tinyConfig } from '../model/tiny-model.ts';

await tf.setBackend('cpu');

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function rowsOf(values: Float32Array, rows: Int32Array, width: number): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => out.set(values.subarray(r * width, (r + 1) * width), i * width));
  return out;
}

test('touchedRows: sorted unique indices of all arrays', () => {
  assert.deepEqual(Array.from(touchedRows(Int32Array.of(5, 0, 5, 9), Int32Array.of(2, 9, 11))), [0, 2, 5, 9, 11]);
});

test('gradients through a row view are the dense gradients (the table at its touched rows)', () => {
  const c = tinyConfig({ itemVocab: 40 });
  const p = initHstu(c, 3);
  const b = randomBatch(c, 4, 3, 8);
  const t = randomTargets(c, 5, 6);
  const numTensors = tf.memory().numTensors;
  const lossOn = (params: typeof p, batch: typeof b, targets: typeof t) => () => tf.tidy(() =>
    tf.sum(tf.matMul(tf.reshape(encodeSequences(params, c, batch, { training: false }), [-1, c.hiddenUnits]), encodeTargets(params, c, targets), false, true)) as tf.Scalar);
  const names = p.names();
  const dense = tf.variableGrads(lossOn(p, b, t), names.map((n) => p.get(n)));
  const rows = touchedRows(b.itemIdx, t.itemIdx);
  assert.ok(rows.length < c.itemVocab, 'the test needs untouched rows');
  const view = viewRows(p, ['emb.item'], rows);
  const viewVars = names.map((n) => view.params.get(n));
  const sparse = tf.variableGrads(lossOn(view.params, { ...b, itemIdx: view.remap(b.itemIdx) }, { ...t, itemIdx: view.remap(t.itemIdx) }), viewVars);
  assert.ok(Math.abs(dense.value.dataSync()[0]! - sparse.value.dataSync()[0]!) < 1e-5, 'same loss');
  names.forEach((n, i) => {
    const g = dense.grads[p.get(n).name]!.dataSync() as Float32Array;
    const gv = sparse.grads[viewVars[i]!.name]!.dataSync() as Float32Array;
    const expected = n === 'emb.item' ? rowsOf(g, rows, c.fieldDim) : g;
    assert.equal(gv.length, expected.length, n);
    assert.ok(maxAbsDiff(gv, expected) < 1e-6, `${n}: ${maxAbsDiff(gv, expected)}`);
  });
  tf.dispose([dense.value, sparse.value, ...Object.values(dense.grads), ...Object.values(sparse.grads)]);
  view.dispose();
  assert.equal(tf.memory().numTensors, numTensors, 'no tensor left by the view');
  const missing = Array.from({ length: c.itemVocab }, (_, i) => i).find((i) => !rows.includes(i))!;
  assert.throws(() => view.remap(Int32Array.of(missing)), /not among/);
  p.dispose();
});

test('row-sparse AdamW: touched rows get the dense update exactly, untouched rows and their moments stay', () => {
  const [V, E] = [(FLAT_MAX_SIZE >> 2) + 1, 4]; // above FLAT_MAX_SIZE: row-sparse updates are for large tables
  const rng = new Rng(7);
  const init = Float32Array.from({ length: V * E }, () => rng.normal());
  const rows = Int32Array.of(1, 4, 5, 10);
  const make = () => {
    const w = tf.variable(tf.tensor2d(init, [V, E]));
    const b = tf.variable(tf.tensor1d([0.5, -0.5]));
    return { w, b, opt: new AdamW({ w, b }, { weightDecay: 0.1, decays: () => true }) };
  };
  const dense = make();
  const sparse = make();
  for (let step = 0; step < 3; step++) {
    const gRows = Float32Array.from({ length: rows.length * E }, () => rng.normal());
    const gFull = new Float32Array(V * E);
    rows.forEach((r, i) => gFull.set(gRows.subarray(i * E, (i + 1) * E), r * E));
    const gb = Float32Array.from({ length: 2 }, () => rng.normal());
    const denseGrads: NamedGrads = { w: tf.tensor2d(gFull, [V, E]), b: tf.tensor1d(gb) };
    const sparseGrads: NamedGrads = { w: tf.tensor2d(gRows, [rows.length, E]), b: tf.tensor1d(gb) };
    // maxNorm 1 clips: the scale comes from the global norm, the same for both.
    const n1 = dense.opt.step(denseGrads, 0.05, 1);
    const n2 = sparse.opt.step(sparseGrads, 0.05, 1, { w: rows });
    assert.ok(Math.abs(n1 - n2) < 1e-5, `global norms ${n1} vs ${n2}`);
    tf.dispose([...Object.values(denseGrads), ...Object.values(sparseGrads)]);
  }
  const wd = dense.w.dataSync() as Float32Array;
  const ws = sparse.w.dataSync() as Float32Array;
  assert.ok(maxAbsDiff(rowsOf(ws, rows, E), rowsOf(wd, rows, E)) < 1e-6, 'touched rows as dense');
  const untouched = Int32Array.from({ length: V }, (_, i) => i).filter((i) => !rows.includes(i));
  assert.deepEqual(rowsOf(ws, untouched, E), rowsOf(init, untouched, E), 'untouched rows unchanged');
  assert.ok(maxAbsDiff(rowsOf(wd, untouched, E), rowsOf(init, untouched, E)) > 1e-4, 'dense AdamW does move them (weight decay)');
  assert.ok(maxAbsDiff(sparse.b.dataSync(), dense.b.dataSync()) < 1e-6, 'dense variables as before');
  const sm = sparse.opt.exportState();
  const dm = dense.opt.exportState();
  assert.ok(maxAbsDiff(rowsOf(sm.m['w']!, rows, E), rowsOf(dm.m['w']!, rows, E)) < 1e-6, 'm of touched rows');
  assert.ok(maxAbsDiff(rowsOf(sm.v['w']!, rows, E), rowsOf(dm.v['w']!, rows, E)) < 1e-6, 'v of touched rows');
  assert.ok(rowsOf(sm.m['w']!, untouched, E).every((x) => x === 0), 'moments of untouched rows stay 0');
  assert.throws(() => sparse.opt.step({ w: tf.zeros([2, E]), b: tf.zeros([2]) }, 0.05, 1, { w: rows }), /expected \[4,4\]/);
  for (const s of [dense, sparse]) {
    s.opt.dispose();
    tf.dispose([s.w, s.b]);
  }
});
