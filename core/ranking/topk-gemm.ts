// topK at matrix-multiply speed (issue "TencentGR-1M scale"): the same exact lists as core/ranking/topk.ts's topK
// (float64 scores, ties to the lower index, exclusions), with the scores of each item chunk from the backend's
// float32 matMul. Per query and chunk:
//   1. on the device: the chunk's float32 scores, excluded items at −∞, and the chunk's float32 top k + MARGIN;
//   2. on the host: those items re-scored in float64 (rankOf's own dot) and offered to the query's heap;
//   3. the rest of the chunk cannot enter when the (k + MARGIN)-th float32 score is below the heap's floor by
//      more than float32 arithmetic can err (rank-gemm.ts's bound, 2·(D + 2)·2⁻²⁴·‖q‖·max‖i‖): any item
//      outside the list scores at most that much above it. Otherwise (a crowd of near-ties, or a heap not yet
//      full) the query's whole row of the chunk comes back and every item within the bound of the floor is
//      re-scored — never a guess.
// Every item that reaches the heap carries its exact float64 score, so the lists equal topK's bit for bit.
import * as tf from '@tensorflow/tfjs';
import { matMulT } from '../ops/fast-ops.ts';
import { type GemmItems, float32Slack, gemmItems, rowNorms } from './rank-gemm.ts';
import { type RetrievalOptions, type TopKResult, TopKHeaps, checkInputs, checkK, collectExclusions, dot } from './topk.ts';

/** Float32 candidates read per query and chunk beyond k: enough that the fallback is rare. */
const MARGIN = 16;

/** Exact top-k items per query, equal to topK's; `prepared` as for rankOfGemm. */
export function topKGemm(queries: Float32Array, items: Float32Array, D: number, k: number, opts: RetrievalOptions = {}, prepared?: GemmItems): TopKResult {
  const { Q, I, chunk, first } = checkInputs(queries, items, D, opts);
  checkK(k);
  const out: TopKResult = { indices: new Int32Array(Q * k), scores: new Float32Array(Q * k) };
  if (Q === 0) return out;
  const own = prepared ?? gemmItems(items, D);
  if (own.norms.length !== I) throw new Error(`topKGemm: prepared items hold ${own.norms.length} rows, items ${I}`);
  const queryNorm = rowNorms(queries, D);
  const slack = float32Slack(D);
  const excluded = collectExclusions(opts.exclude, 0, Q, I);
  const heaps = new TopKHeaps(Q, k);
  const queriesT = tf.tensor2d(queries, [Q, D]);
  try {
    for (let i0 = first; i0 < I; i0 += chunk) {
      const i1 = Math.min(i0 + chunk, I);
      const C = i1 - i0;
      const kk = Math.min(C, k + MARGIN);
      let maxNorm = 0;
      for (let i = i0; i < i1; i++) maxNorm = Math.max(maxNorm, own.norms[i]!);
      // excluded (query, item) cells of this chunk, set to −∞ on the device
      const cells: number[] = [];
      excluded.forEach((list, q) => {
        for (let j = 0; j < list.length; j++) if (list[j]! >= i0 && list[j]! < i1) cells.push(q, list[j]! - i0);
      });
      const block = tf.tidy(() => {
        const scores = matMulT(queriesT, tf.slice(own.tensor, [i0, 0], [C, D]), false, true); // [Q×C]
        if (cells.length === 0) return scores;
        const at = tf.tensor2d(cells, [cells.length / 2, 2], 'int32');
        return tf.add(scores, tf.scatterND(at, tf.fill([cells.length / 2], -Infinity), [Q, C])); // −∞ + −∞ = −∞ on repeats
      });
      let values: Float32Array = new Float32Array(0);
      let indices: Int32Array = new Int32Array(0);
      tf.tidy(() => {
        const top = tf.topk(block, kk, true);
        values = top.values.dataSync() as Float32Array;
        indices = top.indices.dataSync() as Int32Array;
      });
      const rescan: number[] = [];
      for (let q = 0; q < Q; q++) {
        for (let j = 0; j < kk; j++) {
          const v = values[q * kk + j]!;
          if (v === -Infinity) break; // excluded from here on
          const i = i0 + indices[q * kk + j]!;
          heaps.offer(q, dot(queries, q * D, items, i * D, D), i);
        }
        const bound = slack * queryNorm[q]! * maxNorm;
        const last = values[q * kk + kk - 1]!;
        // an item outside the list scores ≤ last + bound exactly: it cannot enter while that is below the floor
        if (kk < C && last !== -Infinity && !(last + bound < heaps.floor(q))) rescan.push(q);
      }
      if (rescan.length > 0) {
        let rows: Float32Array = new Float32Array(0); // [S×C]
        tf.tidy(() => void (rows = tf.gather(block, tf.tensor1d(rescan, 'int32')).dataSync() as Float32Array));
        rescan.forEach((q, r) => {
          const listed = new Set(Array.from(indices.subarray(q * kk, (q + 1) * kk)));
          const bound = slack * queryNorm[q]! * maxNorm;
          for (let c = 0; c < C; c++) {
            const v = rows[r * C + c]!;
            if (listed.has(c) || v === -Infinity || v + bound < heaps.floor(q)) continue;
            heaps.offer(q, dot(queries, q * D, items, (i0 + c) * D, D), i0 + c);
          }
        });
      }
      block.dispose();
    }
  } finally {
    queriesT.dispose();
    if (prepared === undefined) own.dispose();
  }
  for (let q = 0; q < Q; q++) heaps.writeSorted(q, out, q * k);
  return out;
}
