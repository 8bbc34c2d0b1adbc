// Row-sparse training of lookup tables (embedding_updates: sparse): the tape's gradient rows equal the dense
// gradient's, lazy AdamW equals dense AdamW when every row is touched and leaves untouched rows (parameters and
// moments) bit-identical, accumulation and resume keep working — on the cpu backend (tfjs tensors) and on native
// TensorFlow (resource variables, in-place row scatters).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../core/ops/backend.ts';
import { embed } from '../../../core/model/layers.ts';
import { ModelWeights } from '../../../core/model/model-weights.ts';
import { AdamW, type AdamWState, GradAccumulator, type NamedGrads } from '../../../core/train/adamw.ts';
import { type RowSparseGrad, isRowSparse, mergeRowParts } from '../../../core/train/row-tape.ts';
import { modelGrads } from '../../../core/train/model-grads.ts';
import { Rng } from '../../../core/random/rng.ts';
import { nativeAbsentReason } from '../../helpers/native.ts';

await tf.setBackend('cpu');

const V = 12;
const E = 4;
const TABLE = 'emb.x';

/** A lookup table and a dense weight, seeded: loss = Σ (embed(ids)·w − 1)² + 0.1·Σ w². */
function makeWeights(seed: number): ModelWeights {
  const rng = new Rng(seed);
  const w = new ModelWeights();
  w.add(TABLE, 'embedding', [V, E], Float32Array.from({ length: V * E }, () => rng.normal() * 0.5));
  w.lookupTables.add(TABLE);
  w.add('lin', 'weight', [E, 1], Float32Array.from({ length: E }, () => rng.normal()));
  return w;
}

function lossOf(w: ModelWeights, ids: Int32Array): tf.Scalar {
  const x = embed(w, TABLE, tf.tensor1d(ids, 'int32')); // [R, E]
  const y = tf.matMul(x, w.get('lin')); // [R, 1]
  return tf.add(tf.sum(tf.square(tf.sub(y, 1))), tf.mul(tf.sum(tf.square(w.get('lin'))), 0.1));
}

/** Gradients of one step: dense for every variable, or the table's as rows through the optimizer's tape. */
function gradsOf(w: ModelWeights, ids: Int32Array, opt: AdamW): NamedGrads {
  const { value, grads } = modelGrads(w, () => lossOf(w, ids), opt.rowTape());
  value.dispose();
  return grads;
}

function optimizer(w: ModelWeights, sparse: boolean): AdamW {
  const vars = Object.fromEntries(w.names().map((n) => [n, w.vars.get(n)!]));
  return new AdamW(vars, { weightDecay: 0.1, decays: () => true, ...(sparse ? { rowSparse: [TABLE] } : {}) });
}

/** Dense rows of a row-sparse gradient: [V, E] with zeros where the step touched nothing. */
function densify(g: RowSparseGrad): Float32Array {
  const out = new Float32Array(V * E);
  const ids = g.ids.dataSync();
  const rows = g.rows.dataSync();
  ids.forEach((id, r) => out.set(rows.subarray(r * E, (r + 1) * E), id * E));
  return out;
}

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

const EVERY_ROW = Int32Array.from([3, 0, 5, 3, 7, 1, 2, 4, 6, 8, 9, 10, 11, 0, 3]); // every row, some twice or thrice
const SOME_ROWS = Int32Array.from([2, 9, 2, 5]);

test('mergeRowParts: distinct ids in first-seen order, duplicate rows summed, scaled', () => {
  const parts = [
    { ids: tf.tensor1d([4, 1, 4], 'int32'), rows: tf.tensor2d([[1, 2], [3, 4], [5, 6]]) },
    { ids: tf.tensor1d([1, 7], 'int32'), rows: tf.tensor2d([[10, 10], [0.5, 0.5]]) },
  ];
  const g = mergeRowParts(parts, 0.5);
  assert.deepEqual(Array.from(g.ids.dataSync()), [4, 1, 7]);
  assert.deepEqual(Array.from(g.rows.dataSync()), [3, 4, 6.5, 7, 0.25, 0.25]);
  tf.dispose([parts, g]);
});

