// The artifact contract between stages: folder layout, column names and the split roles.
// Columns carry the data's feature ids in their names (f100, f201, dyn_ctr, …) so a seed feature
// can be found by id in any artifact (SPEC §4).

/** Split role of each item event (leave-last-out, SASRec convention; SPEC §4 ingest). */
export const Role = {
  /** strictly before the validation target: the only events training and item statistics see */
  train: 0,
  /** the validation target */
  valid: 1,
  /** after the validation target and before the test target: test history only */
  between: 2,
  /** the test target */
  test: 3,
  /** after the test target: no split uses it */
  after: 4,
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/**
 * ingest output (one folder):
 *   manifest.json                 IngestManifest
 *   events/part-NNNNN.arrow       one row per item record, users contiguous, in input line order:
 *                                 user:int32 (user idx), position:int32 (0-based among the user's item records),
 *                                 item:int32 (item idx, 0 = unknown), action:int8, ts:uint32 (Unix s), role:int8 (Role)
 *   users/part-NNNNN.arrow        one row per user of the shard: user:int32, user_id:utf8 (raw id),
 *                                 line:int32 (0-based line in seq.jsonl), has_profile:int8,
 *                                 f<fid>:int32 per user sparse fid (0 = missing), f<fid>:list<int32> per user
 *                                 array fid ([] = missing); a fid is an array feature once any profile gives
 *                                 it an array (all shards share the final layout)
 *   items/part-00000.arrow        one row per item idx 0..itemCount (row 0 = padding): item:int32, item_id:float64
 *                                 (raw creative id; exact below 2^53), f<fid>:int32 per item sparse fid (0 = missing),
 *                                 f<fid>:fixed_size_list<float32>[dim] per mm_emb_id (zeros when absent),
 *                                 has_f<fid>:int8 per mm_emb_id
 *   parquet/{events,users}-NNNNN.parquet, parquet/items.parquet   ZSTD copies of the above
 */
export interface ShardInfo {
  name: string; // "part-00000"
  users: number;
  events: number;
}

export interface FeatureLayout {
  user_sparse: string[];
  user_array: string[];
  item_sparse: string[];
  item_array: string[];
  item_continuous: string[];
  /** mm_emb_id → vector dimension (taken from the data, not the folder name) */
  mm: Record<string, number>;
}

export interface IngestManifest {
  source: string;
  users: number;
  items: number; // item idx range is 1..items
  events: number;
  shards: ShardInfo[];
  features: FeatureLayout;
  /** vocab size per feature id (max re-id + 1, so 0 stays padding) */
  vocab: Record<string, number>;
  /** users with fewer than two targets are counted here; all their events are Role.train */
  splits: { train_events: number; valid_targets: number; test_targets: number; users_without_targets: number; users_with_one_target: number };
  /** every line skipped under on_bad_line: skip; file is relative to raw_dir, line 1-based */
  skipped_lines: { file: string; line: number; reason: string }[];
  // ingest always writes the fields below; optional so hand-built manifests (tests, benches) stay valid
  /** lines read from seq.jsonl (skipped ones included) */
  lines?: number;
  /** users whose line has a user-profile record with at least one feature (has_profile = 1) */
  users_with_profile?: number;
  /** distinct item idx used by some event */
  items_used?: number;
  /** used item idx absent from item_feat_dict.json: their feature columns are 0 */
  items_without_features?: number;
  item_feat_dict_entries?: number;
  /** per mm_emb_id: part files read, vectors kept, lines without `emb`, creative ids unknown to the indexer, repeats */
  mm_stats?: Record<string, { parts: number; vectors: number; lines_without_emb: number; unknown_cids: number; duplicate_cids: number }>;
  /** whether seq_offsets.pkl was present (and so checked against the line starts) */
  offsets_checked?: boolean;
}

export const eventShardPath = (dir: string, shard: string): string => `${dir}/events/${shard}.arrow`;
export const userShardPath = (dir: string, shard: string): string => `${dir}/users/${shard}.arrow`;
export const itemTablePath = (dir: string): string => `${dir}/items/part-00000.arrow`;
export const shardName = (i: number): string => `part-${String(i).padStart(5, '0')}`;

/**
 * ingest's predict output (one folder, written when ingest is given a predict out path): the competition's
 * predict files (SPEC §3), laid out as the ingest folder so that the same readers read them:
 *   manifest.json                 PredictIngestManifest
 *   events/part-NNNNN.arrow       the predict users' item records, as ingest's events shards; every record is
 *                                 history (role Role.train: there is no target), item is the catalogue idx or a
 *                                 cold creative's idx (items + 1 …)
 *   users/part-NNNNN.arrow        one row per predict_seq.jsonl line, in file order, as ingest's users shards:
 *                                 user is the line's position among the predict users (0-based: predict users
 *                                 need no re-id), user_id the raw user id result.json names; the f<fid> columns
 *                                 follow the ingest folder's user layout (values it never saw → 0 = missing)
 *   items/part-00000.arrow        one row per cold creative (a creative the indexer does not know), item idx
 *                                 items + 1 … in order: item, item_id, f<fid> per item sparse / array feature as
 *                                 in the items table; no multimodal columns (no creative_emb vector: zeros)
 *   candidates.arrow              predict_set.jsonl's distinct creatives in file order (the first of a repeated
 *                                 one kept): creative_id:float64, item:int32 (catalogue or cold idx)
 *   parquet/{events,users}-NNNNN.parquet, parquet/items.parquet, parquet/candidates.parquet   ZSTD copies
 * When raw_dir has no predict files: manifest.json only (files null).
 */
export interface PredictIngestManifest {
  source: string;
  /** the predict files read (names in raw_dir), or null when raw_dir has none */
  files: { seq: string; set: string } | null;
  /** the catalogue's item count (the ingest folder's items): cold creatives are items + 1 … items + cold_items */
  items: number;
  users: number;
  events: number;
  shards: ShardInfo[];
  candidates: number;
  /** repeated creative ids in predict_set.jsonl (the first occurrence is kept) */
  duplicate_candidates: number;
  /** candidates and predict_seq creatives the indexer does not know */
  cold_items: number;
}

export const candidatesPath = (dir: string): string => `${dir}/candidates.arrow`;
export const predictIngestManifestPath = (dir: string): string => `${dir}/manifest.json`;

/**
 * negatives output (one folder):
 *   manifest.json    NegativesManifest
 *   pools.arrow      one row per item idx 1..items, sorted by bucket then item (so each bucket's pool is a
 *                    contiguous run): item:int32, bucket:int8, exposures:int32 (Role.train events of the item)
 *   pools.parquet    ZSTD copy of pools.arrow
 */
export interface NegativesManifest {
  items: number;
  /** Role.train events with a known item (item idx > 0): the exposures counted */
  train_events: number;
  /** neg_bucket_bounds: bucket b holds items with exposures <= bounds[b] (first such b); the last bucket the rest */
  bounds: number[];
  /** neg_bucket_weights as given in params */
  weights_param: number[];
  /** the draw probability per bucket after normalisation and zeroing empty buckets (sums to 1) */
  weights: number[];
  /** items per bucket */
  counts: number[];
  empty_buckets: number[];
  /** one-line notices printed by the stage (normalisation, "warning: …" for empty buckets) */
  notices: string[];
}

export const negativesManifestPath = (dir: string): string => `${dir}/manifest.json`;
export const negativePoolsPath = (dir: string): string => `${dir}/pools.arrow`;
export const negativePoolsParquetPath = (dir: string): string => `${dir}/pools.parquet`;

/**
 * features output (one folder; stages/features):
 *   manifest.json                 FeaturesManifest
 *   events/part-NNNNN.arrow       aligned row for row with ingest's events shard of the same name:
 *                                 f201,f202,f203,f206,f207,f208,f209,f210,f212:int8, f211:int16 — stored codes,
 *                                 0 = padding (code table in core/time/time-features.ts). 204 and 205 are
 *                                 per cut: core/time/cut-time-features.ts
 *   items/part-00000.arrow        one row per item idx 0..items (row 0 = padding, zeros): item:int32,
 *                                 dyn_log_exposures, dyn_log_clicks, dyn_log_conversions, dyn_ctr:float32,
 *                                 dyn_exposure_tier, dyn_ctr_tier, dyn_anomaly:int32, dyn_log_users:float32,
 *                                 dyn_hot:int32, dyn_log_days_since_seen:float32 (training-visible events only)
 *   parquet/events-NNNNN.parquet, parquet/items.parquet   ZSTD copies of the above
 */
/** What a feature id is, for its default and how train embeds it. */
export type FeatureKind = 'user_sparse' | 'user_array' | 'item_sparse' | 'item_array' | 'item_continuous' | 'mm' | 'time';

export interface FeaturesManifest {
  events: number;
  items: number;
  /** the ingest shards, same names and row counts */
  shards: ShardInfo[];
  /** max ts among Role.train events: the reference time of dyn_log_days_since_seen */
  train_cutoff_ts: number;
  /** vocab size per discrete time fid, including 204 (computed per cut) */
  time_vocab: Record<string, number>;
  /** the dynamic feature column names, in column order */
  dynamic: string[];
  /** vocab size per discrete dynamic feature (tiers 0..10, flags 0..1) */
  dynamic_vocab: Record<string, number>;
  /** per fid: missing default (sparse/time: most frequent non-zero value; arrays [0]; continuous 0; mm 0 = zero vector) */
  defaults: Record<string, number | number[]>;
  /** per fid: up to three [value, count], most frequent first */
  top3: Record<string, [number, number][]>;
  /** per discrete fid: vocab size (0 = padding), max of ingest's vocab and the largest value seen + 1 */
  vocab: Record<string, number>;
  /** per fid: fraction of rows (users, items 1..N, or events) with a non-missing value */
  coverage: Record<string, number>;
  /** per fid: which kind of feature it is */
  kinds: Record<string, FeatureKind>;
  dynamic_stats: { global_ctr: number; prior_alpha: number; prior_beta: number; seen_items: number; train_events: number };
  /** events whose year the holiday table does not cover (212 then flags promotion windows only) */
  calendar: { holiday_years: [number, number]; events_outside_holiday_years: number };
  /** events timestamped before their predecessor in the sequence (gap taken as 0) */
  out_of_order_events: number;
}

export const featureEventShardPath = (dir: string, shard: string): string => `${dir}/events/${shard}.arrow`;
export const featureItemTablePath = (dir: string): string => `${dir}/items/part-00000.arrow`;
export const featuresManifestPath = (dir: string): string => `${dir}/manifest.json`;

/**
 * features' predict output (one folder, written when features is given the ingest predict folder):
 *   manifest.json                 PredictFeaturesManifest
 *   events/part-NNNNN.arrow       the predict users' stored time features, as features/events (aligned row for
 *                                 row with the ingest predict folder's events shard of the same name)
 *   items/part-00000.arrow        one row per cold creative, item idx items + 1 … in order: item and the dynamic
 *                                 features of an item without training-visible events (as features/items)
 *   parquet/events-NNNNN.parquet, parquet/items.parquet   ZSTD copies
 * When the ingest predict folder has no predict files: manifest.json only.
 */
export interface PredictFeaturesManifest {
  /** whether there were predict files (the ingest predict manifest's files were not null) */
  predict_files: boolean;
  /** the catalogue's item count (cold creatives are items + 1 …) */
  items: number;
  events: number;
  /** the ingest predict shards, same names and row counts */
  shards: ShardInfo[];
  cold_items: number;
  /** predict events whose year the holiday table does not cover (212 then flags promotion windows only) */
  events_outside_holiday_years: number;
  /** predict events timestamped before their predecessor in the sequence (gap taken as 0) */
  out_of_order_events: number;
}

export const predictFeaturesManifestPath = (dir: string): string => `${dir}/manifest.json`;
