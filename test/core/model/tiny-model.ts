// Shared by the model tests: a tiny config (random batches come from core/model/random-batch.ts).
import type { FeatureSchema, ModelConfig } from '../../../core/model/config.ts';
import { validateModelConfig } from '../../../core/model/config.ts';
export { randomBatch, randomTargets } from '../../../core/model/random-batch.ts';

export const TINY_FEATURES: FeatureSchema = {
  userSparse: [{ fid: '103', vocab: 5 }],
  userArray: [{ fid: '106', vocab: 6 }],
  userContinuous: ['u_c'],
  itemSparse: [{ fid: '100', vocab: 7 }, { fid: '101', vocab: 4 }],
  itemArray: [{ fid: 'i_arr', vocab: 5 }],
  itemContinuous: ['i_c'],
  itemMultimodal: [{ fid: '81', dim: 6 }],
  timeDiscrete: [{ fid: '201', vocab: 8 }, { fid: '202', vocab: 25 }, { fid: '204', vocab: 40 }],
  timeContinuous: ['205'],
  dynamicDiscrete: [{ fid: 'dyn_tier', vocab: 11 }],
  dynamicContinuous: ['dyn_ctr', 'dyn_log_expo'],
  arrayLen: 3,
};

export function tinyConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  return validateModelConfig({
    itemVocab: 20, maxlen: 7, hiddenUnits: 8, numBlocks: 2, numHeads: 2, linearDim: 4, attentionDim: 4,
    dropoutRate: 0, useRope: true, ropeTheta: 10000, ropePartialDim: 2, attnNorm: 'padded', loadTimeIntervals: true,
    fieldDim: 4, timeBuckets: 16, numActions: 3, features: TINY_FEATURES, ...over,
  });
}