async function checkParity(backend: string): Promise<void> {
  const before = tf.memory().numTensors;
  const [wd, ws] = [makeWeights(1), makeWeights(1)];
  const [od, os] = [optimizer(wd, false), optimizer(ws, true)];
  for (let step = 0; step < 3; step++) {
    const gd = gradsOf(wd, EVERY_ROW, od);
    const gs = gradsOf(ws, EVERY_ROW, os);
    assert.ok(isRowSparse(gs[TABLE]!) && !isRowSparse(gd[TABLE]!), 'the table: rows on the sparse side, dense on the other');
    // equal at step 0; afterwards the parameters differ by the two updates' rounding (native: TF's fused Adam)
    assertClose(densify(gs[TABLE] as RowSparseGrad), (gd[TABLE] as tf.Tensor).dataSync(), 1e-5, `${backend} step ${step} table gradient`);
    assertClose((gs['lin'] as tf.Tensor).dataSync(), (gd['lin'] as tf.Tensor).dataSync(), 1e-5, `${backend} step ${step} dense gradient`);
    const nd = od.step(gd, 0.05, step === 2 ? 0.5 : 100); // the last step clips
    const ns = os.step(gs, 0.05, step === 2 ? 0.5 : 100);
    assertClose([ns], [nd], 1e-5, `${backend} step ${step} global norm`);
    tf.dispose([Object.values(gd), Object.values(gs)]);
  }
  os.flush();
  assertClose(ws.get(TABLE).dataSync(), wd.get(TABLE).dataSync(), 1e-5, `${backend} table after 3 steps`);
  assertClose(ws.get('lin').dataSync(), wd.get('lin').dataSync(), 1e-5, `${backend} dense weight after 3 steps`);
  const [sd, ss] = [od.exportState(), os.exportState()];
  assertClose(ss.m[TABLE]!, sd.m[TABLE]!, 1e-5, `${backend} first moments`);
  assertClose(ss.v[TABLE]!, sd.v[TABLE]!, 1e-5, `${backend} second moments`);
  const sumSq = tf.tidy(() => tf.sum(tf.square(wd.get(TABLE))).dataSync()[0]!);
  assertClose([ss.sumSq![TABLE]!], [sumSq], 1e-5, `${backend} tracked Σp² vs the table's`);
  [od, os].forEach((o) => o.dispose());
  [wd, ws].forEach((w) => w.dispose());
  assert.equal(tf.memory().numTensors, before, `${backend}: no tensor left behind`);
}

async function checkUntouched(backend: string): Promise<void> {
  const w = makeWeights(2);
  const o = optimizer(w, true);
  // two steps over every row, so every row has non-zero moments, then steps over a few rows only
  for (const ids of [EVERY_ROW, EVERY_ROW]) {
    const g = gradsOf(w, ids, o);
    o.step(g, 0.05, 100);
    tf.dispose(Object.values(g));
  }
  o.flush();
  const p0 = Float32Array.from(w.get(TABLE).dataSync());
  const s0 = o.exportState();
  for (let step = 0; step < 2; step++) {
    const g = gradsOf(w, SOME_ROWS, o);
    assert.deepEqual([...new Set(SOME_ROWS)], Array.from((g[TABLE] as RowSparseGrad).ids.dataSync()));
    o.step(g, 0.05, 100);
    tf.dispose(Object.values(g));
  }
  o.flush();
  const p1 = w.get(TABLE).dataSync();
  const s1 = o.exportState();
  const touched = new Set(SOME_ROWS);
  for (let r = 0; r < V; r++) {
    const at = (x: ArrayLike<number>): number[] => Array.from(x).slice(r * E, (r + 1) * E);
    if (touched.has(r)) {
      assert.notDeepEqual(at(p1), at(p0), `${backend}: touched row ${r} moved`);
      assert.notDeepEqual(at(s1.v[TABLE]!), at(s0.v[TABLE]!), `${backend}: touched row ${r}'s second moment moved`);
    } else {
      assert.deepEqual(at(p1), at(p0), `${backend}: untouched row ${r} keeps its parameters bit for bit (no decay)`);
      assert.deepEqual(at(s1.m[TABLE]!), at(s0.m[TABLE]!), `${backend}: untouched row ${r} keeps m`);
      assert.deepEqual(at(s1.v[TABLE]!), at(s0.v[TABLE]!), `${backend}: untouched row ${r} keeps v`);
    }
  }
  o.dispose();
  w.dispose();
}

