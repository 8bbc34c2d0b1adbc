// Streamed InfoNCE (SPEC §6, seed "流式 InfoNCE"): for each positive row i,
//   s_pos_i = (cos(q_i, p_i) − margin[action_i]) / T,   s_ij = cos(q_i, n_j) / T,
//   loss_i  = logsumexp(s_pos_i, s_i·) − s_pos_i,        loss = Σ w_i·loss_i / Σ w_i,
// with the log-sum-exp folded over the negative banks chunk by chunk, so no [M × all negatives]
// matrix exists — not in the forward pass and not in the backward pass either: the loss is one
// custom-gradient op whose backward recomputes each chunk's logits (flash-attention style) instead
// of keeping them on the tape. All products are 2-D through matMulT: explicit transposes on wasm
// (its fast path takes no flags), transpose flags on native TensorFlow.
// A negative whose id equals the row's positive id is masked (an accidental hit is not a negative).
// Sampled softmax (loss_negatives: sampled): a bank may carry logQ_j = log E[count of item j among the
// step's negatives]; its logits become s_ij − logQ_j, so Σ_j exp(s_ij − logQ_j) over the drawn negatives
// estimates Σ over the whole catalogue (importance sampling; Bengio & Senécal 2008, Jean et al. 2015, the
// logQ correction of Yi et al. 2019). The positive is always present, so its logit is not corrected.
// Excluded items (train_exclude_history): a row may list items that are no negatives for it — the user's
// history, which ranking with exclude_history never recommends; their columns are masked in that row
// exactly as accidental hits are.
import * as tf from '@tensorflow/tfjs';
import { logSumExp, matMul2d, matMulT } from '../ops/fast-ops.ts';

/** Negatives sharing one id list: sampled items, in-batch positives, or one memory-bank step. */
export interface NegativeBank {
  emb: tf.Tensor2D; // [K, D], L2-normalised
  ids: Int32Array; // [K] item indices, for accidental-hit masking
  detached: boolean; // true = constant (memory bank): no gradient flows into it
  logQ?: Float32Array; // [K] sampled-softmax correction subtracted from the bank's logits (absent = 0)
}

export interface InfoNceParams {
  temperature: number;
  margin_click: number; // subtracted from the cosine of click positives (action 1)
  margin_conv: number; // subtracted from the cosine of conversion positives (action 2)
  chunk: number; // negatives per folded chunk
  /** how masked cells are applied: auto = dense where they are many (DENSE_MASK_SHARE), else one scatter; the
   *  two give the same loss (tests pin each) */
  maskMode?: 'auto' | 'scatter' | 'dense';
}

export interface InfoNceInput {
  query: tf.Tensor2D; // [M, D] L2-normalised final states at the positive positions
  positive: tf.Tensor2D; // [M, D] L2-normalised target-branch embeddings of the positives
  positiveIds: Int32Array; // [M]
  positiveActions: ArrayLike<number>; // [M] 0 exposure, 1 click, 2 conversion
  weights: Float32Array; // [M] sample weights (positionWeights), constants
  banks: NegativeBank[];
  excluded?: RowItems; // per row, items masked out of its negatives (absent = none)
}

/** CSR item lists, one per positive row: row i's items are items[ptr[i] .. ptr[i + 1]). */
export interface RowItems {
  ptr: Int32Array; // [M + 1]
  items: Int32Array;
}

/** Masked logits sit at this value: finite, so a fully masked chunk gives no NaN, and exp() of it is 0. */
const MASKED = -1e30;

/**
 * Position weights, exactly the seed's `rank = mask.cumsum(1) - mask; w = (1 - a) + 2a·rank/N`:
 * rank is the 0-based index of the positive among its sequence's positives, and N is the sequence
 * length (the mask's second dimension), not the number of positives — so weights run from 1 − a
 * up to below 1 + a only for a sequence that is all positives. Positions that are not positives get
 * weight 0 (the seed's loss vector is zero there; zeroing the weight also keeps them out of Σ w).
 * `isPositive` is [B, N] row-major, 1 where position t has a positive; returns [B, N] row-major.
 * `paddedLen` is the seed's N, maxlen + 1, for batches trimmed to their longest window (core/sequences/
 * batch.ts): the weights must not depend on how much left padding a batch happens to carry.
 */
