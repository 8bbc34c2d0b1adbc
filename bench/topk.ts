// Exact retrieval throughput: topK and rankOf (plain Float32Array), topKTf (float32, not exact), topKGemm and
// rankOfGemm (the native fused score-and-count kernel, and tfjs matMul + device counting; both with exact
// re-scoring), and the backend's raw float32 matMul on the same shapes (the
// ceiling), random unit vectors. Each GEMM line says how far it is from the ceiling and whether it equals the
// plain-JS reference. Each line is the fastest of `repeats` runs (the first run of a method pays one-time costs: native
// kernels' first calls, the items' upload; rankOfGemm's first run was 0.38 s against 0.23 s after it).
// Usage: npx tsx bench/topk.ts [backend=cpu|wasm|tensorflow] [queries=2000] [items=50000] [D=64] [k=200] [chunk=4096] [repeats=3]
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../core/ops/backend.ts';
import { matMulT } from '../core/ops/fast-ops.ts';
import { parseParam } from '../core/stage/params.ts';
import { Rng } from '../core/random/rng.ts';
import { gemmItems, rankOfGemm } from '../core/ranking/rank-gemm.ts';
import { topKGemm } from '../core/ranking/topk-gemm.ts';
import { countAboveKernel } from '../core/ranking/native/count-above.ts';
import { rankOf, topK, topKTf } from '../core/ranking/topk.ts';

const [backendArg = 'cpu', ...sizes] = process.argv.slice(2);
const backend = parseParam('backend', backendArg, 'bench/topk.ts argv');
const [Q, I, D, k, chunkItems, repeats] = [2000, 50000, 64, 200, 4096, 3].map((def, j) => (sizes[j] ? Number(sizes[j]) : def)) as [number, number, number, number, number, number];

function randomUnitRows(rng: Rng, rows: number): Float32Array {
  const x = new Float32Array(rows * D);
  for (let r = 0; r < rows; r++) {
    let norm = 0;
    for (let d = 0; d < D; d++) norm += (x[r * D + d] = rng.normal()) ** 2;
    for (let d = 0; d < D; d++) x[r * D + d]! /= Math.sqrt(norm);
  }
  return x;
}


const gflops = new Map<string, number>();

async function time<T>(label: string, run: () => T | Promise<T>): Promise<T> {
  let result!: T;
  let seconds = Infinity;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    result = await run();
    seconds = Math.min(seconds, (performance.now() - start) / 1000);
  }
  gflops.set(label, (2 * Q * I * D) / seconds / 1e9);
  console.log(`${label.padEnd(34)} ${seconds.toFixed(2).padStart(7)} s  ${(Q / seconds).toFixed(0).padStart(7)} queries/s  ${gflops.get(label)!.toFixed(2)} GFLOP/s`);
  return result;
}

const rng = new Rng(1);
const queries = randomUnitRows(rng, Q);
const items = randomUnitRows(rng, I);
const targets = Int32Array.from({ length: Q }, () => 1 + rng.int(I - 1));
const history = Array.from({ length: Q }, () => Int32Array.from({ length: 100 }, () => 1 + rng.int(I - 1)));
const exclude = (q: number) => history[q]!;
console.log(`${Q} queries × ${I} items × D=${D}, k=${k}, chunk=${chunkItems}, 100 excluded items per query`);

const plain = await time('topK (plain JS)', () => topK(queries, items, D, k, { chunkItems, exclude }));
const exact = await time('rankOf (plain JS)', () => rankOf(queries, items, D, targets, { chunkItems, exclude }));

await initBackend(backend, (line) => console.log(line));
const qT = tf.tensor2d(queries, [Q, D]);
const iT = tf.tensor2d(items, [I, D]);
const viaTf = await time(`topKTf (tfjs ${tf.getBackend()})`, () => topKTf(qT, iT, k, { chunkItems, exclude }));
let same = 0;
for (let j = 0; j < plain.indices.length; j++) if (plain.indices[j] === viaTf.indices[j]) same++;
console.log(`topKTf agrees with topK on ${((100 * same) / plain.indices.length).toFixed(3)}% of list positions (float32 vs float64 sums)`);
const prepared = gemmItems(items, D);
// the two counters of rankOfGemm: the native fused kernel (what evaluate uses when it is built) and the tfjs device
const counters = countAboveKernel() === null ? (['device'] as const) : (['native', 'device'] as const);
if (counters.length === 1) console.log('(the native ranking kernel is not built: bash scripts/setup-kernels.sh)');
for (const counter of counters) {
  const label = counter === 'native' ? `rankOfGemm (native fused kernel${countAboveKernel()!.simd() ? ', AVX2' : ', portable'})` : `rankOfGemm (tfjs ${tf.getBackend()} matMul)`;
  const gemm = await time(label, () => rankOfGemm(queries, items, D, targets, { chunkItems, exclude }, prepared, counter));
  console.log(`${label} ranks ${gemm.every((r, q) => r === exact[q]) ? 'equal' : 'DIFFER FROM'} rankOf's on all ${Q} queries`);
}
const topGemm = await time(`topKGemm (tfjs ${tf.getBackend()} matMul)`, () => topKGemm(queries, items, D, k, { chunkItems, exclude }, prepared));
const sameLists = topGemm.indices.every((x, j) => x === plain.indices[j]) && topGemm.scores.every((x, j) => x === plain.scores[j]);
console.log(`topKGemm lists ${sameLists ? 'equal' : 'DIFFER FROM'} topK's (indices and scores) on all ${Q} queries`);
// The ceilings: the same [Q×D]·[D×chunk] products alone, by the op rankOfGemm and topKGemm call (core/ops/fast-ops.ts
// matMulT: TF's 2-D MatMul on native, faster there than tf.matMul's BatchMatMulV2), computed eagerly when called and
// never read; and with every block read back to the host.
/** Each [Q×D]·[D×chunk] product of the catalogue, by `product`, handed to `use` (tidied). */
function eachBlock(product: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, use: (block: tf.Tensor) => void = () => {}): void {
  for (let i0 = 1; i0 < I; i0 += chunkItems) {
    const C = Math.min(chunkItems, I - i0);
    const block = tf.tidy(() => product(qT, tf.slice(iT, [i0, 0], [C, D])));
    use(block);
    block.dispose();
  }
}
const raw = `raw matMul (${tf.getBackend()})`;
await time(raw, () => eachBlock((a, b) => matMulT(a, b, false, true))); // computed when called, never read
const rawBatched = `raw tf.matMul (${tf.getBackend()})`; // BatchMatMulV2 on native: what the ceiling measured
await time(rawBatched, () => eachBlock((a, b) => tf.matMul(a, b, false, true)));
await time(`raw matMul + read back (${tf.getBackend()})`, () => eachBlock((a, b) => matMulT(a, b, false, true), (block) => void block.dataSync()));
for (const label of [...gflops.keys()].filter((l) => l.includes('Gemm'))) {
  console.log(`${label} at ${((100 * gflops.get(label)!) / gflops.get(raw)!).toFixed(0)}% of the raw matMul's GFLOP/s (${((100 * gflops.get(label)!) / gflops.get(rawBatched)!).toFixed(0)}% of tf.matMul's)`);
}
