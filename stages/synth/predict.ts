// The competition's inference inputs: predict users (new users with their own histories) and the
// candidate set. Most predict users carry a re-id the indexer maps; a few carry a raw 'user_%08d'
// string the indexer has never seen, and their histories include cold creatives (raw ids above
// itemnum, unseen feature values as strings) — the cases SPEC §3 says readers must map to 0.
import { Rng } from '../../core/random/rng.ts';
import { WORLD, type World } from './world.ts';

/** share of a predict user's item records swapped for a cold creative of the same topic */
export const PREDICT_COLD_SHARE = 0.03;

/** The raw user id string the real indexer uses as a key. */
export function rawUserId(n: number): string {
  return `user_${String(n).padStart(8, '0')}`;
}

/**
 * The user-id cell of each predict user, by predict index: a re-id (trainCount + 1, + 2, … in
 * order) or the raw id string. Stream `seed/8`.
 */
export function predictUserIds(world: World): (number | string)[] {
  const rng = new Rng(world.params.seed, 8);
  const { users } = world;
  const out: (number | string)[] = [];
  let next = users.trainCount + 1;
  for (let j = 0; j < users.count - users.trainCount; j++) {
    const u = users.trainCount + j;
    out.push(rng.next() < WORLD.rawIdPredictShare ? rawUserId(users.rawId[u]!) : next++);
  }
  return out;
}

/** Candidate item indices in retrieval-id order: every training item, then the cold items, shuffled. Stream `seed/9`. */
export function candidateOrder(world: World): number[] {
  return new Rng(world.params.seed, 9).shuffle(Array.from({ length: world.items.count }, (_, i) => i));
}
