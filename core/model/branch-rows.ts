// Typed-array plumbing from the batch layouts (batch.ts) to each branch's rows (towers.ts): picks
// the columns of every field in the branch layout's order. Plain loops over typed arrays; no tensors.
import type { ModelConfig } from './config.ts';
import type { SequenceBatch, TargetItems } from './inputs.ts';
import { TOKEN_USER, TOKEN_USER_DEFAULT } from './inputs.ts';
import { type BranchRows, column, columnBlock, concatColumns } from './towers.ts';

/** One row per token (R = B·N): the history branch. */
export function historyRows(c: ModelConfig, b: SequenceBatch): BranchRows {
  const f = c.features;
  const R = b.batchSize * b.seqLen;
  const Fs = f.itemSparse.length;
  const Ft = f.timeDiscrete.length;
  const sparse = f.itemSparse.map((_, j) => column(b.itemSparse, R, Fs, j));
  if (c.loadTimeIntervals) sparse.push(...f.timeDiscrete.map((_, j) => column(b.timeDiscrete, R, Ft, j)));
  sparse.push(b.action);
  const continuousParts: [Float32Array, number][] = [[b.itemContinuous, f.itemContinuous.length]];
  if (c.loadTimeIntervals) continuousParts.push([b.timeContinuous, f.timeContinuous.length]);
  return {
    rows: R,
    itemIdx: b.itemIdx,
    sparse,
    array: f.itemArray.map((_, j) => columnBlock(b.itemArray, R, f.itemArray.length, f.arrayLen, j)),
    continuous: concatColumns(R, continuousParts),
    multimodal: b.itemMultimodal,
  };
}

/** Token type of each sequence's user token (0 when the sequence has none): [B]. */
export function userTokenTypes(b: SequenceBatch): Int32Array {
  const out = new Int32Array(b.batchSize);
  for (let i = 0; i < b.batchSize; i++) {
    for (let t = 0; t < b.seqLen; t++) {
      const type = b.tokenType[i * b.seqLen + t]!;
      if (type === TOKEN_USER || type === TOKEN_USER_DEFAULT) {
        out[i] = type;
        break;
      }
    }
  }
  return out;
}

/** One row per sequence (R = B): the user branch. */
export function userRows(c: ModelConfig, b: SequenceBatch): BranchRows {
  const f = c.features;
  const B = b.batchSize;
  return {
    rows: B,
    itemIdx: null,
    sparse: [userTokenTypes(b), ...f.userSparse.map((_, j) => column(b.userSparse, B, f.userSparse.length, j))],
    array: f.userArray.map((_, j) => columnBlock(b.userArray, B, f.userArray.length, f.arrayLen, j)),
    continuous: b.userContinuous,
    multimodal: [],
  };
}

/** One row per target item (R = M): the target branch. */
export function targetRows(c: ModelConfig, t: TargetItems): BranchRows {
  const f = c.features;
  const M = t.count;
  return {
    rows: M,
    itemIdx: t.itemIdx,
    sparse: [
      ...f.itemSparse.map((_, j) => column(t.itemSparse, M, f.itemSparse.length, j)),
      ...f.dynamicDiscrete.map((_, j) => column(t.dynamicDiscrete, M, f.dynamicDiscrete.length, j)),
    ],
    array: f.itemArray.map((_, j) => columnBlock(t.itemArray, M, f.itemArray.length, f.arrayLen, j)),
    continuous: concatColumns(M, [[t.itemContinuous, f.itemContinuous.length], [t.dynamicContinuous, f.dynamicContinuous.length]]),
    multimodal: t.itemMultimodal,
  };
}
