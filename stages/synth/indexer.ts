// indexer.pkl as the real one is shaped: {'f': defaultdict(dict){fid: {raw: reid}}, 'i': {raw creative
// id: reid}, 'u': {'user_%08d': reid}, 'a': {1: 1, 0: 2}} (SPEC §3), written with pickle protocol 4.
import { PyDefaultDict, PyDict, type PickleValue } from '../../core/taac/pickle/values.ts';
import type { FeatureIndex } from './features.ts';
import { rawUserId } from './predict.ts';
import type { World } from './world.ts';

/**
 * Training users map to re-ids 1..synth_users; predict users written with a re-id are mapped too
 * (so result.json can name them), the raw-string ones are not.
 */
export function buildIndexer(world: World, index: FeatureIndex, predictIds: readonly (number | string)[]): PickleValue {
  const f = new PyDefaultDict('dict');
  for (const [fid, values] of index) f.set(fid, new PyDict(values));
  const i = new PyDict();
  const { items, users } = world;
  for (let r = 1; r <= items.trainCount; r++) i.set(items.rawId[items.byReid[r]!]!, r);
  const u = new PyDict();
  for (let k = 0; k < users.trainCount; k++) u.set(rawUserId(users.rawId[k]!), k + 1);
  predictIds.forEach((id, j) => {
    if (typeof id === 'number') u.set(rawUserId(users.rawId[users.trainCount + j]!), id);
  });
  return new PyDict([
    ['f', f],
    ['i', i],
    ['u', u],
    ['a', new PyDict([[1, 1], [0, 2]])],
  ]);
}
