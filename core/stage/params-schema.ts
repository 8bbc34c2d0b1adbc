// Every knob of the pipeline: its type and the stages that read it. params.yaml holds the values
// (with a one-line comment each); this table is what the loader validates them against.
// Seed hyper-parameters keep the seed's names (SPEC §8) so `dvc exp run -S margin_click=0.05` works.

export type ParamType =
  | { kind: 'int'; min?: number; max?: number }
  | { kind: 'number'; min?: number; max?: number }
  | { kind: 'bool' }
  | { kind: 'string' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'int[]' }
  | { kind: 'number[]' }
  | { kind: 'string[]' };

// Each helper keeps its literal kind (not widened to ParamType) so Params gets one type per key.
const int = (min?: number, max?: number) => ({ kind: 'int', min, max }) as const;
const num = (min?: number, max?: number) => ({ kind: 'number', min, max }) as const;
const bool = { kind: 'bool' } as const;
const str = { kind: 'string' } as const;
const oneOf = <const V extends readonly string[]>(...values: V) => ({ kind: 'enum', values }) as const;

export const PARAM_TYPES = {
  // shared
  seed: int(0),
  raw_dir: str,
  mm_emb_id: { kind: 'string[]' },
  // synth
  synth_users: int(1),
  synth_items: int(10),
  synth_topics: int(1),
  synth_days: int(1),
  synth_min_len: int(1),
  synth_max_len: int(1),
  synth_predict_users: int(0),
  synth_mm_large_dim: int(1),
  synth_len_power: num(0.01, 100),
  synth_user_profiles: bool,
  synth_all_clicks: bool,
  synth_oracle: bool,
  // ingest
  on_bad_line: oneOf('error', 'skip'),
  shard_users: int(1),
  target_min_action: int(0, 2),
  io_concurrency: int(1, 64),
  // negatives
  neg_bucket_bounds: { kind: 'int[]' },
  neg_bucket_weights: { kind: 'number[]' },
  // model (SPEC §5)
  model_type: oneOf('hstu', 'sasrec'),
  sasrec_features: bool,
  maxlen: int(1),
  hidden_units: int(1),
  num_blocks: int(1),
  num_heads: int(1),
  linear_dim: int(1),
  attention_dim: int(1),
  dropout_rate: num(0, 0.99),
  use_rope: bool,
  rope_theta: num(1),
  rope_partial_dim: int(0),
  attn_norm: oneOf('padded', 'real'),
  load_time_intervals: bool,
  tower_init: oneOf('he', 'trunc_normal'),
  train_windows: oneOf('last', 'all'),
  // training (SPEC §6)
  backend: oneOf('auto', 'tensorflow', 'wasm', 'cpu'),
  batch_size: int(1),
  grad_accum_steps: int(1),
  lr: num(0),
  weight_decay: num(0),
  warmup_ratio: num(0, 1),
  clip_norm: num(0),
  l2_emb: num(0),
  num_epochs: int(1),
  temperature: num(1e-6),
  num_negatives: int(0),
  loss_negatives: oneOf('auto', 'mixed', 'all_items', 'sampled'),
  train_exclude_history: bool,
  embedding_updates: oneOf('auto', 'dense', 'sparse'),
  neg_cache_steps: int(0),
  neg_cache_on_cpu: bool,
  margin_click: num(),
  margin_conv: num(),
  pos_weight_a: num(0, 1),
  grad_checkpoint: bool,
  ckpt_every: int(1),
  bf16_autocast: bool,
  adamw_8bit: bool,
  ckpt_every_steps: int(1),
  eval_every_steps: int(0),
  early_stop_patience: int(0),
  resume: bool,
  state_dict_path: str,
  // evaluation (SPEC §7)
  exclude_history: bool,
  eval_item_chunk: int(1),
} as const satisfies Record<string, ParamType>;

export type ParamKey = keyof typeof PARAM_TYPES;

type ValueOf<T extends ParamType> = T extends { kind: 'int' | 'number' }
  ? number
  : T extends { kind: 'bool' }
    ? boolean
    : T extends { kind: 'enum'; values: readonly (infer V)[] }
      ? V // the enum's own union ('padded' | 'real'), so no caller casts from string
      : T extends { kind: 'string' }
        ? string
        : T extends { kind: 'string[]' }
          ? string[]
          : number[];

export type Params = { [K in ParamKey]: ValueOf<(typeof PARAM_TYPES)[K]> };
