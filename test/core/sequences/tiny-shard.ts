// Shared by the sequence tests: a hand-made shard of three users and a five-item store, in memory.
//   user 0 (row 0, profile):    events 0..8, roles train×4, valid, between×2, test, after
//   user 1 (row 1, no profile): events 9..13, all train (fewer than two targets)
//   user 2 (row 2, profile):    events 14..15, valid then test (no training events)
import { Role } from '../../../core/artifacts/artifacts.ts';
import type { FeatureSchema } from '../../../core/model/config.ts';
import { ItemStore } from '../../../core/sequences/item-store.ts';
import type { UserShard } from '../../../core/sequences/user-shards.ts';

export const TINY_SCHEMA: FeatureSchema = {
  userSparse: [{ fid: '103', vocab: 4 }],
  userArray: [{ fid: '106', vocab: 5 }],
  userContinuous: [],
  itemSparse: [{ fid: '100', vocab: 5 }],
  itemArray: [],
  itemContinuous: [],
  itemMultimodal: [{ fid: '81', dim: 2 }],
  timeDiscrete: [{ fid: '201', vocab: 8 }, { fid: '204', vocab: 35 }, { fid: '206', vocab: 35 }],
  timeContinuous: ['205'],
  dynamicDiscrete: [{ fid: 'dyn_hot', vocab: 2 }],
  dynamicContinuous: ['dyn_ctr'],
  arrayLen: 2,
};

const { train, valid, between, test, after } = Role;

export function tinyShard(): UserShard {
  const role = [train, train, train, train, valid, between, between, test, after, train, train, train, train, train, valid, test];
  const E = role.length;
  const item = [1, 2, 3, 4, 5, 1, 2, 3, 4, 2, 3, 4, 5, 1, 3, 4];
  const action = [0, 1, 0, 0, 1, 0, 0, 2, 0, 0, 0, 1, 0, 0, 1, 1];
  const ts = Array.from({ length: E }, (_, e) => 1_700_000_000 + 100 * e * e); // strictly increasing gaps
  const time = new Int32Array(E * 3);
  for (let e = 0; e < E; e++) {
    time[e * 3] = 1 + (e % 7); // 201
    time[e * 3 + 2] = 9; // 206 (stored); 204 (column 1) stays 0: it is per cut
  }
  return {
    name: 'part-00000',
    users: 3,
    userIdx: Int32Array.from([7, 8, 9]),
    userId: ['u7', 'u8', 'u9'],
    eventStart: Int32Array.from([0, 9, 14]),
    eventEnd: Int32Array.from([9, 14, 16]),
    item: Int32Array.from(item),
    action: Int8Array.from(action),
    ts: Uint32Array.from(ts),
    role: Int8Array.from(role),
    time,
    hasProfile: Uint8Array.from([1, 0, 1]),
    userSparse: Int32Array.from([2, 1, 3]), // user 1: the default (1) already applied
    userArray: Int32Array.from([1, 2, 0, 0, 4, 0]),
    userContinuous: new Float32Array(0),
  };
}

/** Items 0..5: feature 100 = item % 5 (row 0 = padding), mm = [item, −item], dyn_hot = item is 5. */
export function tinyStore(): ItemStore {
  const rows = 6;
  const idx = Array.from({ length: rows }, (_, i) => i);
  return new ItemStore({
    schema: TINY_SCHEMA,
    rows,
    itemId: Float64Array.from(idx, (i) => 1000 + i),
    itemSparse: Int32Array.from(idx, (i) => i % 5),
    itemArray: new Int32Array(0),
    itemContinuous: new Float32Array(0),
    itemMultimodal: [Float32Array.from(idx.flatMap((i) => [i, -i]))],
    dynamicDiscrete: Int32Array.from(idx, (i) => (i === 5 ? 1 : 0)),
    dynamicContinuous: Float32Array.from(idx, (i) => i / 10),
  });
}
