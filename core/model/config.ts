// ModelConfig: every knob of the HSTU model in one place (SPEC §5), built from params.yaml values
// plus the feature schema the features stage discovered. Factories take plain numbers so tests
// can build tiny models; nothing here reads files.
import { UserError } from '../errors.ts';

/** One categorical feature: its column id (e.g. '100', '201', 'dyn_ctr_tier') and vocabulary size (max index + 1). */
export interface CategoricalFeature {
  fid: string;
  vocab: number;
}

/** One multimodal embedding id and the dimension of its vectors. */
export interface MultimodalFeature {
  fid: string;
  dim: number;
}

/**
 * The feature fields of each branch, in the order the batch tensors carry them. Discovered from the
 * data (features stage), never hard-coded.
 */
export interface FeatureSchema {
  userSparse: CategoricalFeature[];
  userArray: CategoricalFeature[];
  userContinuous: string[];
  itemSparse: CategoricalFeature[];
  itemArray: CategoricalFeature[];
  itemContinuous: string[];
  itemMultimodal: MultimodalFeature[];
  timeDiscrete: CategoricalFeature[]; // 201..212 without 205 (204 included: computed at cut time)
  timeContinuous: string[]; // 205
  dynamicDiscrete: CategoricalFeature[]; // tiers and flags of the 10 item dynamic features
  dynamicContinuous: string[]; // log counts, smoothed CTR, ...
  arrayLen: number; // L: array features are padded/truncated to this many values (0 = pad)
}

export type AttnNorm = 'padded' | 'real';

export interface ModelConfig {
  itemVocab: number; // item index table size (max item index + 1; 0 = pad)
  maxlen: number; // history items; tokens per sequence N = maxlen + 1
  hiddenUnits: number; // D
  numBlocks: number;
  numHeads: number; // H
  linearDim: number; // per-head U/V width (dv)
  attentionDim: number; // per-head Q/K width (dqk)
  dropoutRate: number;
  useRope: boolean;
  ropeTheta: number;
  ropePartialDim: number; // RoPE on the first this-many dims of each head's Q/K (0 = all)
  attnNorm: AttnNorm; // divide attention by the padded length or the visible real length
  loadTimeIntervals: boolean; // time features in the history branch and the rab_time bias
  fieldDim: number; // width of every feature field before SE (seed: multimodal → 32)
  timeBuckets: number; // rab_time buckets: floor(ln|Δt| / 0.301), clamped (HSTU reference: 128)
  numActions: number; // 0 exposure, 1 click, 2 conversion
  features: FeatureSchema;
}

/** Params as they appear in params.yaml (snake_case, the seed's names). */
export interface ModelParamValues {
  maxlen: number;
  hidden_units: number;
  num_blocks: number;
  num_heads: number;
  linear_dim: number;
  attention_dim: number;
  dropout_rate: number;
  use_rope: boolean;
  rope_theta: number;
  rope_partial_dim: number;
  attn_norm: string; // 'padded' | 'real' (checked here: the params loader types enums as string)
  load_time_intervals: boolean;
}

export const DEFAULT_FIELD_DIM = 32;
export const DEFAULT_TIME_BUCKETS = 128;
export const NUM_ACTIONS = 3;

/** ModelConfig from params.yaml values, the feature schema and the item vocabulary size. */
export function buildModelConfig(p: ModelParamValues, features: FeatureSchema, itemVocab: number): ModelConfig {
  return validateModelConfig({
    itemVocab,
    maxlen: p.maxlen,
    hiddenUnits: p.hidden_units,
    numBlocks: p.num_blocks,
    numHeads: p.num_heads,
    linearDim: p.linear_dim,
    attentionDim: p.attention_dim,
    dropoutRate: p.dropout_rate,
    useRope: p.use_rope,
    ropeTheta: p.rope_theta,
    ropePartialDim: p.rope_partial_dim,
    attnNorm: parseAttnNorm(p.attn_norm),
    loadTimeIntervals: p.load_time_intervals,
    fieldDim: DEFAULT_FIELD_DIM,
    timeBuckets: DEFAULT_TIME_BUCKETS,
    numActions: NUM_ACTIONS,
    features,
  });
}

function parseAttnNorm(v: string): AttnNorm {
  if (v === 'padded' || v === 'real') return v;
  throw new UserError(`model config: attn_norm must be 'padded' or 'real', got '${v}'`);
}

/** The RoPE width actually used per head (0 in the config means all of attention_dim). */
export function ropeDim(c: ModelConfig): number {
  return c.ropePartialDim === 0 ? c.attentionDim : c.ropePartialDim;
}

/** Checks the config and returns it; throws UserError naming the offending knob. */
export function validateModelConfig(c: ModelConfig): ModelConfig {
  const positiveInts: [string, number][] = [
    ['item_vocab', c.itemVocab], ['maxlen', c.maxlen], ['hidden_units', c.hiddenUnits],
    ['num_blocks', c.numBlocks], ['num_heads', c.numHeads], ['linear_dim', c.linearDim],
    ['attention_dim', c.attentionDim], ['field_dim', c.fieldDim], ['time_buckets', c.timeBuckets],
    ['num_actions', c.numActions], ['array_len', c.features.arrayLen],
  ];
  for (const [name, v] of positiveInts) {
    if (!Number.isInteger(v) || v < 1) throw new UserError(`model config: ${name} must be a positive integer, got ${v}`);
  }
  if (!(c.dropoutRate >= 0 && c.dropoutRate < 1)) throw new UserError(`model config: dropout_rate must be in [0, 1), got ${c.dropoutRate}`);
  parseAttnNorm(c.attnNorm);
  if (!(c.ropeTheta > 0)) throw new UserError(`model config: rope_theta must be positive, got ${c.ropeTheta}`);
  if (c.useRope) {
    const r = ropeDim(c);
    if (!Number.isInteger(r) || r < 0 || r > c.attentionDim || r % 2 !== 0) {
      throw new UserError(`model config: rope_partial_dim must be an even number ≤ attention_dim (${c.attentionDim}), got ${c.ropePartialDim}`);
    }
  }
  const f = c.features;
  const categorical = [...f.userSparse, ...f.userArray, ...f.itemSparse, ...f.itemArray, ...f.timeDiscrete, ...f.dynamicDiscrete];
  for (const { fid, vocab } of categorical) {
    if (!Number.isInteger(vocab) || vocab < 1) throw new UserError(`model config: feature ${fid} needs a positive integer vocab, got ${vocab}`);
  }
  for (const { fid, dim } of f.itemMultimodal) {
    if (!Number.isInteger(dim) || dim < 1) throw new UserError(`model config: multimodal ${fid} needs a positive dim, got ${dim}`);
  }
  return c;
}
