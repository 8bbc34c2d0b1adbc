// The loss of one micro-batch and its gradients (SPEC §6):
//   queries   = states at every position that has a next item        [M, D]
//   positives = the model's target embeddings of those next items   [M, D]
//   negatives, by loss_negatives:
//     mixed     = the step's bucket-sampled items (shared, trainable) [K, D]
//               + the in-batch positives (trainable)                  [M, D]
//               + the memory bank of earlier steps' negatives (detached)
//     all_items = every item of the catalogue (shared, trainable)     [V, D]: a full softmax
//     sampled   = the distinct items of the positives and of K uniform draws (shared, trainable) [U, D],
//                 each column logQ-corrected (core/train/sampled-softmax.ts): a sampled full softmax
//   loss = streamed InfoNCE with margins, temperature, position weights and accidental-hit masking; with
//          train_exclude_history (cb.positives.seen) each row's history items are masked out of its negatives too
//        + l2_emb · ‖W‖ for every item embedding table (the seed's torch.norm penalty)
import * as tf from '@tensorflow/tfjs';
import { gatherRows } from '../../core/ops/fast-ops.ts';
import type { SequenceModel } from '../../core/model/sequence-model.ts';
import type { CutBatch } from '../../core/sequences/cut-batch.ts';
import type { ItemStore } from '../../core/sequences/item-store.ts';
import type { NamedGrads } from '../../core/train/adamw.ts';
import { modelGrads } from '../../core/train/model-grads.ts';
import type { RowSparseGrad, RowTape } from '../../core/train/row-tape.ts';
import type { SampledNegatives } from '../../core/train/sampled-softmax.ts';
import { type InfoNceParams, type NegativeBank, positionWeights, streamedInfoNce } from '../../core/train/infonce.ts';

export interface LossSettings extends InfoNceParams {
  pos_weight_a: number;
  l2_emb: number;
  /** mixed: sampled + in-batch + memory bank; all_items: the caller passes every item as `negativeIds`, nothing else;
   *  sampled: the caller passes the K uniform draws; the columns are they and the positives, logQ-corrected */
  loss_negatives: 'mixed' | 'all_items' | 'sampled';
}

export interface BatchLossResult {
  loss: number;
  grads: NamedGrads; // by model parameter name; the caller disposes them
  negatives: tf.Tensor2D; // [K, D] this step's sampled negatives' embeddings, for the memory bank (caller disposes)
  positives: number; // M
}

/** The positions holding a positive, flattened over [B, N]. */
export function positivePositions(isPositive: Uint8Array): Int32Array {
  let m = 0;
  for (const x of isPositive) m += x;
  const out = new Int32Array(m);
  for (let i = 0, k = 0; i < isPositive.length; i++) if (isPositive[i] === 1) out[k++] = i;
  return out;
}

/**
 * The negatives every positive row is contrasted with, in the loss's order:
 *   1. the step's bucket-sampled items, shared by every row, trainable (absent when num_negatives is 0)
 *   2. the in-batch positives: every row's positive item, the row's own included, trainable
 *   3. the memory bank: earlier steps' sampled negatives, detached, oldest step first
 * A negative whose id equals the row's positive id is masked inside the loss (streamedInfoNce): the
 * row's own in-batch positive and every accidental hit in any bank never count; duplicates that are
 * not hits count once per occurrence.
 * all_items and sampled have one bank, the columns every item or the step's distinct items (`logQ`: the
 * sampled-softmax correction of each column).
 */
export function negativeBanks(
  sampled: tf.Tensor2D, sampledIds: Int32Array, positive: tf.Tensor2D, positiveIds: Int32Array, memory: NegativeBank[],
  composition: LossSettings['loss_negatives'] = 'mixed', logQ?: Float32Array,
): NegativeBank[] {
  // every item is already a column: in-batch copies and stale copies would only count items twice
  if (composition === 'all_items') return [{ emb: sampled, ids: sampledIds, detached: false }];
  if (composition === 'sampled') {
    if (logQ === undefined) throw new Error('loss_negatives sampled needs the columns\' logQ correction');
    return [{ emb: sampled, ids: sampledIds, detached: false, logQ }];
  }
  return [
    ...(sampledIds.length > 0 ? [{ emb: sampled, ids: sampledIds, detached: false }] : []),
    { emb: positive, ids: positiveIds, detached: false },
    ...memory,
  ];
}

/** ids = 1, 2, …, V: the whole catalogue in order. */
function isCatalogue(ids: Int32Array): boolean {
  for (let k = 0; k < ids.length; k++) if (ids[k] !== k + 1) return false;
  return true;
}

/** What a row-sparse step needs from the optimizer (AdamW with rowSparse tables). */
export interface RowTables {
  rowTape(): RowTape | null;
  readRows(name: string, ids: tf.Tensor): tf.Tensor;
  sumOfSquares(name: string): tf.Scalar;
}

export interface BatchLossInput {
  model: SequenceModel;
  store: ItemStore;
  cb: CutBatch;
  negativeIds: Int32Array;
  memory: NegativeBank[]; // the bank's detached negatives
  settings: LossSettings;
  dropoutSeed: number;
  proposal?: SampledNegatives; // loss_negatives sampled
  /** embedding_updates sparse: the optimizer, whose tape serves the row-sparse tables' rows and keeps their gradients as rows */
  rowTables?: RowTables;
}

