// The CellRules of predict_seq.jsonl (SPEC §3): the same records as seq.jsonl, but the user cell may be a
// raw user id string, item cells may be raw creative ids above the item count (cold creatives get rows
// past the catalogue: catalogue-rows.ts), and feature values the indexer never saw are written as strings.
// Such values map to 0 (missing), so the model reads them as it reads any missing value: the feature's
// default. Profile features are kept in the training users' layout (a fid outside it is left out).
import type { UserLayout } from './user-layout.ts';
import type { CatalogueRows } from './catalogue-rows.ts';
import { type CellRules, LineError, type RecordLimits, show } from './records.ts';

/** A feature value as the model's code: an int in 1..vocab−1, else 0 (missing: strings, unseen ids). */
export function featureCode(v: unknown, vocab: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v < vocab ? v : 0;
}

/** An array feature's codes (a scalar counts as a one-value list; null or absent as none). */
export function featureCodes(v: unknown, vocab: number): number[] {
  const list = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return list.map((x) => featureCode(x, vocab));
}

/**
 * Rules for predict_seq.jsonl lines; the line's user is its raw user id (a re-id through the indexer's
 * 'u' map, else the cell as text). `rows` registers the cold creatives as they appear.
 */
export function predictRules(limits: RecordLimits, userRawIds: readonly string[], layout: UserLayout, rows: CatalogueRows): CellRules<string> {
  const sparse = new Set(layout.sparse);
  const array = new Set(layout.array);
  const vocab = (fid: string): number => limits.vocab.get(fid) ?? 0;
  return {
    user(cell, where) {
      if (typeof cell === 'string') return cell;
      if (!Number.isSafeInteger(cell)) throw new LineError(`${where}: user_id must be an int or a string, got ${show(cell)}`);
      return userRawIds[cell as number] || String(cell);
    },
    item(cell, features, where) {
      if (!Number.isSafeInteger(cell) || (cell as number) < 1) throw new LineError(`${where}: item_id must be an item re-id or a raw creative id (an int >= 1), got ${show(cell)}`);
      return rows.ofCell(cell as number, features);
    },
    profileValue(fid, v) {
      if (sparse.has(fid)) return featureCode(v, vocab(fid));
      if (array.has(fid)) return featureCodes(v, vocab(fid));
      return undefined;
    },
  };
}