export function positionWeights(isPositive: ArrayLike<number>, batch: number, seqLen: number, a: number, paddedLen = seqLen): Float32Array {
  if (isPositive.length !== batch * seqLen) throw new Error(`positionWeights: mask has ${isPositive.length} values, expected ${batch}×${seqLen}`);
  const out = new Float32Array(batch * seqLen);
  for (let b = 0; b < batch; b++) {
    let rank = 0;
    for (let t = 0; t < seqLen; t++) {
      const k = b * seqLen + t;
      if (isPositive[k] === 0) continue;
      out[k] = 1 - a + (2 * a * rank) / paddedLen;
      rank++;
    }
  }
  return out;
}

function marginsOf(actions: ArrayLike<number>, p: InfoNceParams): Float32Array {
  const out = new Float32Array(actions.length);
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i];
    if (a === 1) out[i] = p.margin_click;
    else if (a === 2) out[i] = p.margin_conv;
    else if (a !== 0) throw new Error(`InfoNCE: positive ${i} has action ${a}; expected 0, 1 or 2`);
  }
  return out;
}

/** One chunk of one bank: rows [start, start + size) and the (row, column) pairs to mask. */
interface Chunk {
  bank: number;
  start: number;
  size: number;
  hits: number[]; // flat pairs row, col (col within the chunk)
  dense: boolean; // mask by adding a dense [M, size] matrix (many cells) instead of one scatter (few)
}

/** A chunk whose masked cells exceed this share of its [M, size] block is masked densely: a scatter costs
 *  ~0.5 µs a cell on native TF, a dense add ~10 ns an element (history exclusion masks ~5% of the cells). */
const DENSE_MASK_SHARE = 0.01;
/** …unless the dense mask would exceed this many elements (it is kept from the forward to the backward pass). */
const DENSE_MASK_MAX = 8 << 20;

/**
 * Chunks of every bank, with the cells to mask: accidental hits, found through an id → positive rows index
 * (O(M + K)), and each row's excluded items, found through an id → columns index of the bank.
 */
function planChunks(positiveIds: Int32Array, banks: NegativeBank[], chunk: number, excluded?: RowItems, maskMode: InfoNceParams['maskMode'] = 'auto'): Chunk[] {
  const M = positiveIds.length;
  if (excluded !== undefined && excluded.ptr.length !== M + 1) throw new Error(`InfoNCE: excluded items for ${excluded.ptr.length - 1} rows, expected ${M}`);
  const rowsOf = new Map<number, number[]>();
  positiveIds.forEach((id, row) => {
    const rows = rowsOf.get(id);
    if (rows === undefined) rowsOf.set(id, [row]);
    else rows.push(row);
  });
  const chunks: Chunk[] = [];
  banks.forEach((bank, b) => {
    const K = bank.emb.shape[0];
    if (bank.ids.length !== K) throw new Error(`InfoNCE: negative bank ${b} has ${K} rows but ${bank.ids.length} ids`);
    if (bank.logQ !== undefined && bank.logQ.length !== K) throw new Error(`InfoNCE: negative bank ${b} has ${K} rows but ${bank.logQ.length} logQ values`);
    const first = chunks.length;
    for (let start = 0; start < K; start += chunk) {
      const size = Math.min(chunk, K - start);
      const hits: number[] = [];
      for (let col = 0; col < size; col++) {
        for (const row of rowsOf.get(bank.ids[start + col]!) ?? []) hits.push(row, col);
      }
      chunks.push({ bank: b, start, size, hits, dense: false });
    }
    if (excluded === undefined || excluded.items.length === 0) return;
    const colsOf = new Map<number, number[]>();
    bank.ids.forEach((id, col) => {
      const cols = colsOf.get(id);
      if (cols === undefined) colsOf.set(id, [col]);
      else cols.push(col);
    });
    for (let row = 0; row < M; row++) {
      for (let k = excluded.ptr[row]!; k < excluded.ptr[row + 1]!; k++) {
        const item = excluded.items[k]!;
        if (item === positiveIds[row]) continue; // already masked as an accidental hit
        for (const col of colsOf.get(item) ?? []) {
          const c = chunks[first + Math.floor(col / chunk)]!;
          c.hits.push(row, col - c.start);
        }
      }
    }
  });
  for (const c of chunks) {
    const many = c.hits.length / 2 > DENSE_MASK_SHARE * M * c.size && M * c.size <= DENSE_MASK_MAX;
    c.dense = c.hits.length > 0 && (maskMode === 'dense' || (maskMode === 'auto' && many));
  }
  return chunks;
}

/** The dense additive mask of a chunk: MASKED at its hits, 0 elsewhere. → [M, size] */
function denseMask(c: Chunk, M: number): tf.Tensor2D {
  const m = new Float32Array(M * c.size);
  for (let k = 0; k < c.hits.length; k += 2) m[c.hits[k]! * c.size + c.hits[k + 1]!] = MASKED;
  return tf.tensor2d(m, [M, c.size]);
}

