// ModelConfig: every knob of the model in one place (SPEC §5): the fields every encoder shares
// and, under `encoder`, the chosen encoder's own (HSTU or SASRec), built from params.yaml values
// plus the feature schema the features stage discovered. Factories take plain numbers so tests
// can build tiny models; nothing here reads files.
import { UserError } from '../stage/errors.ts';
import { type Params, parseParam } from '../stage/params.ts';

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

export type AttnNorm = Params['attn_norm']; // 'padded' | 'real'
export type ModelType = Params['model_type']; // 'hstu' | 'sasrec'

/** The HSTU encoder's own knobs (encoders/hstu). */
export interface HstuEncoderConfig {
  type: 'hstu';
  linearDim: number; // per-head U/V width (dv)
  attentionDim: number; // per-head Q/K width (dqk)
  useRope: boolean;
  ropeTheta: number;
  ropePartialDim: number; // RoPE on the first this-many dims of each head's Q/K (0 = all)
  attnNorm: AttnNorm; // divide attention by the padded length or the visible real length
  timeBuckets: number; // rab_time buckets: floor(ln|Δt| / 0.301), clamped (HSTU reference: 128)
}

/** The SASRec encoder's own knobs (encoders/sasrec): per-head width is hiddenUnits / numHeads. */
export interface SasrecEncoderConfig {
  type: 'sasrec';
  sideFeatures: boolean; // false: item ids only (the anchor); true: the same feature towers as HSTU
}

export type EncoderConfig = HstuEncoderConfig | SasrecEncoderConfig;

/** he: N(0, 2/fan_in), truncated; trunc_normal: std 0.02, the seed's init for every linear (SPEC §5). */
export type TowerInit = Params['tower_init'];

/** What every encoder shares: the item vocabulary, the towers' schema, width, depth and dropout. */
export interface ModelConfig {
  itemVocab: number; // item index table size (max item index + 1; 0 = pad)
  maxlen: number; // history items; tokens per sequence N = maxlen + 1
  hiddenUnits: number; // D
  numBlocks: number;
  numHeads: number; // H
  dropoutRate: number;
  loadTimeIntervals: boolean; // time features in the history tower (and HSTU's rab_time bias)
  fieldDim: number; // width of every feature field before SE (seed: multimodal → 32)
  towerInit: TowerInit; // init of the towers' DNN layers (only read when a model is created)
  numActions: number; // 0 exposure, 1 click, 2 conversion
  features: FeatureSchema;
  encoder: EncoderConfig;
}

/** A ModelConfig whose encoder is HSTU / SASRec: what each encoder's own files take. */
export type HstuModelConfig = ModelConfig & { encoder: HstuEncoderConfig };
export type SasrecModelConfig = ModelConfig & { encoder: SasrecEncoderConfig };

/** Params as they appear in params.yaml (snake_case, the seed's names). */
export type ModelParamValues = Pick<Params,
  | 'model_type' | 'sasrec_features' | 'maxlen' | 'hidden_units' | 'num_blocks' | 'num_heads' | 'linear_dim' | 'attention_dim'
  | 'dropout_rate' | 'use_rope' | 'rope_theta' | 'rope_partial_dim' | 'attn_norm' | 'load_time_intervals' | 'tower_init'>;

export const DEFAULT_FIELD_DIM = 32;
export const DEFAULT_TIME_BUCKETS = 128;
export const NUM_ACTIONS = 3;

function encoderConfig(p: ModelParamValues): EncoderConfig {
  switch (p.model_type) {
    case 'hstu':
      return {
        type: 'hstu', linearDim: p.linear_dim, attentionDim: p.attention_dim, useRope: p.use_rope, ropeTheta: p.rope_theta,
        ropePartialDim: p.rope_partial_dim, attnNorm: p.attn_norm, timeBuckets: DEFAULT_TIME_BUCKETS,
      };
    case 'sasrec':
      return { type: 'sasrec', sideFeatures: p.sasrec_features };
    default:
      throw unknownEncoder(p.model_type);
  }
}

function unknownEncoder(never: never): Error {
  return new Error(`unknown model_type ${JSON.stringify(never)}`);
}

