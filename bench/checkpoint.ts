// What a training checkpoint costs as the item table grows (issue "TencentGR-1M scale"): the race model of
// bench/train-step.ts (ids only, D = 64) at --items N, AdamW with the item table row-sparse (embedding_updates
// auto) or dense, a few training-shaped updates so the moments are non-zero, then the train stage's save path
// (stages/train/train-state.ts saveState: flush the row-sparse tables, then write checkpoint.bin + checkpoint.json
// atomically, reading each weight and moment as its turn comes) and its restore path (loadCheckpoint, assign, import).
// Prints the sizes, each phase's wall time and the process's peak RSS; writes into a temp dir it removes.
// Run: npx tsx bench/checkpoint.ts [--items 4800000] [--updates sparse|dense] [--backend tensorflow] [--host-copies]
// (--host-copies: read every weight and moment to the host before writing, the save path before deferred arrays)
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../core/ops/backend.ts';
import { parseParam } from '../core/stage/params.ts';
import { initModel } from '../core/model/sequence-model.ts';
import { AdamW, decayFromKinds, type NamedGrads } from '../core/train/adamw.ts';
import { assignCheckpointWeights, deferredWeights, loadCheckpoint, readWeights, saveCheckpoint } from '../core/train/checkpoint.ts';
import { rowSparseTables } from '../stages/train/embedding-updates.ts';
import { raceConfig } from './train-step.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

const items = Number(arg('items', '4800000'));
const updates = parseParam('embedding_updates', arg('updates', 'sparse'), '--updates');
const backend = await initBackend(parseParam('backend', arg('backend', 'tensorflow'), '--backend'));
const rss = (): string => `${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`;
const timed = async <T>(label: string, run: () => T | Promise<T>): Promise<T> => {
  const t0 = performance.now();
  const out = await run();
  console.log(`${label.padEnd(44)} ${((performance.now() - t0) / 1000).toFixed(2).padStart(7)} s   RSS ${rss()}`);
  return out;
};

console.log(`[bench/checkpoint] ${items} items × 64, ${updates} embedding updates, backend ${backend}`);
const model = await timed('init model', () => initModel(raceConfig(items), 1));
const w = model.weights;
const vars = Object.fromEntries(w.names().map((n) => [n, w.get(n)]));
const rowSparse = rowSparseTables(w, updates, 'sampled');
const optimizer = await timed('AdamW (moments allocated)', () => new AdamW(vars, { weightDecay: 0.01, decays: decayFromKinds(w.kinds), rowSparse }));
// three updates with random gradients on 20k rows (sparse) or everywhere (dense), so the moments are not zeros
await timed('3 optimizer steps', () => {
  for (let s = 0; s < 3; s++) {
    const grads: NamedGrads = {};
    for (const name of w.names()) {
      const v = w.vars.get(name)!;
      if (rowSparse.includes(name)) {
        const ids = tf.tensor1d(Int32Array.from({ length: 20_000 }, (_, k) => (k * 239 + s) % v.shape[0]!), 'int32');
        grads[name] = { ids, rows: tf.randomNormal([20_000, v.shape[1]!], 0, 1e-3, 'float32', s) as tf.Tensor2D };
      } else grads[name] = tf.randomNormal(v.shape, 0, 1e-3, 'float32', s);
    }
    optimizer.step(grads, 1e-3, 20);
    tf.dispose(Object.values(grads));
  }
});
const dir = mkdtempSync(join(tmpdir(), 'bench-checkpoint-'));
try {
  await timed('flush (row-sparse tables → variables)', () => optimizer.flush());
  const ckDir = join(dir, 'checkpoint');
  const rest = { cursor: { step: 3, epoch: 0, batch: 3 }, rng: {}, bank: { entries: [] }, meta: {} };
  if (process.argv.includes('--host-copies')) { // the save path before deferred arrays: everything on the host first
    const weights = await timed('read weights', () => readWeights(vars));
    const state = await timed('export optimizer state', () => optimizer.exportState());
    await timed('write checkpoint (atomic)', () => saveCheckpoint(ckDir, { weights, optimizer: state, ...rest }));
  } else { // the train stage's path (stages/train/train-state.ts saveState): each array read as it is written
    await timed('write checkpoint (deferred reads, atomic)', () => saveCheckpoint(ckDir, { weights: deferredWeights(vars), optimizer: optimizer.exportStateDeferred(), ...rest }));
  }
  console.log(`peak RSS so far (model, optimizer, save) ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  const bytes = statSync(join(ckDir, 'checkpoint.bin')).size;
  console.log(`checkpoint.bin ${(bytes / 2 ** 30).toFixed(2)} GiB (weights + m + v; the item table alone ${((items + 1) * 64 * 4 / 2 ** 30).toFixed(2)} GiB)`);
  const loaded = await timed('load checkpoint (read + verify)', () => loadCheckpoint(ckDir));
  await timed('restore (assign weights, import state)', () => {
    assignCheckpointWeights(vars, loaded.weights);
    optimizer.importState(loaded.optimizer);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
optimizer.dispose();
model.dispose();
