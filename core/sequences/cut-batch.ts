// Cuts → the model's SequenceBatch (core/model/inputs.ts), the same for every split:
//   [pad … pad, user, history₁ … historyₕ]   N = the batch's longest h + 1 ≤ maxlen + 1 tokens, left-padded
// The user token is type 2, or 3 with the default features when the user has no profile. Item tokens
// carry the item's features (ItemStore), the action, the stored time features and 204/205 computed
// from the cut's own kept events (core/time/cut-time-features.ts). FiLM conditions each state on the
// action it is asked to predict: the next item's action in training, a click (1) at inference.
import { fillCutTimeFeatures } from '../time/cut-time-features.ts';
import type { SequenceBatch } from '../model/inputs.ts';
import { TOKEN_ITEM, TOKEN_USER, TOKEN_USER_DEFAULT } from '../model/inputs.ts';
import type { FeatureSchema } from '../model/config.ts';
import type { Cuts } from './cut.ts';
import type { SeenItems } from './seen-items.ts';
import { TIME_NEXT_GAP_FID } from './feature-schema.ts';
import type { ItemStore } from './item-store.ts';
import type { UserShard } from './user-shards.ts';

/** 'train': FiLM by the next item's action, positives at every position; 'infer': FiLM by a click. */
export type BatchMode = 'train' | 'infer';

/** The action FiLM conditions on at inference: "which item will the user click next". */
export const INFER_FILM_ACTION = 1;

/** The next-item positives of a training batch, per position. */
export interface BatchPositives {
  item: Int32Array; // [B, N] item idx of the next item (0 = no positive here)
  action: Int32Array; // [B, N] its action
  isPositive: Uint8Array; // [B, N] 1 where a known next item exists
  /** train_exclude_history: per positive (flattened [B, N] order), the items the user saw before it (seen-items.ts) */
  seen?: SeenItems;
}

export interface CutBatch {
  batch: SequenceBatch;
  positives: BatchPositives; // all zeros in 'infer' mode
  targetItem: Int32Array; // [B] item idx of each cut's target event
}

/** Builds the batch of all `cuts` (use selectCuts for a slice). */
export function buildCutBatch(cuts: Cuts, shard: UserShard, store: ItemStore, maxlen: number, mode: BatchMode): CutBatch {
  const s: FeatureSchema = store.schema;
  const B = cuts.count;
  // Tokens per row: the batch's longest window + the user token, not maxlen + 1. Every encoder is invariant
  // to extra left padding (batch.ts), so trimming it changes nothing but the work: short-history logs
  // (5–15 events under maxlen 50) run on a third of the tokens.
  let longest = 0;
  for (let b = 0; b < B; b++) longest = Math.max(longest, cuts.historyEnd[b]! - cuts.windowStart[b]!);
  const N = Math.min(longest, maxlen) + 1;
  const BN = B * N;
  const L = s.arrayLen;
  const [Fs, Fa, Fc, Ft, Us, Ua, Uc] = [s.itemSparse.length, s.itemArray.length * L, s.itemContinuous.length, s.timeDiscrete.length, s.userSparse.length, s.userArray.length * L, s.userContinuous.length];
  const f204 = s.timeDiscrete.findIndex((f) => f.fid === TIME_NEXT_GAP_FID);
  const batch: SequenceBatch = {
    batchSize: B,
    seqLen: N,
    tokenType: new Int32Array(BN),
    itemIdx: new Int32Array(BN),
    action: new Int32Array(BN),
    filmAction: new Int32Array(BN),
    timestamp: new Float64Array(BN),
    itemSparse: new Int32Array(BN * Fs),
    itemArray: new Int32Array(BN * Fa),
    itemContinuous: new Float32Array(BN * Fc),
    itemMultimodal: s.itemMultimodal.map((m) => new Float32Array(BN * m.dim)),
    timeDiscrete: new Int32Array(BN * Ft),
    timeContinuous: new Float32Array(BN * s.timeContinuous.length),
    userSparse: new Int32Array(B * Us),
    userArray: new Int32Array(B * Ua),
    userContinuous: new Float32Array(B * Uc),
  };
  const positives: BatchPositives = { item: new Int32Array(BN), action: new Int32Array(BN), isPositive: new Uint8Array(BN) };
  const targetItem = new Int32Array(B);
  const next204 = new Int32Array(N);
  const recency205 = new Float32Array(N);

  for (let b = 0; b < B; b++) {
    const row = cuts.userRow[b]!;
    const from = cuts.windowStart[b]!;
    const to = cuts.historyEnd[b]!;
    const h = to - from;
    if (h > maxlen) throw new Error(`cut ${b} keeps ${h} history events, more than maxlen ${maxlen}`);
    targetItem[b] = shard.item[cuts.target[b]!]!;
    const userPos = b * N + (N - 1 - h); // the user token; item j sits at userPos + 1 + j

    batch.tokenType[userPos] = shard.hasProfile[row] === 1 ? TOKEN_USER : TOKEN_USER_DEFAULT;
    // The user token takes the time of the first kept event (none: 0), so rab_time treats it as the start.
    batch.timestamp[userPos] = h > 0 ? shard.ts[from]! : 0;
    batch.userSparse.set(shard.userSparse.subarray(row * Us, (row + 1) * Us), b * Us);
    batch.userArray.set(shard.userArray.subarray(row * Ua, (row + 1) * Ua), b * Ua);
    batch.userContinuous.set(shard.userContinuous.subarray(row * Uc, (row + 1) * Uc), b * Uc);

    fillCutTimeFeatures(shard.ts, from, to, next204, recency205);
    for (let j = 0; j < h; j++) {
      const e = from + j;
      const t = userPos + 1 + j;
      const item = shard.item[e]!;
      batch.tokenType[t] = TOKEN_ITEM;
      batch.itemIdx[t] = item;
      batch.action[t] = shard.action[e]!;
      batch.timestamp[t] = shard.ts[e]!;
      batch.itemSparse.set(store.itemSparse.subarray(item * Fs, (item + 1) * Fs), t * Fs);
      batch.itemArray.set(store.itemArray.subarray(item * Fa, (item + 1) * Fa), t * Fa);
      batch.itemContinuous.set(store.itemContinuous.subarray(item * Fc, (item + 1) * Fc), t * Fc);
      s.itemMultimodal.forEach(({ dim }, k) => batch.itemMultimodal[k]!.set(store.itemMultimodal[k]!.subarray(item * dim, (item + 1) * dim), t * dim));
      batch.timeDiscrete.set(shard.time.subarray(e * Ft, (e + 1) * Ft), t * Ft);
      if (f204 >= 0) batch.timeDiscrete[t * Ft + f204] = next204[j]!;
      if (s.timeContinuous.length > 0) batch.timeContinuous[t * s.timeContinuous.length] = recency205[j]!;
    }

    for (let j = 0; j <= h; j++) {
      const t = userPos + j; // position j of the real tokens (0 = user token)
      if (mode === 'infer') {
        batch.filmAction[t] = INFER_FILM_ACTION;
        continue;
      }
      const nextEvent = from + j; // the user token predicts the first kept event, item j − 1 the event after it
      const nextItem = shard.item[nextEvent]!;
      batch.filmAction[t] = shard.action[nextEvent]!;
      if (nextItem > 0) {
        positives.item[t] = nextItem;
        positives.action[t] = shard.action[nextEvent]!;
        positives.isPositive[t] = 1;
      }
    }
  }
  return { batch, positives, targetItem };
}
