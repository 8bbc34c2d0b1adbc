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
 *                                 f<fid>:int32 per user sparse fid, f<fid>:list<int32> per user array fid
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
  splits: { train_events: number; valid_targets: number; test_targets: number; users_without_targets: number; users_with_one_target: number };
  skipped_lines: { line: number; reason: string }[];
}

export const eventShardPath = (dir: string, shard: string): string => `${dir}/events/${shard}.arrow`;
export const userShardPath = (dir: string, shard: string): string => `${dir}/users/${shard}.arrow`;
export const itemTablePath = (dir: string): string => `${dir}/items/part-00000.arrow`;
export const shardName = (i: number): string => `part-${String(i).padStart(5, '0')}`;