/** Three steps straight vs two, an export/import into a fresh optimizer over restored weights, and the third. */
async function checkResume(backend: string): Promise<void> {
  const ids = [EVERY_ROW, SOME_ROWS, SOME_ROWS];
  const run = (w: ModelWeights, o: AdamW, from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const g = gradsOf(w, ids[i]!, o);
      o.step(g, 0.05, 100);
      tf.dispose(Object.values(g));
    }
    o.flush();
  };
  const wa = makeWeights(3);
  const oa = optimizer(wa, true);
  run(wa, oa, 0, 3);
  const wb = makeWeights(3);
  const ob = optimizer(wb, true);
  run(wb, ob, 0, 2);
  const saved: AdamWState = ob.exportState();
  const weights = wb.names().map((n) => [n, Float32Array.from(wb.get(n).dataSync())] as const);
  const wc = makeWeights(99); // other initial values, replaced by the saved ones as a resume does
  const oc = optimizer(wc, true);
  for (const [n, values] of weights) tf.tidy(() => wc.get(n).assign(tf.tensor(values, wc.get(n).shape)));
  oc.importState(saved);
  run(wc, oc, 2, 3);
  assert.deepEqual(Array.from(wc.get(TABLE).dataSync()), Array.from(wa.get(TABLE).dataSync()), `${backend}: resumed table = uninterrupted`);
  assert.deepEqual(oc.exportState(), oa.exportState(), `${backend}: resumed optimizer state (moments, Σp²) = uninterrupted`);
  [oa, ob, oc].forEach((o) => o.dispose());
  [wa, wb, wc].forEach((w) => w.dispose());
}

test('cpu: the tape\'s rows equal the dense gradient and lazy AdamW equals AdamW when every row is touched', () => checkParity('cpu'));
test('cpu: rows a step does not touch keep parameters and moments bit-identical', () => checkUntouched('cpu'));
test('cpu: export/import mid-run resumes row-sparse training exactly', () => checkResume('cpu'));

test('native TensorFlow (resource variables, in-place row scatters): the same three checks', { skip: nativeAbsentReason() ?? false }, async () => {
  assert.equal(await initBackend('tensorflow'), 'tensorflow');
  try {
    await checkParity('tensorflow');
    await checkUntouched('tensorflow');
    await checkResume('tensorflow');
  } finally {
    await tf.setBackend('cpu');
  }
});

test('accumulated row-sparse gradients average like dense ones', () => {
  const [wd, ws] = [makeWeights(4), makeWeights(4)];
  const [od, os] = [optimizer(wd, false), optimizer(ws, true)];
  const [ad, as] = [new GradAccumulator(), new GradAccumulator()];
  for (const ids of [SOME_ROWS, EVERY_ROW]) {
    const gd = gradsOf(wd, ids, od);
    const gs = gradsOf(ws, ids, os);
    ad.add(gd);
    as.add(gs);
    tf.dispose([Object.values(gd), Object.values(gs)]);
  }
  const [md, ms] = [ad.mean(), as.mean()];
  assertClose(densify(ms[TABLE] as RowSparseGrad), (md[TABLE] as tf.Tensor).dataSync(), 1e-6, 'mean table gradient');
  tf.dispose([Object.values(md), Object.values(ms)]);
  [od, os].forEach((o) => o.dispose());
  [wd, ws].forEach((w) => w.dispose());
});

test('while a step reads a table row-sparse, the variable itself is refused (one door: embed)', () => {
  const w = makeWeights(5);
  const o = optimizer(w, true);
  const tape = o.rowTape()!;
  w.rowSource = tape;
  assert.throws(() => w.get(TABLE), /row-sparse.*embed\(\)/);
  assert.doesNotThrow(() => w.get('lin'));
  w.rowSource = null;
  tape.dispose();
  o.dispose();
  w.dispose();
});

test('AdamW refuses a dense gradient for a row-sparse table and the reverse', () => {
  const w = makeWeights(6);
  const o = optimizer(w, true);
  const dense = { [TABLE]: tf.zeros([V, E]), lin: tf.zeros([E, 1]) };
  assert.throws(() => o.step(dense, 0.1, 1), /emb\.x is updated row-sparse but got a dense gradient/);
  tf.dispose(Object.values(dense));
  o.dispose();
  w.dispose();
});
