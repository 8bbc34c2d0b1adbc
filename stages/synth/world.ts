// The latent world behind the synthetic logs: topics, items (topic, Zipf rank, quality, successor,
// raw ids) and users (drifting Dirichlet topic mixtures, preferred hour, click bias). Everything the
// writers later print is derived from this one seeded object, so it is the planted structure a
// sequence model can learn and the oracle in truth.ts can read.
import type { Params } from '../../core/stage/params.ts';
import { Rng } from '../../core/random/rng.ts';
import { UserError } from '../../core/stage/errors.ts';

export type SynthParams = Pick<
  Params,
  | 'seed'
  | 'synth_users'
  | 'synth_items'
  | 'synth_topics'
  | 'synth_days'
  | 'synth_min_len'
  | 'synth_max_len'
  | 'synth_predict_users'
  | 'synth_mm_large_dim'
  | 'synth_len_power'
  | 'synth_user_profiles'
  | 'synth_all_clicks'
  | 'synth_oracle'
>;

/** The generator's fixed knobs: behaviour constants, not experiment params. */
export const WORLD = {
  /** 2025-04-01 00:00 in UTC+8, so Qingming (Apr 4–6) falls inside the default 24 days */
  startTs: 1743436800,
  zipfExponent: 1.05,
  /** Dirichlet concentration of a user's topic mixture (small → a few dominant topics) */
  mixAlpha: 0.3,
  /** share of a user's end-of-window mixture that is a fresh draw (the slow drift) */
  mixDrift: 0.4,
  /** probability the next item keeps the previous item's topic, inside a session / across sessions */
  stayInSession: 0.75,
  stayAcrossSessions: 0.35,
  /** probability the next item in a session is the previous item's fixed successor */
  successorProb: 0.15,
  /** share of items that only predict files reference (new creatives, unseen by the indexer) */
  coldItemShare: 0.02,
  /** share of predict users written with a raw string id instead of a re-id */
  rawIdPredictShare: 0.1,
} as const;

export interface Items {
  /** training items then cold items; index < trainCount ⇔ known to the indexer */
  count: number;
  trainCount: number;
  topic: Int32Array; // [count]
  quality: Float64Array; // [count] additive click logit
  successor: Int32Array; // [count] item index in the same topic
  rawId: Float64Array; // [count] raw creative id (11 digits, past 2^31, exact as a double)
  reid: Int32Array; // [count] 1..trainCount, 0 for cold items
  byReid: Int32Array; // [trainCount + 1] reid → item index (slot 0 unused)
}

export interface Topics {
  count: number;
  /** per topic: training item indices by popularity rank (rank 0 = most popular) */
  members: Int32Array[];
  /** per topic: cumulative Zipf weights over `members`, last = total */
  cumWeight: Float64Array[];
  /** per topic: cold item indices (predict files only) */
  coldMembers: Int32Array[];
}

export interface Users {
  /** training users (0..trainCount-1, re-id = index + 1) then predict users */
  count: number;
  trainCount: number;
  mixStart: Float64Array; // [count * K]
  mixEnd: Float64Array; // [count * K]
  prefHour: Float64Array; // [count] preferred local hour (0..24)
  clickBias: Float64Array; // [count] additive click logit
  lowClick: Uint8Array; // [count] 1 = a user that (almost) never clicks
  rawId: Int32Array; // [count] the number in 'user_%08d'
}

export interface World {
  params: SynthParams;
  topics: Topics;
  items: Items;
  users: Users;
}

/** Rejects combinations the loader's per-key checks cannot see. */
export function checkSynthParams(p: SynthParams): void {
  if (p.synth_min_len > p.synth_max_len) {
    throw new UserError(`params: 'synth_min_len' (${p.synth_min_len}) must be <= 'synth_max_len' (${p.synth_max_len})`);
  }
  if (p.synth_topics > p.synth_items) {
    throw new UserError(`params: 'synth_topics' (${p.synth_topics}) must be <= 'synth_items' (${p.synth_items})`);
  }
  if (p.synth_items > 5_000_000) throw new UserError(`params: 'synth_items' must be <= 5000000, got ${p.synth_items}`);
  if (p.synth_users + p.synth_predict_users > 50_000_000) {
    throw new UserError(`params: 'synth_users' + 'synth_predict_users' must be <= 50000000`);
  }
}

/** Draws the whole latent world from `params.seed`. */
export function buildWorld(params: SynthParams): World {
  checkSynthParams(params);
  const topics = params.synth_topics;
  const items = buildItems(params, new Rng(params.seed, 1));
  return {
    params,
    topics: buildTopics(items, topics, new Rng(params.seed, 2)),
    items,
    users: buildUsers(params, new Rng(params.seed, 3)),
  };
}

