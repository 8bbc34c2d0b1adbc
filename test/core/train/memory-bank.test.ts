import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { MemoryBank } from '../../../core/train/memory-bank.ts';

await tf.setBackend('cpu');

/** Step s's negatives: 2 rows of D = 3 filled with s, ids 10s and 10s + 1. */
function stepNegatives(s: number): { emb: tf.Tensor2D; ids: Int32Array } {
  return { emb: tf.fill([2, 3], s) as tf.Tensor2D, ids: Int32Array.from([10 * s, 10 * s + 1]) };
}

test('FIFO: keeps the last neg_cache_steps steps, oldest first, as detached banks', () => {
  const bank = new MemoryBank(3);
  for (let s = 1; s <= 5; s++) {
    const { emb, ids } = stepNegatives(s);
    bank.push(emb, ids);
    emb.dispose(); // the bank holds its own reference
  }
  assert.equal(bank.size, 3);
  const banks = bank.banks();
  assert.deepEqual(banks.map((b) => b.ids[0]), [30, 40, 50], 'steps 1 and 2 evicted, in order');
  assert.deepEqual(banks.map((b) => b.emb.dataSync()[0]), [3, 4, 5], 'embeddings survive the caller disposing its copy');
  assert.ok(banks.every((b) => b.detached));
  bank.dispose();
});

test('evicted entries are disposed: no tensor leak', () => {
  const bank = new MemoryBank(2);
  const before = tf.memory().numTensors;
  for (let s = 1; s <= 6; s++) {
    const { emb, ids } = stepNegatives(s);
    bank.push(emb, ids);
    emb.dispose();
  }
  assert.equal(tf.memory().numTensors, before + 2, 'only the 2 live entries remain');
  bank.dispose();
  assert.equal(tf.memory().numTensors, before);
  const none = new MemoryBank(0);
  const { emb, ids } = stepNegatives(1);
  none.push(emb, ids);
  assert.equal(none.size, 0, 'neg_cache_steps 0 keeps nothing');
  emb.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('export/import round trip restores ids, values and order', () => {
  const bank = new MemoryBank(2);
  for (let s = 1; s <= 3; s++) {
    const { emb, ids } = stepNegatives(s);
    bank.push(emb, ids);
    emb.dispose();
  }
  const state = bank.exportState();
  assert.deepEqual(state.entries.map((e) => Array.from(e.ids)), [[20, 21], [30, 31]]);
  assert.deepEqual(Array.from(state.entries[1]!.emb), [3, 3, 3, 3, 3, 3]);
  const restored = new MemoryBank(2);
  restored.importState(state);
  assert.deepEqual(restored.exportState(), state);
  assert.throws(() => restored.importState({ entries: [{ ids: Int32Array.from([1]), emb: new Float32Array(2), dim: 3 }] }), /2 values for 1 ids of dim 3/);
  assert.throws(() => new MemoryBank(-1), /neg_cache_steps/);
  const { emb } = stepNegatives(1);
  assert.throws(() => bank.push(emb, Int32Array.from([1])), /2 rows but 1 ids/);
  emb.dispose();
  bank.dispose();
  restored.dispose();
});
