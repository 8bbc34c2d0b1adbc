// Sampled-softmax negatives (loss_negatives: sampled, SPEC §6): every positive of a step is contrasted
// with the step's other positives (in-batch) and with K items drawn uniformly from the catalogue, both
// shared by the batch — the columns the target tower has to encode are the M positives and the K draws,
// not the whole catalogue. Each column j carries the logQ correction
//   logQ_j = log E[count of j among the step's negatives] = log(M·f_j + K/V),
// f_j = item j's share of the training positives (how often in-batch negatives show it), K/V = the
// uniform draws' expected count. Subtracting it from the logits makes Σ exp(s − logQ) over the drawn
// columns an importance-sampling estimate of the full softmax's Σ over every item (Bengio & Senécal
// 2008; Jean et al. 2015), which is what `all_items` computes exactly: in-batch negatives stop pushing
// popular items down merely for being popular (Yi et al. 2019), and the uniform draws reach the items no
// batch shows. The mixture is one proposal, so both kinds of column use the same expected count.
// An item drawn c_j times (a popular positive repeats within a batch) is one column whose term is c_j times
// exp(s − logQ): the column carries logQ_j − log c_j, the same loss with each distinct item encoded and
// scored once (`columns`).
import type { Rng } from '../random/rng.ts';

export class SampledNegatives {
  /** [rows] f_j: item idx j's share of the training positives (row 0, padding, is 0) */
  readonly share: Float64Array;

  /** `counts[j]` = training positives of item idx j; items 1..V = counts.length − 1. */
  constructor(counts: Float64Array) {
    const V = counts.length - 1;
    if (V < 1) throw new Error('sampled negatives: the catalogue is empty');
    let total = 0;
    for (let j = 1; j <= V; j++) total += counts[j]!;
    this.share = new Float64Array(counts.length);
    if (total > 0) for (let j = 1; j <= V; j++) this.share[j] = counts[j]! / total;
  }

  get items(): number {
    return this.share.length - 1;
  }

  /** K item idx drawn uniformly from 1..V, with replacement. */
  draw(k: number, rng: Rng): Int32Array {
    return Int32Array.from({ length: k }, () => 1 + rng.int(this.items));
  }

  /**
   * The step's negative columns: the distinct items among the positives and the draws (first appearance
   * order), each with its correction logQ_j − log c_j, and the column of every positive (its embedding).
   */
  columns(positiveIds: Int32Array, drawn: Int32Array): { ids: Int32Array; logQ: Float32Array; positiveColumn: Int32Array } {
    const column = new Map<number, number>();
    const counts: number[] = [];
    const ids: number[] = [];
    const add = (id: number): number => {
      let k = column.get(id);
      if (k === undefined) {
        k = ids.length;
        column.set(id, k);
        ids.push(id);
        counts.push(0);
      }
      counts[k]!++;
      return k;
    };
    const positiveColumn = Int32Array.from(positiveIds, add);
    drawn.forEach(add);
    const distinct = Int32Array.from(ids);
    const logQ = this.logQ(distinct, positiveIds.length, drawn.length);
    for (let k = 0; k < logQ.length; k++) logQ[k] = logQ[k]! - Math.log(counts[k]!);
    return { ids: distinct, logQ, positiveColumn };
  }

  /** logQ of every id in `ids` for a step with `inBatch` positives and `drawn` uniform draws. */
  logQ(ids: Int32Array, inBatch: number, drawn: number): Float32Array {
    const uniform = drawn / this.items;
    return Float32Array.from(ids, (j) => Math.log(inBatch * this.share[j]! + uniform));
  }
}