/**
 * Forward + backward of one micro-batch. With row-sparse tables the gradient of each is a RowSparseGrad
 * (core/train/row-tape.ts), and l2_emb's penalty l2·‖W‖ on such an item table takes ‖W‖ from the optimizer's Σp²
 * and adds its gradient l2·W_r/‖W‖ to the rows the step touched only (lazy, as the update).
 */
export function batchLoss(input: BatchLossInput): BatchLossResult {
  const { model, store, cb, negativeIds, memory, settings: s, dropoutSeed, proposal } = input;
  const { batch, positives } = cb;
  const { weights: p, config: c } = model;
  const [B, N, D] = [batch.batchSize, batch.seqLen, c.hiddenUnits];
  const at = positivePositions(positives.isPositive);
  const M = at.length;
  const K = negativeIds.length;
  const positiveIds = Int32Array.from(at, (i) => positives.item[i]!);
  const positiveActions = Int32Array.from(at, (i) => positives.action[i]!);
  const allWeights = positionWeights(positives.isPositive, B, N, s.pos_weight_a, c.maxlen + 1); // the seed's N, however trimmed
  const weights = Float32Array.from(at, (i) => allWeights[i]!);
  // all_items and sampled: the columns' embeddings already hold every positive (targets are deterministic,
  // no dropout), so positives are gathered from them instead of going through the target tower twice.
  let columns: { ids: Int32Array; logQ?: Float32Array; positiveColumn: Int32Array } | null = null;
  if (s.loss_negatives === 'all_items') {
    if (!isCatalogue(negativeIds)) throw new Error('loss_negatives all_items: negativeIds must be every item, 1..V in order');
    columns = { ids: negativeIds, positiveColumn: Int32Array.from(positiveIds, (id) => id - 1) };
  } else if (s.loss_negatives === 'sampled') {
    if (proposal === undefined) throw new Error('loss_negatives sampled needs the proposal (SampledNegatives)');
    columns = proposal.columns(positiveIds, negativeIds);
  }
  const targetIds = columns?.ids ?? new Int32Array(M + K);
  if (columns === null) {
    targetIds.set(positiveIds);
    targetIds.set(negativeIds, M);
  }
  const targets = store.targetItems(targetIds);
  const tape = input.rowTables?.rowTape() ?? null;
  const itemTables = p.names().filter((n) => p.kinds.get(n) === 'itemEmbedding');

  const kept: { negatives?: tf.Tensor2D } = {};
  const { value, grads } = modelGrads(p, () => {
    const encoded = model.encodeSequencesAndTargets(batch, targets, { training: true, seed: dropoutSeed }); // one item-table lookup
    const states = tf.reshape(encoded.states, [B * N, D]); // [B·N, D]
    const query = gatherRows(states, tf.tensor1d(at, 'int32')) as tf.Tensor2D; // [M, D]
    const items = encoded.items as tf.Tensor2D; // mixed: [M + K, D]; all_items: [V, D], row k = item k + 1; sampled: [U, D]
    const positive = columns
      ? (gatherRows(items, tf.tensor1d(columns.positiveColumn, 'int32')) as tf.Tensor2D) // [M, D]
      : (tf.slice(items, [0, 0], [M, D]) as tf.Tensor2D); // [M, D]
    const negative = columns ? items : (tf.slice(items, [M, 0], [K, D]) as tf.Tensor2D); // [K, D]
    kept.negatives = tf.keep(negative);
    const banks = negativeBanks(negative, columns?.ids ?? negativeIds, positive, positiveIds, memory, s.loss_negatives, columns?.logQ);
    let loss: tf.Scalar = streamedInfoNce({ query, positive, positiveIds, positiveActions, weights, banks, excluded: positives.seen }, s);
    for (const name of itemTables) if (s.l2_emb > 0 && !tape?.has(name)) loss = tf.add(loss, tf.mul(tf.norm(p.get(name)), s.l2_emb));
    return loss;
  }, tape);
  let loss = value.dataSync()[0]!;
  value.dispose();
  if (tape !== null && s.l2_emb > 0) {
    for (const name of itemTables) if (tape.has(name)) loss += rowPenalty(input.rowTables!, grads[name] as RowSparseGrad | undefined, name, s.l2_emb);
  }
  return { loss, grads, negatives: kept.negatives!, positives: M };
}

/** l2·‖W‖ of a row-sparse table: its value, and its gradient l2·W_r/‖W‖ added to the rows the step touched (g). */
function rowPenalty(rows: RowTables, g: RowSparseGrad | undefined, name: string, l2: number): number {
  const norm = Math.sqrt(rows.sumOfSquares(name).dataSync()[0]!);
  if (g !== undefined) {
    const withPenalty = tf.tidy(() => tf.add(g.rows, tf.mul(rows.readRows(name, g.ids), l2 / norm)) as tf.Tensor2D);
    g.rows.dispose();
    g.rows = withPenalty;
  }
  return l2 * norm;
}
