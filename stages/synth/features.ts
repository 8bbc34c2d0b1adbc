// Sparse and array features for items and users, drawn from the owner's topic so they generalise
// to rarely seen items, then re-indexed from 1 per feature id as the real indexer does.
// Feature ids, vocab sizes and missing rates follow TencentGR_1k (SPEC §3).
import { Rng } from '../../core/random/rng.ts';
import { dominantTopic, type World } from './world.ts';

export interface FeatureSpec {
  fid: string;
  /** distinct latent values: a fixed size, or a share of the item count for id-like features */
  vocab: number | { perItem: number };
  /** probability the value comes from the owner topic's block rather than uniformly */
  affinity: number;
  /** probability the feature is present at all */
  presence: number;
  /** 'unique' = one value per item (like 111); 'array' = a list of 1..3 values (user arrays) */
  kind: 'sparse' | 'unique' | 'array';
}

export const ITEM_FEATURES: readonly FeatureSpec[] = [
  { fid: '100', vocab: 6, affinity: 0.6, presence: 1, kind: 'sparse' },
  { fid: '101', vocab: 44, affinity: 0.7, presence: 1, kind: 'sparse' },
  { fid: '102', vocab: { perItem: 0.19 }, affinity: 0.9, presence: 1, kind: 'sparse' },
  { fid: '111', vocab: { perItem: 1 }, affinity: 0, presence: 1, kind: 'unique' },
  { fid: '112', vocab: 25, affinity: 0.5, presence: 1, kind: 'sparse' },
  { fid: '114', vocab: 17, affinity: 0.5, presence: 1, kind: 'sparse' },
  { fid: '115', vocab: 187, affinity: 0.8, presence: 0.25, kind: 'sparse' },
  { fid: '116', vocab: 18, affinity: 0.7, presence: 1, kind: 'sparse' },
  { fid: '117', vocab: 285, affinity: 0.7, presence: 1, kind: 'sparse' },
  { fid: '118', vocab: 745, affinity: 0.7, presence: 1, kind: 'sparse' },
  { fid: '119', vocab: 1745, affinity: 0.6, presence: 1, kind: 'sparse' },
  { fid: '120', vocab: 1343, affinity: 0.6, presence: 1, kind: 'sparse' },
  { fid: '121', vocab: { perItem: 0.84 }, affinity: 0.3, presence: 1, kind: 'sparse' },
  { fid: '122', vocab: { perItem: 0.19 }, affinity: 0.9, presence: 1, kind: 'sparse' },
];

/** In the real data 112 and 117–120 go missing together on ~2% of items. */
const ITEM_GROUP_MISSING = { fids: new Set(['112', '117', '118', '119', '120']), rate: 0.02 };

/** Two key orders seen in the real item dicts (Python keeps insertion order). */
const ITEM_KEY_ORDERS: readonly (readonly string[])[] = [
  ['112', '117', '118', '119', '120', '100', '101', '102', '122', '114', '115', '116', '121', '111'],
  ['112', '117', '118', '119', '120', '121', '100', '101', '102', '122', '111', '114', '115', '116'],
];

export const USER_FEATURES: readonly FeatureSpec[] = [
  { fid: '103', vocab: 67, affinity: 0.7, presence: 1, kind: 'sparse' },
  { fid: '106', vocab: 13, affinity: 0.6, presence: 0.95, kind: 'array' },
  { fid: '107', vocab: 17, affinity: 0.5, presence: 0.5, kind: 'array' },
  { fid: '108', vocab: 4, affinity: 0.3, presence: 0.4, kind: 'array' },
  { fid: '110', vocab: 2, affinity: 0.2, presence: 0.3, kind: 'array' },
  { fid: '109', vocab: 3, affinity: 0.2, presence: 1, kind: 'sparse' },
  { fid: '105', vocab: 7, affinity: 0.5, presence: 0.97, kind: 'sparse' },
  { fid: '104', vocab: 2, affinity: 0.3, presence: 0.98, kind: 'sparse' },
];

/** Raw feature values look like the real ones: fid·10^7 + latent value. */
export function rawFeatureValue(fid: string, latent: number): number {
  return Number(fid) * 10_000_000 + latent;
}

/** Latent values of every item, per fid: values[fid][item] (-1 = missing); keyOrder[item] indexes ITEM_KEY_ORDERS. */
export interface ItemFeatures {
  values: Map<string, Int32Array>;
  keyOrder: Uint8Array;
}

/**
 * Latent profile values of every user, packed in typed arrays: row objects cost ~1.8 KB per user, which
 * made synth's memory grow with synth_users (170 MB at 100k). User u's entries are
 * entryStart[u]..entryStart[u + 1]; entry e is USER_FEATURES[entrySpec[e]] with latent values
 * values[valueStart[e]..valueStart[e + 1]] (arrays carry 1..3 values).
 */
export class UserFeatures {
  constructor(
    private readonly entryStart: Int32Array, // [users + 1]
    private readonly entrySpec: Uint8Array, // [entries] index into USER_FEATURES
    private readonly valueStart: Int32Array, // [entries + 1]
    private readonly values: Int32Array, // [values]
  ) {}

  /** User u's (fid, latent values) pairs, in the record's key order. */
  of(u: number): [fid: string, latent: number[]][] {
    const out: [string, number[]][] = [];
    for (let e = this.entryStart[u]!; e < this.entryStart[u + 1]!; e++) {
      out.push([USER_FEATURES[this.entrySpec[e]!]!.fid, Array.from(this.values.subarray(this.valueStart[e]!, this.valueStart[e + 1]!))]);
    }
    return out;
  }
}

