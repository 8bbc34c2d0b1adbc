// Micro-benchmark of the ops that dominate an HSTU step, on each backend that loads here (SPEC §9):
// the projection matMul of one batch ([B*(L/2+1), D] x [D, 4D], B=64 L=100 D=64), the attention-score
// batched matMul ([B*H, N, dqk] x [B*H, N, dqk]^T, H=4 dqk=16) and an item-table gather with its scatter
// gradient. Prints median ms per op; nothing is written.
// Run: node --import tsx bench/backends.ts   (TF_ENABLE_ONEDNN_OPTS=0 to compare oneDNN off)
import * as tf from '@tensorflow/tfjs';
import { initBackend, type LoadedBackend } from '../core/ops/backend.ts';
import { Rng } from '../core/random/rng.ts';

const ROWS = 64 * 51;      // B * tokens per sequence
const D = 64;
const OUT = 256;           // 4 * D: the fused U, V, Q, K projection
const ITEMS = 50_000;      // item-table rows
const BH = 64 * 4;         // B * H attention problems
const N = 51;              // tokens per sequence
const DQK = 16;            // per-head query/key width
const REPS = { cpu: 5, wasm: 20, tensorflow: 50 } as const;

function fillNormal(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

/** Median wall time of `op` in ms, reading its result back so async backends finish the work. */
function timeOp(reps: number, op: () => tf.Tensor): number {
  const times: number[] = [];
  for (let r = 0; r < reps + 2; r++) {
    const t0 = performance.now();
    const out = op();
    out.dataSync();
    out.dispose();
    if (r >= 2) times.push(performance.now() - t0); // the first two runs warm kernels and allocators
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function benchBackend(backend: LoadedBackend): string {
  const rng = new Rng(1);
  const x = tf.tensor2d(fillNormal(rng, ROWS * D), [ROWS, D]);            // [B*N, D]
  const w = tf.tensor2d(fillNormal(rng, D * OUT), [D, OUT]);              // [D, 4D]
  const table = tf.tensor2d(fillNormal(rng, ITEMS * D), [ITEMS, D]);      // [V, D]
  const idx = new Int32Array(ROWS).map(() => 1 + rng.int(ITEMS - 1));
  const idx1 = tf.tensor1d(idx, 'int32');                                 // [B*N]
  const idx2 = tf.tensor2d(idx, [ROWS, 1], 'int32');                      // [B*N, 1]
  const grad = tf.tensor2d(fillNormal(rng, ROWS * D), [ROWS, D]);         // [B*N, D]
  const q = tf.tensor3d(fillNormal(rng, BH * N * DQK), [BH, N, DQK]);     // [B*H, N, dqk]
  const k = tf.tensor3d(fillNormal(rng, BH * N * DQK), [BH, N, DQK]);     // [B*H, N, dqk]
  const reps = REPS[backend];
  const ms = {
    matMul: timeOp(reps, () => tf.matMul(x, w)),
    batchMatMul: timeOp(reps, () => tf.matMul(q, k, false, true)),         // [B*H, N, N]
    gather: timeOp(reps, () => tf.gather(table, idx1)),
    gatherND: timeOp(reps, () => tf.gatherND(table, idx2)),
    scatterND: timeOp(reps, () => tf.scatterND(idx2, grad, [ITEMS, D])),
  };
  tf.dispose([x, w, table, idx1, idx2, grad, q, k]);
  const gflops = (2 * ROWS * D * OUT) / (ms.matMul * 1e6);
  return `${backend.padEnd(10)} matMul ${ms.matMul.toFixed(2)} ms (${gflops.toFixed(1)} GFLOP/s)  ` +
    `batched ${ms.batchMatMul.toFixed(2)} ms  gather ${ms.gather.toFixed(2)} ms  gatherND ${ms.gatherND.toFixed(2)} ms  scatterND ${ms.scatterND.toFixed(2)} ms`;
}

const log = (s: string): void => { process.stdout.write(`${s}\n`); };
log(`[bench] matMul [${ROWS},${D}]x[${D},${OUT}]; gather/scatter ${ROWS} rows of a [${ITEMS},${D}] table; medians`);
for (const backend of ['cpu', 'wasm', 'tensorflow'] as const) {
  try {
    await initBackend(backend);
  } catch (err) {
    log(`${backend.padEnd(10)} unavailable: ${(err as Error).message}`);
    continue;
  }
  log(benchBackend(backend));
}
