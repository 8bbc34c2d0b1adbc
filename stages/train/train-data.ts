// The training data as the loop sees it: the item store, one shard of users at a time, and a seeded
// plan of micro-batches per epoch. The plan of epoch e depends only on (seed, e), so a resumed run
// rebuilds exactly the batches an uninterrupted one would have seen.
import { Rng } from '../../core/random/rng.ts';
import type { FeatureSchema } from '../../core/model/config.ts';
import { type Cuts, type TrainWindows, countPositives, cutSequences } from '../../core/sequences/cut.ts';
import { type Manifests, buildFeatureSchema, readManifests } from '../../core/sequences/feature-schema.ts';
import { ItemStore } from '../../core/sequences/item-store.ts';
import { type UserShard, observeArrayLen, readUserShard, shardNames } from '../../core/sequences/user-shards.ts';

/** One micro-batch: training cuts `rows` (indices into the shard's train cuts) of shard `shard`. */
export interface PlannedBatch {
  shard: string;
  rows: Int32Array;
}

/** A loaded shard with its training and validation cuts. */
export interface LoadedShard {
  shard: UserShard;
  train: Cuts;
  valid: Cuts;
}

/** Seed stream of the epoch shuffles (the other streams: model init, negatives, dropout). */
const EPOCH_STREAM = 0x45504f; // 'EPO'

export class TrainData {
  readonly manifests: Manifests;
  readonly schema: FeatureSchema;
  readonly store: ItemStore;
  readonly shards: string[];
  /** training cuts per shard, in shard order */
  readonly trainCounts: number[];
  readonly validCount: number;
  /** users with at least one training cut (train_windows: all gives a user several cuts) */
  readonly trainUsers: number;
  /** [items + 1] training positives per item idx over an epoch's cuts (the in-batch negatives' distribution) */
  readonly positiveCounts: Float64Array;
  private cached: { name: string; loaded: LoadedShard } | null = null;

  constructor(readonly ingestDir: string, readonly featuresDir: string, readonly maxlen: number, arrayLen?: number, readonly windows: TrainWindows = 'last') {
    this.manifests = readManifests(ingestDir, featuresDir);
    this.schema = buildFeatureSchema(this.manifests, arrayLen ?? observeArrayLen(ingestDir, this.manifests));
    this.store = ItemStore.load(ingestDir, featuresDir, this.manifests, this.schema);
    this.shards = shardNames(this.manifests);
    this.trainCounts = [];
    this.positiveCounts = new Float64Array(this.store.rows);
    let valid = 0;
    let users = 0;
    for (const name of this.shards) {
      const s = this.load(name);
      this.trainCounts.push(s.train.count);
      countPositives(s.train, s.shard, this.positiveCounts);
      users += s.shard.users - s.train.skipped;
      valid += s.valid.count;
    }
    this.validCount = valid;
    this.trainUsers = users;
  }

  /** The shard's users and cuts; the last one loaded stays in memory (one shard at a time). */
  load(name: string): LoadedShard {
    if (this.cached?.name === name) return this.cached.loaded;
    const shard = readUserShard(this.ingestDir, this.featuresDir, name, this.manifests, this.schema);
    const loaded = { shard, train: cutSequences('train', shard, this.maxlen, this.windows), valid: cutSequences('valid', shard, this.maxlen) };
    this.cached = { name, loaded };
    return loaded;
  }

  get trainCount(): number {
    return this.trainCounts.reduce((a, b) => a + b, 0);
  }

  /** Micro-batches per epoch (each shard's last batch may be short). */
  batchesPerEpoch(batchSize: number): number {
    return this.trainCounts.reduce((n, c) => n + Math.ceil(c / batchSize), 0);
  }

  /** Epoch `epoch`'s micro-batches: shards in a shuffled order, users shuffled within each shard. */
  epochPlan(epoch: number, batchSize: number, seed: number): PlannedBatch[] {
    const rng = new Rng(seed, EPOCH_STREAM + epoch);
    const order = rng.shuffle(this.shards.map((_, i) => i));
    const plan: PlannedBatch[] = [];
    for (const i of order) {
      const perm = Int32Array.from(rng.shuffle(Array.from({ length: this.trainCounts[i]! }, (_, k) => k)));
      for (let start = 0; start < perm.length; start += batchSize) plan.push({ shard: this.shards[i]!, rows: perm.subarray(start, start + batchSize) });
    }
    return plan;
  }
}