function buildItems(p: SynthParams, rng: Rng): Items {
  const trainCount = p.synth_items;
  const count = trainCount + Math.max(1, Math.round(trainCount * WORLD.coldItemShare));
  const K = p.synth_topics;
  // Uneven topic sizes; the first K items seed every topic so none is empty.
  const topicWeight = Array.from({ length: K }, () => rng.gamma(2));
  const cumTopic = cumulative(topicWeight);
  const topic = new Int32Array(count);
  for (let i = 0; i < count; i++) topic[i] = i < K ? i : sampleCumulative(cumTopic, rng.next());
  const quality = new Float64Array(count);
  for (let i = 0; i < count; i++) quality[i] = 0.5 * rng.normal();
  const rawId = new Float64Array(count);
  const seen = new Set<number>();
  for (let i = 0; i < count; i++) {
    let id: number;
    do id = 20_000_000_000 + rng.int(9_999_999_999);
    while (seen.has(id));
    seen.add(id);
    rawId[i] = id;
  }
  // Re-ids are a random permutation of the training items, so an id says nothing about the topic.
  const order = rng.shuffle(Array.from({ length: trainCount }, (_, i) => i));
  const reid = new Int32Array(count);
  const byReid = new Int32Array(trainCount + 1);
  order.forEach((item, k) => {
    reid[item] = k + 1;
    byReid[k + 1] = item;
  });
  return { count, trainCount, topic, quality, successor: new Int32Array(count), rawId, reid, byReid };
}

function buildTopics(items: Items, K: number, rng: Rng): Topics {
  const lists: number[][] = Array.from({ length: K }, () => []);
  const coldLists: number[][] = Array.from({ length: K }, () => []);
  for (let i = 0; i < items.count; i++) (i < items.trainCount ? lists : coldLists)[items.topic[i]!]!.push(i);
  const members = lists.map((l) => Int32Array.from(rng.shuffle(l)));
  const cumWeight = members.map((m) => {
    const w = new Float64Array(m.length);
    let total = 0;
    for (let r = 0; r < m.length; r++) w[r] = total += 1 / Math.pow(r + 1, WORLD.zipfExponent);
    return w;
  });
  // A successor is a popularity-weighted item of the same topic: a planted item-to-item pattern.
  for (let i = 0; i < items.count; i++) {
    const t = items.topic[i]!;
    items.successor[i] = members[t]![sampleCumulative(cumWeight[t]!, rng.next())]!;
  }
  return { count: K, members, cumWeight, coldMembers: coldLists.map((l) => Int32Array.from(l)) };
}

function buildUsers(p: SynthParams, rng: Rng): Users {
  const trainCount = p.synth_users;
  const count = trainCount + p.synth_predict_users;
  const K = p.synth_topics;
  const mixStart = new Float64Array(count * K);
  const mixEnd = new Float64Array(count * K);
  const prefHour = new Float64Array(count);
  const clickBias = new Float64Array(count);
  const lowClick = new Uint8Array(count);
  const rawId = new Int32Array(count);
  const seen = new Set<number>();
  for (let u = 0; u < count; u++) {
    const start = drawDirichlet(K, WORLD.mixAlpha, rng);
    const fresh = drawDirichlet(K, WORLD.mixAlpha, rng);
    for (let t = 0; t < K; t++) {
      mixStart[u * K + t] = start[t]!;
      mixEnd[u * K + t] = (1 - WORLD.mixDrift) * start[t]! + WORLD.mixDrift * fresh[t]!;
    }
    // Two audiences: evening people and daytime people.
    prefHour[u] = rng.next() < 0.6 ? (20 + 3 * rng.normal() + 24) % 24 : (12 + 3 * rng.normal() + 24) % 24;
    clickBias[u] = 0.4 * rng.normal();
    lowClick[u] = rng.next() < 0.03 ? 1 : 0;
    let id: number;
    do id = rng.int(99_999_999) + 1;
    while (seen.has(id));
    seen.add(id);
    rawId[u] = id;
  }
  return { count, trainCount, mixStart, mixEnd, prefHour, clickBias, lowClick, rawId };
}

/** User u's topic mixture at time fraction f ∈ [0, 1] of the window, written into `out` [K]. */
export function mixtureAt(users: Users, K: number, u: number, f: number, out: Float64Array): Float64Array {
  for (let t = 0; t < K; t++) out[t] = (1 - f) * users.mixStart[u * K + t]! + f * users.mixEnd[u * K + t]!;
  return out;
}

/** The user's dominant starting topic (drives the user-profile features). */
export function dominantTopic(users: Users, K: number, u: number): number {
  let best = 0;
  for (let t = 1; t < K; t++) if (users.mixStart[u * K + t]! > users.mixStart[u * K + best]!) best = t;
  return best;
}

export function drawDirichlet(K: number, alpha: number, rng: Rng): Float64Array {
  const out = new Float64Array(K);
  let total = 0;
  for (let t = 0; t < K; t++) total += out[t] = rng.gamma(alpha) + 1e-12;
  for (let t = 0; t < K; t++) out[t]! /= total;
  return out;
}

export function cumulative(w: ArrayLike<number>): Float64Array {
  const out = new Float64Array(w.length);
  let total = 0;
  for (let i = 0; i < w.length; i++) out[i] = total += w[i]!;
  return out;
}

/** Index i with cum[i-1] <= u*total < cum[i] (binary search); u ∈ [0, 1). */
export function sampleCumulative(cum: Float64Array, u: number): number {
  const x = u * cum[cum.length - 1]!;
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
