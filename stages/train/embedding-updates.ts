// Which tables AdamW updates row-sparse (params: embedding_updates; core/train/row-adam-slots.ts). `dense`
// updates every row of every table each step (the seed's: PyTorch's AdamW over nn.Embedding). `sparse` updates
// only the rows a step looked up in each lookup table (the item table, the feature tables) — lazy AdamW, as TF's
// LazyAdam and PyTorch's SparseAdam — so a step's cost follows the batch, not the vocabulary (TencentGR-1M:
// 4.8M items). `auto` is sparse for the lookup tables larger than FLAT_MAX_SIZE values (smaller ones stay in
// AdamW's one flat dense update, where rows would cost more kernels than they save), and dense when
// loss_negatives resolves to all_items: a full softmax reads every item row each step.
import type { ModelWeights } from '../../core/model/model-weights.ts';
import type { Params } from '../../core/stage/params.ts';
import { FLAT_MAX_SIZE } from '../../core/train/adamw.ts';
import type { LossSettings } from './batch-loss.ts';

/** The tables updated row-sparse, in name order. */
export function rowSparseTables(w: ModelWeights, choice: Params['embedding_updates'], negatives: LossSettings['loss_negatives']): string[] {
  const tables = w.names().filter((n) => w.lookupTables.has(n));
  switch (choice) {
    case 'dense':
      return [];
    case 'sparse':
      return tables;
    case 'auto':
      return negatives === 'all_items' ? [] : tables.filter((n) => w.get(n).size > FLAT_MAX_SIZE);
    default: {
      const never: never = choice;
      throw new Error(`unknown embedding_updates ${String(never)}`);
    }
  }
}
