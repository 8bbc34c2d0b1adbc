// Cuts → SequenceBatch: left padding, user token types, item features, 204/205 from the cut's own
// events, FiLM actions and next-item positives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GAP_CODE_NONE, gapBucketCode } from '../../../core/time/cut-time-features.ts';
import { TOKEN_ITEM, TOKEN_PAD, TOKEN_USER, TOKEN_USER_DEFAULT, checkSequenceBatch, checkTargetItems } from '../../../core/model/inputs.ts';
import { validateModelConfig } from '../../../core/model/config.ts';
import { INFER_FILM_ACTION, buildCutBatch } from '../../../core/sequences/cut-batch.ts';
import { cutSequences } from '../../../core/sequences/cut.ts';
import { TINY_SCHEMA, tinyShard, tinyStore } from './tiny-shard.ts';

const MAXLEN = 6;
const N = MAXLEN + 1;
const F204 = 1; // column of 204 in TINY_SCHEMA.timeDiscrete
const Ft = 3;

const config = validateModelConfig({
  itemVocab: 6, maxlen: MAXLEN, hiddenUnits: 4, numBlocks: 1, numHeads: 1, dropoutRate: 0, loadTimeIntervals: true, fieldDim: 2, towerInit: 'trunc_normal',
  numActions: 3, features: TINY_SCHEMA, encoder: { type: 'sasrec', sideFeatures: true },
});

test('test batch: left-padded to the longest window + 1 (here maxlen + 1), user token first, items in order, valid for the model', () => {
  const shard = tinyShard();
  const { batch, targetItem } = buildCutBatch(cutSequences('test', shard, MAXLEN), shard, tinyStore(), MAXLEN, 'infer');
  checkSequenceBatch(config, batch);
  assert.equal(batch.seqLen, N);
  // user 0: 7 history events but maxlen 6 → the last 6 (events 1..6)
  assert.deepEqual([...batch.tokenType.subarray(0, N)], [TOKEN_USER, TOKEN_ITEM, TOKEN_ITEM, TOKEN_ITEM, TOKEN_ITEM, TOKEN_ITEM, TOKEN_ITEM]);
  assert.deepEqual([...batch.itemIdx.subarray(0, N)], [0, ...shard.item.subarray(1, 7)]);
  // user 2: one history event → five pads, the user token, one item
  assert.deepEqual([...batch.tokenType.subarray(N, 2 * N)], [TOKEN_PAD, TOKEN_PAD, TOKEN_PAD, TOKEN_PAD, TOKEN_PAD, TOKEN_USER, TOKEN_ITEM]);
  assert.deepEqual([...targetItem], [shard.item[7], shard.item[15]]);
  assert.deepEqual([...batch.filmAction.subarray(N + 5, 2 * N)], [INFER_FILM_ACTION, INFER_FILM_ACTION]);
  assert.equal(batch.filmAction[N], 0, 'padding has no FiLM action');
  // item features come from the store: 100 = item % 5, mm = [item, −item]
  assert.equal(batch.itemSparse[N - 1], shard.item[6]! % 5);
  assert.deepEqual([...batch.itemMultimodal[0]!.subarray(2 * (N - 1), 2 * N)], [shard.item[6], -shard.item[6]!]);
});

test('user token: type 3 with the default features for a user without a profile', () => {
  const shard = tinyShard();
  const { batch } = buildCutBatch(cutSequences('train', shard, MAXLEN), shard, tinyStore(), MAXLEN, 'train');
  const N = batch.seqLen;
  const types = [0, 1].map((b) => batch.tokenType.subarray(b * N, (b + 1) * N).find((t) => t === TOKEN_USER || t === TOKEN_USER_DEFAULT));
  assert.deepEqual(types, [TOKEN_USER, TOKEN_USER_DEFAULT]);
  assert.deepEqual([...batch.userSparse], [shard.userSparse[0], shard.userSparse[1]]);
  assert.deepEqual([...batch.userArray], [1, 2, 0, 0]);
});

test('204/205 per cut: the last history event gets "no next event" and recency 0; others the gap to the next kept event', () => {
  const shard = tinyShard();
  const cuts = cutSequences('valid', shard, MAXLEN); // user 0: history = events 0..3, target = event 4
  const { batch } = buildCutBatch(cuts, shard, tinyStore(), MAXLEN, 'infer');
  const N = batch.seqLen;
  assert.equal(N, 5, "as long as the batch's longest window: user 0's four history events + the user token");
  const last = N - 1; // event 3
  assert.equal(batch.timeDiscrete[last * Ft + F204], GAP_CODE_NONE);
  assert.equal(batch.timeContinuous[last], 0);
  assert.equal(batch.timeDiscrete[(last - 1) * Ft + F204], gapBucketCode(shard.ts[3]! - shard.ts[2]!));
  assert.ok(batch.timeContinuous[last - 1]! > 0);
  assert.equal(batch.timeDiscrete[last * Ft], shard.time[3 * Ft], 'stored 201 is copied');
  // the target's time never reaches the features: the same history cut for test differs only by its own events
  assert.ok([...batch.timestamp.subarray(0, N)].every((t) => t < shard.ts[4]!));
});

test('training batch: positives are the next item at every position, FiLM takes their action', () => {
  const shard = tinyShard();
  const cuts = cutSequences('train', shard, MAXLEN);
  const { batch, positives } = buildCutBatch(cuts, shard, tinyStore(), MAXLEN, 'train');
  const N = batch.seqLen;
  assert.equal(N, 5, "user 1's four history events + the user token, not maxlen + 1: left padding is trimmed");
  // user 0: tokens [pad, user, e0, e1, e2]; positives e0, e1, e2, e3
  const row = (a: ArrayLike<number>, b: number): number[] => Array.from({ length: N }, (_, i) => a[b * N + i]!);
  assert.deepEqual(row(positives.isPositive, 0), [0, 1, 1, 1, 1]);
  assert.deepEqual(row(positives.item, 0), [0, ...shard.item.subarray(0, 4)]);
  assert.deepEqual(row(batch.filmAction, 0), [0, ...shard.action.subarray(0, 4)]);
  assert.deepEqual(row(positives.action, 0), [0, ...shard.action.subarray(0, 4)]);
  for (let i = 0; i < N; i++) if (positives.isPositive[i]) assert.notEqual(positives.item[i], shard.item[4], 'the validation item is never a training positive');
});

test('target items: rows of the store for any index list', () => {
  const store = tinyStore();
  const t = store.targetItems([5, 1, 5]);
  checkTargetItems(config, t);
  assert.deepEqual([...t.itemSparse], [0, 1, 0]);
  assert.deepEqual([...t.dynamicDiscrete], [1, 0, 1]);
  assert.deepEqual([...t.itemMultimodal[0]!], [5, -5, 1, -1, 5, -5]);
  assert.equal(store.allItems().count, 6);
  assert.throws(() => store.targetItems([6]), /outside/);
});
