// rankOf at matrix-multiply speed (issue "TencentGR-1M scale"): the same exact ranks as core/ranking/topk.ts's rankOf,
// which sums every (query, item) dot product in float64 in JS, but with the scores of each item chunk from the
// backend's float32 matMul. A float32 score decides an item only when it is further from the target's score
// than float32 arithmetic can err; the few items within that bound are re-scored with rankOf's own float64
// dot, so ties and near-ties resolve exactly as rankOf resolves them (ties to the lower index).
//
// Error bound: a float32 dot product of length D, summed in any order (blocked, FMA), differs from the exact
// value by at most γ_D·Σ|q_d·i_d| ≤ γ_D·‖q‖·‖i‖ with γ_D = D·u / (1 − D·u), u = 2⁻²⁴; rankOf's float64 sum errs
// by far less, and rounding the output to float32 adds u·‖q‖·‖i‖. An item is decided when
// |s32 − s_target| > 2·(D + 2)·u·‖q‖·max‖i‖ over its chunk (twice the bound, for safety). The counting runs on the
// device; only the rows of queries with an undecided item other than their target come back to the host.
import * as tf from '@tensorflow/tfjs';
import { matMulT } from '../ops/fast-ops.ts';
import { type RetrievalOptions, checkInputs, checkTargets, dot, subtractExcluded } from './topk.ts';

const U32 = 2 ** -24;

/** Twice the float32 dot-product error bound of length D, per unit of ‖q‖·‖i‖ (see the header). */
export function float32Slack(D: number): number {
  return 2 * (D + 2) * U32;
}

const F32 = new Float32Array(1);

/** The smallest float32 ≥ x. */
export function nextUp(x: number): number {
  F32[0] = x;
  if (F32[0]! >= x) return F32[0]!;
  const bits = new Int32Array(F32.buffer);
  bits[0]! += F32[0]! >= 0 ? 1 : -1;
  return F32[0]!;
}

/** Float64 L2 norm of every row of x [R×D]. */
export function rowNorms(x: Float32Array, D: number): Float64Array {
  const out = new Float64Array(x.length / D);
  for (let r = 0; r < out.length; r++) out[r] = Math.sqrt(dot(x, r * D, x, r * D, D));
  return out;
}

/** The catalogue's side of rankOfGemm, made once for many query batches: the items on the device and their norms. */
export interface GemmItems {
  tensor: tf.Tensor2D; // [I×D]
  norms: Float64Array; // [I]
}

/** Uploads items [I×D] and computes their norms; the caller disposes `tensor`. */
export function gemmItems(items: Float32Array, D: number): GemmItems {
  return { tensor: tf.tensor2d(items, [items.length / D, D]), norms: rowNorms(items, D) };
}

/**
 * Exact 1-based rank of targets[q] for each query, equal to rankOf's (same exclusions, same tie rule).
 * queries [Q×D] and items [I×D] as host arrays; `prepared` is gemmItems(items) when the caller ranks many
 * query batches against the same items (else it is made, and disposed, here).
 */
export function rankOfGemm(queries: Float32Array, items: Float32Array, D: number, targets: ArrayLike<number>, opts: RetrievalOptions = {}, prepared?: GemmItems): Int32Array {
  const { Q, I, chunk, first } = checkInputs(queries, items, D, opts);
  checkTargets('rankOfGemm', targets, Q, first, I);
  const ranks = new Int32Array(Q).fill(1);
  if (Q === 0) return ranks;
  const own = prepared ?? gemmItems(items, D);
  if (own.norms.length !== I) throw new Error(`rankOfGemm: prepared items hold ${own.norms.length} rows, items ${I}`);
  const itemNorm = own.norms;
  const queryNorm = rowNorms(queries, D);
  const targetScore = Float64Array.from({ length: Q }, (_, q) => dot(queries, q * D, items, targets[q]! * D, D));
  const slack = float32Slack(D);
  const itemsT = own.tensor;
  const queriesT = tf.tensor2d(queries, [Q, D]);
  try {
    for (let i0 = first; i0 < I; i0 += chunk) {
      const i1 = Math.min(i0 + chunk, I);
      const C = i1 - i0;
      let maxNorm = 0;
      for (let i = i0; i < i1; i++) maxNorm = Math.max(maxNorm, itemNorm[i]!);
      const hi = new Float32Array(Q);
      const lo = new Float32Array(Q);
      for (let q = 0; q < Q; q++) {
        const bound = slack * queryNorm[q]! * maxNorm;
        // rounded outward to float32, so the comparisons on the device never decide an item they should not
        hi[q] = nextUp(targetScore[q]! + bound);
        lo[q] = -nextUp(-(targetScore[q]! - bound));
      }
      // On the device: the block's scores, and per query the items surely above the target and the undecided ones.
      const block = tf.tidy(() => matMulT(queriesT, tf.slice(itemsT, [i0, 0], [C, D]), false, true)); // [Q×C]
      // (typed arrays are read inside the tidy, never returned from it: tidy would walk them element by element)
      let above: Int32Array = new Int32Array(0);
      let close: Int32Array = new Int32Array(0);
      tf.tidy(() => {
        const hiT = tf.tensor2d(hi, [Q, 1]);
        const loT = tf.tensor2d(lo, [Q, 1]);
        above = tf.sum(tf.cast(tf.greater(block, hiT), 'int32'), 1).dataSync() as Int32Array;
        close = tf.sum(tf.cast(tf.greaterEqual(block, loT), 'int32'), 1).dataSync() as Int32Array; // lo ≤ s
      });
      for (let q = 0; q < Q; q++) close[q]! -= above[q]!; // lo ≤ s ≤ hi: two counting passes, not three
      // Queries with an undecided item besides their target: only their rows of the block come back to the host.
      const scan: number[] = [];
      for (let q = 0; q < Q; q++) {
        ranks[q]! += above[q]!;
        const t = targets[q]!;
        if (close[q]! > (t >= i0 && t < i1 ? 1 : 0)) scan.push(q);
      }
      if (scan.length > 0) {
        let rows: Float32Array = new Float32Array(0); // [S×C]
        tf.tidy(() => void (rows = tf.gather(block, tf.tensor1d(scan, 'int32')).dataSync() as Float32Array));
        scan.forEach((q, r) => {
          const t = targets[q]!;
          const st = targetScore[q]!;
          const base = r * C - i0;
          for (let i = i0; i < i1; i++) {
            const sc = rows[base + i]!;
            if (i === t || sc < lo[q]! || sc > hi[q]!) continue;
            // too close to call in float32: rankOf's own float64 score and tie rule
            const exact = dot(queries, q * D, items, i * D, D);
            if (exact > st || (exact === st && i < t)) ranks[q]!++;
          }
        });
      }
      block.dispose();
    }
  } finally {
    queriesT.dispose();
    if (prepared === undefined) itemsT.dispose();
  }
  if (opts.exclude) subtractExcluded(queries, items, D, targets, opts.exclude, first, ranks);
  return ranks;
}
