// The text of seq.jsonl / predict_seq.jsonl lines, item_feat_dict entries and predict_set lines,
// byte for byte in the real files' layout (Python json spacing, the real key orders).
import { Rng } from '../../core/random/rng.ts';
import { dumpsPy, PyObject, type PyJson } from './py-json.ts';
import { itemKeyOrder, reidOrRaw, type FeatureIndex, type ItemFeatures, type UserFeatures } from './features.ts';
import type { UserEvents } from './sequences.ts';
import type { World } from './world.ts';

/** RNG stream of user u's profile-record layout (apart from its events' stream). */
export function profileStream(u: number): number {
  return 600_000_000 + u;
}

/** Item feature dicts as Python-json text, one per item index (cold items may carry raw-value strings). */
export function formatItemFeatures(world: World, feats: ItemFeatures, index: FeatureIndex): string[] {
  const out: string[] = [];
  for (let i = 0; i < world.items.count; i++) {
    const entries: [string, PyJson][] = [];
    for (const fid of itemKeyOrder(feats.keyOrder[i]!)) {
      const v = feats.values.get(fid)![i]!;
      if (v >= 0) entries.push([fid, reidOrRaw(index, fid, v)]);
    }
    out.push(dumpsPy(new PyObject(entries)));
  }
  return out;
}

/** A user's profile dict: scalars for sparse fids, lists for array fids (as in the real data). */
function userFeatureObject(feats: ReturnType<UserFeatures['of']>, index: FeatureIndex, isArray: (fid: string) => boolean): PyObject {
  return new PyObject(
    feats.map(([fid, vals]): [string, PyJson] => {
      const ids = vals.map((v) => reidOrRaw(index, fid, v));
      return [fid, isArray(fid) ? ids : ids[0]!];
    }),
  );
}

export interface LineContext {
  world: World;
  itemFeatureText: string[];
  userFeats: UserFeatures;
  index: FeatureIndex;
  isArrayFid: (fid: string) => boolean;
}

/** How a user's profile record appears: usually last, timestamped after the last item; never without synth_user_profiles. */
type ProfilePlacement = 'last' | 'first' | 'none';

/**
 * One seq.jsonl line (with its final newline). `userField` is the user-id cell: a re-id, or a raw
 * 'user_%08d' string for the predict users that carry one. Items the indexer knows are written by
 * re-id; cold items by raw creative id.
 */
export function formatUserLine(ctx: LineContext, ev: UserEvents, userField: number | string): string {
  const { world } = ctx;
  const rng = new Rng(world.params.seed, profileStream(ev.user));
  const r = rng.next();
  const placement: ProfilePlacement = !world.params.synth_user_profiles || r < 0.03 ? 'none' : r < 0.06 ? 'first' : 'last';
  const f = rng.next();
  const features = f < 0.005 ? 'null' : f < 0.01 ? '{}' : dumpsPy(userFeatureObject(ctx.userFeats.of(ev.user), ctx.index, ctx.isArrayFid));
  const uid = dumpsPy(userField);
  const records: string[] = [];
  const profile = (ts: number): string => `[${uid}, null, ${features}, null, null, ${ts}]`;
  if (placement === 'first') records.push(profile(ev.ts[0]! - 60 - rng.int(86400)));
  for (let k = 0; k < ev.length; k++) {
    const i = ev.item[k]!;
    const reid = world.items.reid[i]!;
    const itemCell = reid > 0 ? String(reid) : String(world.items.rawId[i]!);
    records.push(`[${uid}, ${itemCell}, null, ${ctx.itemFeatureText[i]!}, ${ev.action[k]!}, ${ev.ts[k]!}]`);
  }
  if (placement === 'last') records.push(profile(ev.ts[ev.length - 1]! + 600 + rng.int(129600)));
  return '[' + records.join(', ') + ']\n';
}

/** One predict_set.jsonl line: a candidate's raw creative id, its retrieval id and its features. */
export function formatCandidateLine(world: World, i: number, retrievalId: number, itemFeatureText: string): string {
  return `{"creative_id": ${world.items.rawId[i]!}, "retrieval_id": ${retrievalId}, "features": ${itemFeatureText}}\n`;
}