/**
 * s = q·nᵀ/T for one chunk, given qT = q/T, with its masked cells set to MASKED (`mask`, the chunk's dense
 * mask when it has one, is added; a masked cell is then MASKED + s, as good as MASKED; else one scatter of the
 * few hit cells: no dense [M, size] mask built in JS, uploaded and added). → [M, size]
 */
function chunkLogits(qT: tf.Tensor2D, bank: NegativeBank, c: Chunk, mask?: tf.Tensor2D): tf.Tensor2D {
  const D = bank.emb.shape[1];
  const n = tf.slice(bank.emb, [c.start, 0], [c.size, D]); // [size, D]
  const raw = matMulT(qT, n, false, true) as tf.Tensor2D; // [M, size]; no tape here (custom gradient)
  const s = bank.logQ === undefined ? raw : (tf.sub(raw, tf.tensor2d(bank.logQ.subarray(c.start, c.start + c.size), [1, c.size])) as tf.Tensor2D);
  if (mask !== undefined) return tf.add(s, mask) as tf.Tensor2D;
  if (c.hits.length === 0) return s;
  const cells = tf.tensor2d(c.hits, [c.hits.length / 2, 2], 'int32'); // (row, col) pairs
  return tf.tensorScatterUpdate(s, cells, tf.fill([c.hits.length / 2], MASKED)) as tf.Tensor2D;
}

/** log(eᵃ + eᵇ) elementwise, stable: max + log(1 + e^(−|a − b|)). [M] vectors: no [M, 1 + size] concat. */
function logAddExp(a: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor1D {
  return tf.add(tf.maximum(a, b), tf.log1p(tf.exp(tf.neg(tf.abs(tf.sub(a, b)))))) as tf.Tensor1D;
}

/**
 * The weighted mean InfoNCE loss (a scalar), differentiable w.r.t. `query`, `positive` and the
 * embeddings of every bank with `detached: false`. Use it inside tf.variableGrads / tf.grads.
 */
export function streamedInfoNce(input: InfoNceInput, params: InfoNceParams): tf.Scalar {
  const { query, positive, positiveIds, weights, banks } = input;
  const M = query.shape[0];
  const D = query.shape[1];
  if (M === 0) throw new Error('InfoNCE: no positives in the batch');
  if (positive.shape[0] !== M || positive.shape[1] !== D || positiveIds.length !== M || weights.length !== M || input.positiveActions.length !== M) {
    throw new Error(`InfoNCE: query [${query.shape}], positive [${positive.shape}], ${positiveIds.length} ids, ${input.positiveActions.length} actions, ${weights.length} weights disagree`);
  }
  if (!(params.chunk >= 1) || !Number.isInteger(params.chunk)) throw new Error(`InfoNCE: chunk must be a positive integer, got ${params.chunk}`);
  const wSum = weights.reduce((s, w) => s + w, 0);
  if (!(wSum > 0)) throw new Error(`InfoNCE: the weights sum to ${wSum}; need a positive total`);

  const invT = 1 / params.temperature;
  const margins = marginsOf(input.positiveActions, params);
  const chunks = planChunks(positiveIds, banks, params.chunk, input.excluded, params.maskMode);
  const trainable = banks.map((b, i) => ({ b, i })).filter(({ b }) => !b.detached).map(({ i }) => i);
  const nBanks = banks.length;

  const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [q, p] = args as [tf.Tensor2D, tf.Tensor2D];
    const sPos = tf.mul(tf.sub(tf.sum(tf.mul(q, p), 1), tf.tensor1d(margins)), invT) as tf.Tensor1D; // [M]
    const qT = tf.mul(q, invT) as tf.Tensor2D; // [M, D]: 1/T folded into the query, not each [M, size] chunk
    const masks = chunks.map((c) => (c.dense ? denseMask(c, M) : undefined)); // uploaded once, kept for the backward pass
    let lse: tf.Tensor1D = sPos;
    for (const [k, c] of chunks.entries()) {
      const next = tf.tidy(() => logAddExp(lse, logSumExp(chunkLogits(qT, banks[c.bank]!, c, masks[k])) as tf.Tensor1D)); // [M]
      if (lse !== sPos) lse.dispose();
      lse = next;
    }
    const w = tf.tensor1d(weights);
    const value = tf.div(tf.sum(tf.mul(w, tf.sub(lse, sPos))), wSum) as tf.Scalar;
    const denseMasks = masks.filter((m) => m !== undefined);
    save([q, p, lse, sPos, ...banks.map((b) => b.emb), ...denseMasks]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sp] = saved as [tf.Tensor2D, tf.Tensor2D];
        const [slse, ssPos] = saved.slice(2, 4) as [tf.Tensor1D, tf.Tensor1D];
        const embs = saved.slice(4, 4 + nBanks) as tf.Tensor2D[];
        const savedMasks = saved.slice(4 + nBanks) as tf.Tensor2D[]; // the dense masks, in chunk order
        let nextMask = 0;
        const maskOf = chunks.map((c) => (c.dense ? savedMasks[nextMask++] : undefined));
        const coef = tf.div(tf.mul(tf.tensor1d(weights), dy), wSum); // [M] dloss/dlse_i
        // dloss/ds_pos_i = coef_i·(softmax weight of the positive − 1); s_pos = (q·p − m)/T.
        const gPos = tf.expandDims(tf.mul(tf.mul(coef, tf.sub(tf.exp(tf.sub(ssPos, slse)), 1)), invT), 1); // [M, 1]
        let dq = tf.mul(gPos, sp); // [M, D]
        const dp = tf.mul(gPos, sq); // [M, D]
        const dBank: tf.Tensor2D[][] = Array.from({ length: nBanks }, () => []);
        const coefCol = tf.expandDims(tf.mul(coef, invT), 1); // [M, 1]
        const lseCol = tf.expandDims(slse, 1); // [M, 1]
        const sqT = tf.mul(sq, invT) as tf.Tensor2D; // [M, D]
        for (const [k, c] of chunks.entries()) {
          const emb = embs[c.bank]!;
          const detached = banks[c.bank]!.detached;
          const out = tf.tidy(() => {
            const s = chunkLogits(sqT, { ...banks[c.bank]!, emb }, c, maskOf[k]); // [M, size]
            const g = tf.mul(tf.exp(tf.sub(s, lseCol)), coefCol); // [M, size] dloss/ds · 1/T
            const n = tf.slice(emb, [c.start, 0], [c.size, D]); // [size, D]
            const dqNext = tf.add(dq, matMul2d(g, n)); // [M, size] × [size, D]
            return detached ? [dqNext] : [dqNext, matMulT(g, sq, true, false)]; // [size, M] × [M, D]
          });
          dq.dispose();
          dq = out[0]!;
          if (out[1] !== undefined) dBank[c.bank]!.push(out[1] as tf.Tensor2D);
        }
        const bankGrads = trainable.map((b) => {
          const parts = dBank[b]!;
          return parts.length === 0 ? tf.zerosLike(embs[b]!) : parts.length === 1 ? parts[0]! : tf.concat(parts, 0); // [K_b, D]
        });
        return [dq, dp, ...bankGrads];
      },
    };
  }) as (...inputs: tf.Tensor[]) => tf.Scalar;

  return loss(query, positive, ...trainable.map((i) => banks[i]!.emb));
}

