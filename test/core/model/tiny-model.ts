// Shared by the model tests: tiny configs for each encoder (random batches come from
// test/helpers/random-batch.ts).
import type { FeatureSchema, HstuEncoderConfig, HstuModelConfig, ModelConfig, SasrecModelConfig } from '../../../core/model/config.ts';
import { validateModelConfig } from '../../../core/model/config.ts';
export { randomBatch, randomTargets } from '../../helpers/random-batch.ts';

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

type Shared = Omit<ModelConfig, 'encoder'>;
const TINY_SHARED: Shared = {
  itemVocab: 20, maxlen: 7, hiddenUnits: 8, numBlocks: 2, numHeads: 2, dropoutRate: 0, loadTimeIntervals: true,
  fieldDim: 4, towerInit: 'trunc_normal', numActions: 3, features: TINY_FEATURES,
};
const TINY_HSTU: HstuEncoderConfig = {
  type: 'hstu', linearDim: 4, attentionDim: 4, useRope: true, ropeTheta: 10000, ropePartialDim: 2, attnNorm: 'padded', timeBuckets: 16,
};

/** A tiny HSTU model config; `over` may set shared and HSTU fields alike (flat). */
export function tinyConfig(over: Partial<Shared & Omit<HstuEncoderConfig, 'type'>> = {}): HstuModelConfig {
  const encoder = { ...TINY_HSTU };
  const shared: Record<string, unknown> = { ...TINY_SHARED };
  for (const [k, v] of Object.entries(over)) (k in TINY_HSTU ? (encoder as Record<string, unknown>) : shared)[k] = v;
  return validateModelConfig({ ...(shared as Shared), encoder }) as HstuModelConfig;
}

/** A tiny SASRec model config: ids only unless sideFeatures. */
export function tinySasrecConfig(over: Partial<Shared> = {}, sideFeatures = false): SasrecModelConfig {
  return validateModelConfig({ ...TINY_SHARED, ...over, encoder: { type: 'sasrec', sideFeatures } }) as SasrecModelConfig;
}
