// Which negatives the loss uses (params: loss_negatives). `all_items` contrasts every positive with
// the whole catalogue — a full softmax, what RecBole's CE does, and what trains full-catalogue ranking
// on real data (README "Model quality") — at a cost of M × items logits a step. `mixed` is the seed's
// sampled + in-batch + memory-bank composition, for catalogues too large to score every step
// (TencentGR-1M: 4.8M items). `auto` picks all_items up to ALL_ITEMS_MAX items, mixed above.
import type { Params } from '../../core/params.ts';
import type { LossSettings } from './batch-loss.ts';

/**
 * Largest catalogue `auto` scores in full every step. The logits are streamed in chunks (no [M, items]
 * matrix), so the bound is compute: M × items × D × ~6 flops (forward, backward, recomputation), ~60 GFLOP a
 * step at M = 3200 positives, D = 64 and 50k items; plus the target tower over every item.
 */
export const ALL_ITEMS_MAX = 50_000;

export function resolveNegatives(choice: Params['loss_negatives'], items: number): LossSettings['loss_negatives'] {
  switch (choice) {
    case 'auto':
      return items <= ALL_ITEMS_MAX ? 'all_items' : 'mixed';
    case 'all_items':
    case 'mixed':
      return choice;
    default: {
      const never: never = choice;
      throw new Error(`unknown loss_negatives ${String(never)}`);
    }
  }
}
