// One user's event log: sessions of a few events minutes apart, sessions hours to days apart,
// items from a topic Markov chain over the user's drifting mixture (plus fixed successors), and
// clicks from sigmoid(user-topic affinity + item quality + time-of-day). Each user draws from its
// own RNG stream, so users can be generated in any order (the shuffled line order) and still match.
// With synth_all_clicks every record becomes a click after the same draws (the items are unchanged).
import { Rng } from '../../core/random/rng.ts';
import { mixtureAt, sampleCumulative, WORLD, type World } from './world.ts';

export interface UserEvents {
  user: number; // user index in world.users
  length: number; // N item records
  item: Int32Array; // [N] item index (>= items.trainCount only for predict users' cold items)
  action: Uint8Array; // [N] 0 exposure, 1 click, 2 conversion (all 1 with synth_all_clicks)
  ts: Float64Array; // [N] Unix seconds, ascending
  sessionStart: Uint8Array; // [N] 1 = first event of a session (no successor, weaker topic stickiness)
}

const DAY = 86400;
const HOUR = 3600;
const UTC8 = 8 * HOUR;
const MIN_CLICKS = 2;
const CONVERT_PROB = 0.25;
/** click logit intercept; with the other terms this gives ~10% clicks */
const CLICK_BASE = -3.4;

/** RNG stream of user u's sequence (disjoint from the world's streams 1..9). */
export function userStream(u: number): number {
  return 1000 + u;
}

/** Local hour (UTC+8, fractional) of a Unix timestamp. */
export function localHour(ts: number): number {
  return (((ts + UTC8) % DAY) + DAY) % DAY / HOUR;
}

/** Fraction of the generation window elapsed at `ts`, clamped to [0, 1]. */
export function windowFraction(world: World, ts: number): number {
  const f = (ts - WORLD.startTs) / (world.params.synth_days * DAY);
  return f < 0 ? 0 : f > 1 ? 1 : f;
}

/** Click logit of user u on item i at local hour h, given u's mixture at that time. */
export function clickLogit(world: World, u: number, i: number, hour: number, mixture: Float64Array): number {
  return userHourLogit(world, u, hour) + topicAffinityLogit(world, mixture, world.items.topic[i]!) + world.items.quality[i]!;
}

/** The user and time-of-day part of the click logit (the same for every item). */
export function userHourLogit(world: World, u: number, hour: number): number {
  const { users } = world;
  if (users.lowClick[u]) return -9; // planted users with (almost) no clicks
  return CLICK_BASE + users.clickBias[u]! + 0.4 * Math.cos((2 * Math.PI * (hour - users.prefHour[u]!)) / 24);
}

