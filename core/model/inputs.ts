// The model's inputs as flat typed arrays (row-major), built from Arrow data by the training and
// evaluation stages. The model turns them into tensors itself, so callers never manage tensor memory.
// Shape letters: B sequences, N = maxlen + 1 tokens, M target items, L array length; feature counts
// (Fs, Fa, Fc, ...) follow the order of the lists in FeatureSchema.
import type { ModelConfig } from './config.ts';
import { UserError } from '../stage/errors.ts';

export const TOKEN_PAD = 0;
export const TOKEN_ITEM = 1;
export const TOKEN_USER = 2;
export const TOKEN_USER_DEFAULT = 3; // user token carrying the default features (user had none)

/** B left-padded token sequences: [pad…, user token, item tokens…]. */
export interface SequenceBatch {
  batchSize: number; // B
  seqLen: number; // N (≤ maxlen + 1; the model is invariant to extra left padding)
  tokenType: Int32Array; // [B, N] TOKEN_*
  itemIdx: Int32Array; // [B, N] dense item index, 0 on pad and user tokens
  action: Int32Array; // [B, N] 0 exposure, 1 click, 2 conversion (0 on pad/user)
  filmAction: Int32Array; // [B, N] action the state at each position is conditioned on (FiLM): the next item's action in training, the wanted action (1) at inference
  timestamp: Float64Array; // [B, N] Unix seconds (float64: float32 would round to 128 s)
  itemSparse: Int32Array; // [B, N, Fs]
  itemArray: Int32Array; // [B, N, Fa, L] 0-padded
  itemContinuous: Float32Array; // [B, N, Fc]
  itemMultimodal: Float32Array[]; // per multimodal id: [B, N, dim]
  timeDiscrete: Int32Array; // [B, N, Ft] 201..212 without 205 (204 from the cut)
  timeContinuous: Float32Array; // [B, N, Ftc] 205
  userSparse: Int32Array; // [B, Us] features of the user token
  userArray: Int32Array; // [B, Ua, L]
  userContinuous: Float32Array; // [B, Uc]
}

/** M items to score (positives, negatives or the whole catalogue), encoded by the target branch. */
export interface TargetItems {
  count: number; // M
  itemIdx: Int32Array; // [M]
  itemSparse: Int32Array; // [M, Fs]
  itemArray: Int32Array; // [M, Fa, L]
  itemContinuous: Float32Array; // [M, Fc]
  itemMultimodal: Float32Array[]; // per multimodal id: [M, dim]
  dynamicDiscrete: Int32Array; // [M, Fdd]
  dynamicContinuous: Float32Array; // [M, Fdc]
}

function expectLength(what: string, arr: ArrayLike<number>, n: number): void {
  if (arr.length !== n) throw new UserError(`batch: ${what} has ${arr.length} values, expected ${n}`);
}

function expectIndices(what: string, arr: Int32Array, width: number, vocabs: number[]): void {
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i]!;
    const vocab = vocabs[i % width]!;
    if (v < 0 || v >= vocab) throw new UserError(`batch: ${what}[${i}] = ${v} is outside [0, ${vocab})`);
  }
}

/** The item-feature arrays both branches carry, for `rows` items (B·N tokens or M targets). */
type ItemFeatureArrays = Pick<SequenceBatch, 'itemSparse' | 'itemArray' | 'itemContinuous' | 'itemMultimodal'>;

function checkItemFeatures(what: string, c: ModelConfig, x: ItemFeatureArrays, rows: number): void {
  const f = c.features;
  const L = f.arrayLen;
  expectLength('itemSparse', x.itemSparse, rows * f.itemSparse.length);
  expectIndices('itemSparse', x.itemSparse, f.itemSparse.length || 1, f.itemSparse.map((v) => v.vocab));
  expectLength('itemArray', x.itemArray, rows * f.itemArray.length * L);
  expectIndices('itemArray', x.itemArray, (f.itemArray.length || 1) * L, f.itemArray.flatMap((v) => Array<number>(L).fill(v.vocab)));
  expectLength('itemContinuous', x.itemContinuous, rows * f.itemContinuous.length);
  if (x.itemMultimodal.length !== f.itemMultimodal.length) throw new UserError(`${what}: ${x.itemMultimodal.length} multimodal arrays, expected ${f.itemMultimodal.length}`);
  f.itemMultimodal.forEach((m, i) => expectLength(`itemMultimodal ${m.fid}`, x.itemMultimodal[i]!, rows * m.dim));
}

/** Checks every array's length and every index's range, so a bad batch fails with a clear message. */
export function checkSequenceBatch(c: ModelConfig, b: SequenceBatch): void {
  const f = c.features;
  const B = b.batchSize;
  const BN = B * b.seqLen;
  const L = f.arrayLen;
  if (b.seqLen > c.maxlen + 1) throw new UserError(`batch: seqLen ${b.seqLen} exceeds maxlen + 1 = ${c.maxlen + 1}`);
  expectLength('tokenType', b.tokenType, BN);
  expectLength('itemIdx', b.itemIdx, BN);
  expectLength('action', b.action, BN);
  expectLength('filmAction', b.filmAction, BN);
  expectLength('timestamp', b.timestamp, BN);
  expectIndices('tokenType', b.tokenType, 1, [4]);
  expectIndices('itemIdx', b.itemIdx, 1, [c.itemVocab]);
  expectIndices('action', b.action, 1, [c.numActions]);
  expectIndices('filmAction', b.filmAction, 1, [c.numActions]);
  checkItemFeatures('batch', c, b, BN);
  expectLength('timeDiscrete', b.timeDiscrete, BN * f.timeDiscrete.length);
  expectIndices('timeDiscrete', b.timeDiscrete, f.timeDiscrete.length || 1, f.timeDiscrete.map((x) => x.vocab));
  expectLength('timeContinuous', b.timeContinuous, BN * f.timeContinuous.length);
  expectLength('userSparse', b.userSparse, B * f.userSparse.length);
  expectIndices('userSparse', b.userSparse, f.userSparse.length || 1, f.userSparse.map((x) => x.vocab));
  expectLength('userArray', b.userArray, B * f.userArray.length * L);
  expectIndices('userArray', b.userArray, (f.userArray.length || 1) * L, f.userArray.flatMap((x) => Array<number>(L).fill(x.vocab)));
  expectLength('userContinuous', b.userContinuous, B * f.userContinuous.length);
}

/** Same checks for the target branch's inputs. */
export function checkTargetItems(c: ModelConfig, t: TargetItems): void {
  const f = c.features;
  const M = t.count;
  expectLength('itemIdx', t.itemIdx, M);
  expectIndices('itemIdx', t.itemIdx, 1, [c.itemVocab]);
  checkItemFeatures('targets', c, t, M);
  expectLength('dynamicDiscrete', t.dynamicDiscrete, M * f.dynamicDiscrete.length);
  expectIndices('dynamicDiscrete', t.dynamicDiscrete, f.dynamicDiscrete.length || 1, f.dynamicDiscrete.map((x) => x.vocab));
  expectLength('dynamicContinuous', t.dynamicContinuous, M * f.dynamicContinuous.length);
}
