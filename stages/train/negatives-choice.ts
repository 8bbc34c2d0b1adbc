// Which negatives the loss uses (params: loss_negatives). `all_items` contrasts every positive with
// the whole catalogue — a full softmax, what RecBole's CE does, and what trains full-catalogue ranking
// on real data (README "Model quality") — at a cost of M × items logits and a target-tower pass over
// every item a step. `sampled` estimates that softmax from the batch's own positives and
// `num_negatives` uniform draws, logQ-corrected (core/train/sampled-softmax.ts): it encodes and scores
// at most batch_size·(maxlen + 1) + num_negatives items a step, whatever the catalogue's size
// (TencentGR-1M: 4.8M items). `mixed` is the seed's sampled + in-batch + memory-bank composition, kept for
// its recipe (profiles/seed-*.yaml). `auto` picks all_items while the catalogue is no larger than what
// sampled could touch in a step (it is then exact at no extra cost), sampled above.
import type { Params } from '../../core/stage/params.ts';
import type { LossSettings } from './batch-loss.ts';

/** The most items `sampled` encodes and scores in one micro-batch: every position's positive + the draws. */
export function sampledColumns(p: Pick<Params, 'batch_size' | 'maxlen' | 'num_negatives'>): number {
  return p.batch_size * (p.maxlen + 1) + p.num_negatives;
}

export function resolveNegatives(choice: Params['loss_negatives'], items: number, p: Pick<Params, 'batch_size' | 'maxlen' | 'num_negatives'>): LossSettings['loss_negatives'] {
  switch (choice) {
    case 'auto':
      return items <= sampledColumns(p) ? 'all_items' : 'sampled';
    case 'all_items':
    case 'sampled':
    case 'mixed':
      return choice;
    default: {
      const never: never = choice;
      throw new Error(`unknown loss_negatives ${String(never)}`);
    }
  }
}
