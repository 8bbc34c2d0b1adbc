// The oracle: the generator's own distribution of the item at a target position, given everything
// the generator knew there (previous item, session boundary, time), conditioned on a click.
// A model cannot beat ranking items by this, so it bounds HR/NDCG on the synthetic data.
import { localHour, sigmoid, topicAffinityLogit, userHourLogit, windowFraction, type UserEvents } from './sequences.ts';
import { mixtureAt, WORLD, type World } from './world.ts';

export interface TargetTruth {
  position: number; // index among the user's item records
  itemReid: number; // the realised item
  /** the realised item's probability and its rank (1-based) under the oracle */
  prob: number;
  rank: number;
  top: [itemReid: number, prob: number][]; // best first
}

/** P(item at position k = i, clicked | state) normalised over training items, as a [trainCount] vector. */
export function targetDistribution(world: World, ev: UserEvents, k: number): Float64Array {
  const { items, topics } = world;
  const K = topics.count;
  const mix = mixtureAt(world.users, K, ev.user, windowFraction(world, ev.ts[k]!), new Float64Array(K));
  const prev = k > 0 ? ev.item[k - 1]! : -1;
  const inSession = prev >= 0 && !ev.sessionStart[k];
  const succ = inSession ? WORLD.successorProb : 0;
  const stay = prev < 0 ? 0 : ev.sessionStart[k] ? WORLD.stayAcrossSessions : WORLD.stayInSession;
  const topicProb = new Float64Array(K);
  for (let t = 0; t < K; t++) topicProb[t] = (1 - stay) * mix[t]!;
  if (prev >= 0) topicProb[items.topic[prev]!]! += stay;
  const common = userHourLogit(world, ev.user, localHour(ev.ts[k]!));
  const p = new Float64Array(items.trainCount);
  for (let t = 0; t < K; t++) {
    const members = topics.members[t]!;
    const cum = topics.cumWeight[t]!;
    const scale = ((1 - succ) * topicProb[t]!) / cum[cum.length - 1]!;
    for (let r = 0; r < members.length; r++) p[members[r]!] = scale * (cum[r]! - (r > 0 ? cum[r - 1]! : 0));
  }
  if (succ > 0) p[items.successor[prev]!]! += succ;
  if (world.params.synth_all_clicks) return p; // every record is a click: nothing to condition on
  // Condition on a click: weight by the click probability (the same logit terms the sampler used).
  const topicLogit = Float64Array.from({ length: K }, (_, t) => common + topicAffinityLogit(world, mix, t));
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += p[i]! *= sigmoid(topicLogit[items.topic[i]!]! + items.quality[i]!);
  if (sum > 0) for (let i = 0; i < p.length; i++) p[i]! /= sum;
  return p;
}

/** The oracle's view of target position k: the realised item's probability and rank, and the top `topK` items. */
export function describeTarget(world: World, ev: UserEvents, k: number, topK: number): TargetTruth {
  const p = targetDistribution(world, ev, k);
  const target = ev.item[k]!;
  const pt = p[target]!;
  let rank = 1;
  for (let i = 0; i < p.length; i++) if (p[i]! > pt || (p[i] === pt && i < target)) rank++;
  const order = topIndices(p, topK);
  const reid = world.items.reid;
  return { position: k, itemReid: reid[target]!, prob: pt, rank, top: order.map((i) => [reid[i]!, p[i]!]) };
}

/** The last two clicks (action >= 1): the test target and, before it, the validation target. */
export function targetPositions(ev: UserEvents): { valid: number; test: number } {
  let test = -1;
  let valid = -1;
  for (let k = ev.length - 1; k >= 0; k--) {
    if (ev.action[k]! < 1) continue;
    if (test < 0) test = k;
    else {
      valid = k;
      break;
    }
  }
  return { valid, test };
}

/** Indices of the k largest values, best first (ties by lower index); one pass, no full sort. */
export function topIndices(p: Float64Array, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < p.length; i++) {
    if (best.length === k && p[i]! <= p[best[k - 1]!]!) continue;
    let j = best.length === k ? k - 1 : best.length;
    while (j > 0 && p[best[j - 1]!]! < p[i]!) j--;
    best.splice(j, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}