/** The user-topic affinity part of the click logit: log of the mixture weight relative to uniform. */
export function topicAffinityLogit(world: World, mixture: Float64Array, topic: number): number {
  const affinity = Math.log(world.topics.count * mixture[topic]! + 1e-9);
  return 0.8 * (affinity < -3 ? -3 : affinity > 2.5 ? 2.5 : affinity);
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/**
 * Item-record count of user u: lo + floor((hi - lo + 1)·x^power), x uniform. The default power 0.5
 * skews towards long sequences as in TencentGR_1k (Math.sqrt there, the exact historical draw); a
 * power above 1 skews towards short ones, as in public sparse logs.
 */
function drawLength(world: World, rng: Rng): number {
  const { synth_min_len: lo, synth_max_len: hi, synth_len_power: power } = world.params;
  const x = rng.next();
  return lo + Math.floor((hi - lo + 1) * (power === 0.5 ? Math.sqrt(x) : Math.pow(x, power)));
}

/** Timestamps in sessions; session starts favour the user's preferred hour. */
function drawTimes(world: World, u: number, n: number, rng: Rng): { ts: Float64Array; sessionStart: Uint8Array } {
  const sizes: number[] = [];
  for (let left = n; left > 0; ) {
    let s = 1;
    while (rng.next() < 0.7) s++;
    s = Math.min(s, left);
    sizes.push(s);
    left -= s;
  }
  const days = world.params.synth_days;
  const pref = world.users.prefHour[u]!;
  const starts = sizes.map(() => {
    const day = rng.int(days);
    const hour = rng.next() < 0.75 ? (((pref + 2 * rng.normal()) % 24) + 24) % 24 : 24 * rng.next();
    return WORLD.startTs + day * DAY + Math.floor(hour * HOUR);
  });
  starts.sort((a, b) => a - b);
  const ts = new Float64Array(n);
  const sessionStart = new Uint8Array(n);
  let k = 0;
  let prev = -Infinity;
  sizes.forEach((size, s) => {
    let t = starts[s]!;
    for (let j = 0; j < size; j++, k++) {
      if (j > 0) t += 20 + Math.floor(-150 * Math.log(1 - rng.next()));
      t = Math.max(t, prev + 1);
      ts[k] = prev = t;
      sessionStart[k] = j === 0 ? 1 : 0;
    }
  });
  return { ts, sessionStart };
}

/** Samples a training item of topic t by its Zipf rank. */
function sampleInTopic(world: World, t: number, rng: Rng): number {
  return world.topics.members[t]![sampleCumulative(world.topics.cumWeight[t]!, rng.next())]!;
}

/**
 * Generates user u's item records. `coldShare` > 0 (predict users) swaps that share of items for a
 * cold item of the same topic, so predict files carry creatives the indexer has never seen.
 */
export function generateUserEvents(world: World, u: number, coldShare = 0): UserEvents {
  const rng = new Rng(world.params.seed, userStream(u));
  const K = world.topics.count;
  const n = drawLength(world, rng);
  const { ts, sessionStart } = drawTimes(world, u, n, rng);
  const item = new Int32Array(n);
  const action = new Uint8Array(n);
  const logit = new Float64Array(n);
  const mix = new Float64Array(K);
  const mixCum = new Float64Array(K);
  for (let k = 0; k < n; k++) {
    mixtureAt(world.users, K, u, windowFraction(world, ts[k]!), mix);
    const prev = k > 0 ? item[k - 1]! : -1;
    let chosen: number;
    if (prev >= 0 && !sessionStart[k] && rng.next() < WORLD.successorProb) {
      chosen = world.items.successor[prev]!;
    } else {
      const stay = sessionStart[k] ? WORLD.stayAcrossSessions : WORLD.stayInSession;
      let topic: number;
      if (prev >= 0 && rng.next() < stay) topic = world.items.topic[prev]!;
      else {
        let total = 0;
        for (let t = 0; t < K; t++) mixCum[t] = total += mix[t]!;
        topic = sampleCumulative(mixCum, rng.next());
      }
      chosen = sampleInTopic(world, topic, rng);
    }
    logit[k] = clickLogit(world, u, chosen, localHour(ts[k]!), mix);
    if (rng.next() < sigmoid(logit[k]!)) action[k] = rng.next() < CONVERT_PROB ? 2 : 1;
    // The predict-only swap happens after the click draw so the training path stays untouched.
    const cold = world.topics.coldMembers[world.items.topic[chosen]!]!;
    item[k] = coldShare > 0 && cold.length > 0 && rng.next() < coldShare ? cold[rng.int(cold.length)]! : chosen;
  }
  if (world.params.synth_all_clicks) action.fill(1);
  else ensureMinClicks(world, u, action, logit, rng);
  return { user: u, length: n, item, action, ts, sessionStart };
}

/**
 * The split needs two targets per user; short sequences often draw fewer clicks. Promote the
 * most clickable exposures until there are MIN_CLICKS, except for the planted low-click users.
 */
function ensureMinClicks(world: World, u: number, action: Uint8Array, logit: Float64Array, rng: Rng): void {
  if (world.users.lowClick[u]) return;
  let clicks = 0;
  for (const a of action) if (a > 0) clicks++;
  while (clicks < MIN_CLICKS && clicks < action.length) {
    let best = -1;
    for (let k = 0; k < action.length; k++) if (action[k] === 0 && (best < 0 || logit[k]! > logit[best]!)) best = k;
    action[best] = rng.next() < CONVERT_PROB ? 2 : 1;
    clicks++;
  }
}
