// Which user feature ids are sparse (one id) and which are arrays (several ids) is data, not a
// hard-coded list (SPEC §3): a fid is an array feature once any profile gives it an array. Shards
// are written as the data streams, so a shard is written with the layout known so far; at the end,
// shards whose layout differs from the final one are rewritten (rare: it takes an array fid whose
// first array appears after the first shard).
import { sortFids } from './item-table.ts';

export interface UserLayout {
  sparse: string[];
  array: string[];
}

export class UserLayoutTracker {
  private readonly arrays = new Set<string>();
  private readonly profileFids = new Set<string>();

  /**
   * @param candidates user fid candidates: indexer fids that are neither item features (of
   *   item_feat_dict.json) nor multimodal ids
   */
  constructor(readonly candidates: ReadonlySet<string>) {}

  see(fid: string, isArray: boolean): void {
    this.profileFids.add(fid);
    if (isArray) this.arrays.add(fid);
  }

  /**
   * The layout as known now. Candidates used in item records and never in a profile are item
   * features the dict missed, not user features.
   */
  current(itemRecordFids: ReadonlySet<string>): UserLayout {
    const fids = sortFids([...this.candidates].filter((f) => this.profileFids.has(f) || !itemRecordFids.has(f)));
    return { sparse: fids.filter((f) => !this.arrays.has(f)), array: fids.filter((f) => this.arrays.has(f)) };
  }
}

export function sameLayout(a: UserLayout, b: UserLayout): boolean {
  return a.sparse.join() === b.sparse.join() && a.array.join() === b.array.join();
}