/** ModelConfig from params.yaml values, the feature schema and the item vocabulary size. */
export function buildModelConfig(p: ModelParamValues, features: FeatureSchema, itemVocab: number): ModelConfig {
  return validateModelConfig({
    itemVocab,
    maxlen: p.maxlen,
    hiddenUnits: p.hidden_units,
    numBlocks: p.num_blocks,
    numHeads: p.num_heads,
    dropoutRate: p.dropout_rate,
    loadTimeIntervals: p.load_time_intervals,
    fieldDim: DEFAULT_FIELD_DIM,
    towerInit: p.tower_init,
    numActions: NUM_ACTIONS,
    features,
    encoder: encoderConfig(p),
  });
}

/** True when the model reads the side-feature towers (HSTU always; SASRec when sasrec_features). */
export function usesSideFeatures(c: ModelConfig): boolean {
  return c.encoder.type === 'hstu' || c.encoder.sideFeatures;
}

/** The RoPE width actually used per head (0 in the config means all of attention_dim). */
export function ropeDim(h: HstuEncoderConfig): number {
  return h.ropePartialDim === 0 ? h.attentionDim : h.ropePartialDim;
}

function positiveInts(pairs: [string, number][]): void {
  for (const [name, v] of pairs) {
    if (!Number.isInteger(v) || v < 1) throw new UserError(`model config: ${name} must be a positive integer, got ${v}`);
  }
}

function validateHstu(h: HstuEncoderConfig): void {
  positiveInts([['linear_dim', h.linearDim], ['attention_dim', h.attentionDim], ['time_buckets', h.timeBuckets]]);
  if (!(h.ropeTheta > 0)) throw new UserError(`model config: rope_theta must be positive, got ${h.ropeTheta}`);
  if (h.useRope) {
    const r = ropeDim(h);
    if (!Number.isInteger(r) || r < 0 || r > h.attentionDim || r % 2 !== 0) {
      throw new UserError(`model config: rope_partial_dim must be an even number ≤ attention_dim (${h.attentionDim}), got ${h.ropePartialDim}`);
    }
  }
}

function validateSasrec(c: ModelConfig): void {
  if (c.hiddenUnits % c.numHeads !== 0) {
    throw new UserError(`model config: sasrec needs hidden_units (${c.hiddenUnits}) divisible by num_heads (${c.numHeads}): each head is hidden_units / num_heads wide`);
  }
}

/**
 * Checks what the types do not say — positive sizes, the dropout range, the RoPE width, SASRec's head
 * split, feature vocabularies — and returns the config; throws UserError naming the offending knob. Its
 * choices (model_type, attn_norm, ...) are typed already: by loadParams, or by parseModelConfig.
 */
export function validateModelConfig(c: ModelConfig): ModelConfig {
  positiveInts([
    ['item_vocab', c.itemVocab], ['maxlen', c.maxlen], ['hidden_units', c.hiddenUnits], ['num_blocks', c.numBlocks],
    ['num_heads', c.numHeads], ['field_dim', c.fieldDim], ['num_actions', c.numActions], ['array_len', c.features.arrayLen],
  ]);
  if (!(c.dropoutRate >= 0 && c.dropoutRate < 1)) throw new UserError(`model config: dropout_rate must be in [0, 1), got ${c.dropoutRate}`);
  const e = c.encoder;
  switch (e.type) {
    case 'hstu':
      validateHstu(e);
      break;
    case 'sasrec':
      validateSasrec(c);
      break;
    default:
      throw unknownEncoder(e);
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

/**
 * A saved config.json (parsed JSON; `source` names it in errors) as a ModelConfig: its choices parsed
 * as params.yaml's loader parses them (the same allowed values, one check each), then validated.
 */
export function parseModelConfig(raw: unknown, source: string): ModelConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${source}: expected an object`);
  const c = raw as ModelConfig;
  const e: Partial<EncoderConfig> = c.encoder ?? {}; // no encoder in a config.json from before model_type
  const type = parseParam('model_type', e.type, source);
  switch (type) {
    case 'hstu':
      parseParam('attn_norm', (e as Partial<HstuEncoderConfig>).attnNorm, source);
      break;
    case 'sasrec':
      parseParam('sasrec_features', (e as Partial<SasrecEncoderConfig>).sideFeatures, source);
      break;
    default:
      throw unknownEncoder(type);
  }
  return validateModelConfig(c);
}