/**
 * The plain reference: one [M, 1 + all negatives] logits matrix and tf.logSumExp, with stock
 * autodiff. Only for tests and small inputs — it is exactly what the streamed version avoids.
 */
export function referenceInfoNce(input: InfoNceInput, params: InfoNceParams): tf.Scalar {
  return tf.tidy(() => {
    const { query, positive, positiveIds, weights, banks } = input;
    const M = query.shape[0];
    const invT = 1 / params.temperature;
    const sPos = tf.mul(tf.sub(tf.sum(tf.mul(query, positive), 1), tf.tensor1d(marginsOf(input.positiveActions, params))), invT);
    const columns: tf.Tensor[] = [tf.expandDims(sPos, 1)];
    for (const bank of banks) {
      const K = bank.emb.shape[0];
      const mask = new Float32Array(M * K);
      for (let i = 0; i < M; i++) {
        const excluded = input.excluded ? input.excluded.items.subarray(input.excluded.ptr[i], input.excluded.ptr[i + 1]) : new Int32Array(0);
        for (let j = 0; j < K; j++) if (bank.ids[j] === positiveIds[i] || excluded.includes(bank.ids[j]!)) mask[i * K + j] = MASKED;
      }
      const logits = tf.add(tf.mul(tf.matMul(query, bank.emb, false, true), invT), tf.tensor2d(mask, [M, K]));
      columns.push(bank.logQ === undefined ? logits : tf.sub(logits, tf.tensor2d(bank.logQ, [1, K])));
    }
    const lse = tf.logSumExp(tf.concat(columns, 1), 1);
    const w = tf.tensor1d(weights);
    return tf.div(tf.sum(tf.mul(w, tf.sub(lse, sPos))), tf.sum(w)) as tf.Scalar;
  });
}
