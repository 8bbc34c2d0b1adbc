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
//
// Two ways to count, the same ranks: the native fused kernel (native/count-above.cc: the scores stay in
// registers, compared as they are made, no [Q×C] block in memory; built by scripts/setup-kernels.sh) when it is
// built, else the tfjs device (matMul, then compare-and-sum passes over the block).
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { matMulT } from '../ops/fast-ops.ts';
import { countAboveKernel } from './native/count-above.ts';
import { type ExcludeFn, type RetrievalOptions, checkInputs, checkTargets, collectExclusions, dot, subtractExcluded } from './topk.ts';

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

/** The catalogue's side of rankOfGemm and topKGemm, made once for many query batches: the items and their norms. */
export class GemmItems {
  readonly norms: Float64Array; // [I]
  private uploaded: tf.Tensor2D | undefined;

  constructor(readonly items: Float32Array, readonly D: number) {
    this.norms = rowNorms(items, D);
  }

  /** The items on the tfjs device [I×D], uploaded at first use (the native kernel reads the host array). */
  get tensor(): tf.Tensor2D {
    // kept: a first use inside tf.tidy must not dispose it with the tidy's intermediates
    this.uploaded ??= tf.keep(tf.tensor2d(this.items, [this.items.length / this.D, this.D]));
    return this.uploaded;
  }

  dispose(): void {
    this.uploaded?.dispose();
    this.uploaded = undefined;
  }
}

/** The items [I×D] prepared for many query batches; the caller disposes it. */
export function gemmItems(items: Float32Array, D: number): GemmItems {
  return new GemmItems(items, D);
}

/** How rankOfGemm counts: auto = native when built, else device; portable = the native kernel without SIMD. */
export type RankCounter = 'auto' | 'native' | 'portable' | 'device';

/** The per-query quantities both counters share. */
interface RankJob {
  queries: Float32Array;
  items: GemmItems;
  D: number;
  Q: number;
  I: number;
  first: number;
  chunk: number;
  targets: ArrayLike<number>;
  targetScore: Float64Array; // float64, rankOf's dot
  queryBound: Float64Array; // float32Slack(D)·‖q‖: times max‖i‖ over a chunk, the chunk's decision bound
  ranks: Int32Array;
}

/**
 * Exact 1-based rank of targets[q] for each query, equal to rankOf's (same exclusions, same tie rule).
 * queries [Q×D] and items [I×D] as host arrays; `prepared` is gemmItems(items) when the caller ranks many
 * query batches against the same items (else it is made, and disposed, here).
 */
export function rankOfGemm(queries: Float32Array, items: Float32Array, D: number, targets: ArrayLike<number>, opts: RetrievalOptions = {}, prepared?: GemmItems, counter: RankCounter = 'auto'): Int32Array {
  const { Q, I, chunk, first } = checkInputs(queries, items, D, opts);
  checkTargets('rankOfGemm', targets, Q, first, I);
  const ranks = new Int32Array(Q).fill(1);
  if (Q === 0) return ranks;
  const own = prepared ?? gemmItems(items, D);
  if (own.norms.length !== I) throw new Error(`rankOfGemm: prepared items hold ${own.norms.length} rows, items ${I}`);
  const slack = float32Slack(D);
  const job: RankJob = {
    queries, items: own, D, Q, I, first, chunk, targets, ranks,
    targetScore: Float64Array.from({ length: Q }, (_, q) => dot(queries, q * D, items, targets[q]! * D, D)),
    queryBound: rowNorms(queries, D).map((n) => slack * n),
  };
  try {
    if (counter === 'device' || (counter === 'auto' && countAboveKernel() === null)) {
      countOnDevice(job);
      if (opts.exclude) subtractExcluded(queries, items, D, targets, opts.exclude, first, ranks);
    } else {
      countNative(job, opts.exclude, counter === 'portable');
    }
  } finally {
    if (prepared === undefined) own.dispose();
  }
  return ranks;
}

/** Items within the bound of the target's score: rankOf's own float64 score and tie rule decide. */
function rescore(job: RankJob, q: number, i: number): void {
  const { queries, items, D, targets, targetScore, ranks } = job;
  const exact = dot(queries, q * D, items.items, i * D, D);
  if (exact > targetScore[q]! || (exact === targetScore[q]! && i < targets[q]!)) ranks[q]!++;
}

/** The fused kernel: counts, near-tie re-scoring and exclusions over the whole catalogue in one call, on every core. */
function countNative(job: RankJob, exclude: ExcludeFn | undefined, portable: boolean): void {
  const kernel = countAboveKernel();
  if (kernel === null) throw new Error('rankOfGemm: the native kernel is not built (bash scripts/setup-kernels.sh)');
  const { offsets, list } = exclusionLists(exclude, job.Q, job.I);
  const { above } = kernel.countAbove(
    job.queries, job.D, job.items.items, job.first, job.items.norms, Int32Array.from(job.targets), job.targetScore,
    job.queryBound, job.chunk, availableParallelism(), portable ? 1 : 0, offsets, list,
  );
  for (let q = 0; q < job.Q; q++) job.ranks[q]! += above[q]!;
}

/** exclude(q) for every query (checked by collectExclusions) as one list with offsets [Q+1]. */
function exclusionLists(exclude: ExcludeFn | undefined, Q: number, I: number): { offsets: Int32Array; list: Int32Array } {
  const lists = collectExclusions(exclude, 0, Q, I);
  const offsets = new Int32Array(Q + 1);
  for (let q = 0; q < Q; q++) offsets[q + 1] = offsets[q]! + lists[q]!.length;
  const list = new Int32Array(offsets[Q]!);
  lists.forEach((l, q) => list.set(l, offsets[q]!));
  return { offsets, list };
}

/** The tfjs device: per item chunk, the score block and two compare-and-sum passes over it. */
function countOnDevice(job: RankJob): void {
  const { D, Q, I, first, chunk, targets, targetScore, queryBound, ranks } = job;
  const itemNorm = job.items.norms;
  const itemsT = job.items.tensor;
  const queriesT = tf.tensor2d(job.queries, [Q, D]);
  try {
    for (let i0 = first; i0 < I; i0 += chunk) {
      const i1 = Math.min(i0 + chunk, I);
      const C = i1 - i0;
      let maxNorm = 0;
      for (let i = i0; i < i1; i++) maxNorm = Math.max(maxNorm, itemNorm[i]!);
      const hi = new Float32Array(Q);
      const lo = new Float32Array(Q);
      for (let q = 0; q < Q; q++) {
        const bound = queryBound[q]! * maxNorm;
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
          const base = r * C - i0;
          for (let i = i0; i < i1; i++) {
            const sc = rows[base + i]!;
            if (i !== targets[q]! && sc >= lo[q]! && sc <= hi[q]!) rescore(job, q, i);
          }
        });
      }
      block.dispose();
    }
  } finally {
    queriesT.dispose();
  }
}
