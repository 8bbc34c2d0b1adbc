// Item rows of the creatives the competition's predict files name (SPEC §3): a re-id (1..items) or a raw
// creative id the indexer maps is its catalogue row; any other creative is cold and gets the next row
// past the catalogue, once, with the features it first came with (its predict_set line, or its first
// predict_seq record). Candidates are registered first, so their cold rows come first.
import type { PickleValue } from '../../core/taac/pickle/values.ts';
import type { RawFeatures } from './records.ts';

/** A creative the indexer does not know, with its own features as written in the predict files. */
export interface ColdCreative {
  creativeId: number;
  features: RawFeatures;
}

export class CatalogueRows {
  private readonly coldRow = new Map<number, number>();
  /** the cold creatives in row order (row = items + 1 + position) */
  readonly cold: ColdCreative[] = [];

  constructor(private readonly itemCount: number, private readonly idxByCreative: ReadonlyMap<PickleValue, number>) {}

  /** Row of a creative given by its raw id. */
  ofCreative(creativeId: number, features: RawFeatures | null): number {
    const known = this.idxByCreative.get(creativeId);
    if (known !== undefined) return known;
    let row = this.coldRow.get(creativeId);
    if (row === undefined) {
      row = this.itemCount + 1 + this.cold.length;
      this.coldRow.set(creativeId, row);
      this.cold.push({ creativeId, features: features ?? {} });
    }
    return row;
  }

  /** Row of a predict_seq item cell: a re-id when within the item count, else a raw creative id. */
  ofCell(cell: number, features: RawFeatures | null): number {
    return cell <= this.itemCount ? cell : this.ofCreative(cell, features);
  }
}