/** Growable int32 list (a number[] per column would cost 8+ bytes a value and a JS array header). */
class IntList {
  data = new Int32Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(2 * this.length);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }

  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

export function itemKeyOrder(variant: number): readonly string[] {
  return ITEM_KEY_ORDERS[variant]!;
}

function resolveVocab(spec: FeatureSpec, itemCount: number): number {
  return typeof spec.vocab === 'number' ? spec.vocab : Math.max(2, Math.round(spec.vocab.perItem * itemCount));
}

/**
 * A latent value for an owner of `topic`: with probability `affinity` from the topic's block of the
 * vocab (skewed to the block's head), else uniform. Small vocabs give each topic a preferred value.
 */
function drawLatent(vocab: number, affinity: number, topic: number, K: number, topicPref: Int32Array, rng: Rng): number {
  if (rng.next() >= affinity) return rng.int(vocab);
  if (vocab < 2 * K) return topicPref[topic]!;
  const lo = Math.floor((topic * vocab) / K);
  const hi = Math.floor(((topic + 1) * vocab) / K);
  const u = rng.next();
  return lo + Math.floor((hi - lo) * u * u);
}

function topicPreferences(vocab: number, K: number, rng: Rng): Int32Array {
  return Int32Array.from({ length: K }, () => rng.int(vocab));
}

/** Draws every item's features (training and cold items alike) from stream `seed/4`. */
export function drawItemFeatures(world: World): ItemFeatures {
  const rng = new Rng(world.params.seed, 4);
  const { items, topics } = world;
  const K = topics.count;
  const values = new Map<string, Int32Array>();
  for (const spec of ITEM_FEATURES) {
    const vocab = resolveVocab(spec, items.trainCount);
    const pref = topicPreferences(vocab, K, rng);
    const col = new Int32Array(items.count);
    for (let i = 0; i < items.count; i++) {
      if (spec.kind === 'unique') col[i] = i;
      else col[i] = rng.next() < spec.presence ? drawLatent(vocab, spec.affinity, items.topic[i]!, K, pref, rng) : -1;
    }
    values.set(spec.fid, col);
  }
  for (let i = 0; i < items.count; i++) {
    if (rng.next() >= ITEM_GROUP_MISSING.rate) continue;
    for (const fid of ITEM_GROUP_MISSING.fids) values.get(fid)![i] = -1;
  }
  const keyOrder = Uint8Array.from({ length: items.count }, () => (rng.next() < 0.7 ? 0 : 1));
  return { values, keyOrder };
}

/** Draws every user's profile features from the user's dominant topic, stream `seed/5`. */
export function drawUserFeatures(world: World): UserFeatures {
  const rng = new Rng(world.params.seed, 5);
  const K = world.topics.count;
  const prefs = USER_FEATURES.map((s) => topicPreferences(resolveVocab(s, 0), K, rng));
  const entryStart = new Int32Array(world.users.count + 1);
  const entrySpec = new IntList();
  const valueStart = new IntList();
  const values = new IntList();
  valueStart.push(0);
  for (let u = 0; u < world.users.count; u++) {
    const topic = dominantTopic(world.users, K, u);
    USER_FEATURES.forEach((spec, s) => {
      if (rng.next() >= spec.presence) return;
      const vocab = resolveVocab(spec, 0);
      const n = spec.kind === 'array' ? 1 + Math.min(rng.int(3), vocab - 1) : 1;
      const vals: number[] = [];
      while (vals.length < n) {
        const v = drawLatent(vocab, spec.affinity, topic, K, prefs[s]!, rng);
        if (!vals.includes(v)) vals.push(v);
      }
      entrySpec.push(s);
      for (const v of vals) values.push(v);
      valueStart.push(values.length);
    });
    entryStart[u + 1] = entrySpec.length;
  }
  return new UserFeatures(entryStart, Uint8Array.from(entrySpec.toArray()), valueStart.toArray(), values.toArray());
}

/** Per fid, raw value → re-id (from 1, in first-appearance order), as indexer['f'] holds it. */
export type FeatureIndex = Map<string, Map<number, number>>;

/**
 * Re-indexes the values the training data shows: training items (in a seeded order), then training
 * users in re-id order (when profile records are written). Cold items and predict users are left out, so their new values stay unseen.
 */
export function buildFeatureIndex(world: World, itemFeats: ItemFeatures, userFeats: UserFeatures): FeatureIndex {
  const index: FeatureIndex = new Map();
  const see = (fid: string, latent: number): void => {
    let m = index.get(fid);
    if (!m) index.set(fid, (m = new Map()));
    const raw = rawFeatureValue(fid, latent);
    if (!m.has(raw)) m.set(raw, m.size + 1);
  };
  // Items in a seeded order of their own, so value re-ids do not echo item re-ids (111 is one value per item).
  const order = new Rng(world.params.seed, 11).shuffle(Array.from({ length: world.items.trainCount }, (_, i) => i));
  for (const i of order) {
    for (const fid of itemKeyOrder(itemFeats.keyOrder[i]!)) {
      const v = itemFeats.values.get(fid)![i]!;
      if (v >= 0) see(fid, v);
    }
  }
  if (!world.params.synth_user_profiles) return index; // no profile records: the indexer knows no user feature ids
  for (let u = 0; u < world.users.trainCount; u++) for (const [fid, vals] of userFeats.of(u)) for (const v of vals) see(fid, v);
  return index;
}

/** The re-id of a value, or the raw value as a string when the indexer never saw it (predict files). */
export function reidOrRaw(index: FeatureIndex, fid: string, latent: number): number | string {
  const raw = rawFeatureValue(fid, latent);
  return index.get(fid)?.get(raw) ?? String(raw);
}
