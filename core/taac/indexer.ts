// indexer.pkl → what ingest checks against and writes out: user/item counts, raw ids by re-id, the
// creative-id → item-idx map, and the vocab size of every feature id. Layout (SPEC §3):
// {'f': defaultdict(dict){fid_str: {raw_value: reid}}, 'i': {raw_creative_id: reid},
//  'u': {raw_user_id: reid}, 'a': {raw_action: reid}}.
import { readFileSync } from 'node:fs';
import { PyDict, type PickleValue } from './pickle/values.ts';
import { readPickle } from './pickle/read.ts';
import { inputError } from '../stage/errors.ts';

export interface IndexerInfo {
  userCount: number; // user re-ids are 1..userCount
  itemCount: number; // item re-ids are 1..itemCount
  /** [userCount + 1] raw user id by re-id ('' for re-id 0 and any gap) */
  userRawIds: string[];
  /** [itemCount + 1] raw creative id by re-id (0 for re-id 0 and any gap; exact below 2^53) */
  itemRawIds: Float64Array;
  /** raw creative id (number, or bigint past 2^53) → item re-id */
  itemIdxByCid: ReadonlyMap<PickleValue, number>;
  /** feature id → vocab size (max re-id + 1, so 0 stays padding), in the pickle's key order */
  vocab: Map<string, number>;
}

function reid(file: string, where: string, v: PickleValue): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw inputError(file, null, `${where}: re-id must be an int >= 1, got ${String(v)}`);
  return v;
}

function dictAt(file: string, top: PyDict, key: string): PyDict {
  const v = top.get(key);
  if (!(v instanceof PyDict)) throw inputError(file, null, `expected a dict under key '${key}', got ${v === undefined ? 'nothing' : typeof v}`);
  return v;
}

/**
 * Max re-id of a {raw: reid} dict (checks every value). Re-ids are dense 1..size in real indexers; a max
 * past the entry count would size arrays by a corrupt value (2^31 ran the heap out), so it is refused.
 */
function maxReid(file: string, where: string, d: PyDict): number {
  let max = 0;
  for (const v of d.values()) max = Math.max(max, reid(file, where, v));
  if (max > d.size) throw inputError(file, null, `${where}: max re-id ${max} is larger than the dict's ${d.size} entries (re-ids must be 1..${d.size})`);
  return max;
}

/** Reads and checks indexer.pkl; a corrupt pickle's UserError names the file. */
export function readIndexer(file: string): IndexerInfo {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw inputError(file, null, 'not found (ingest needs indexer.pkl)');
  }
  const top = readPickle(bytes, file);
  if (!(top instanceof PyDict)) throw inputError(file, null, 'expected a dict with keys f, i, u');
  const u = dictAt(file, top, 'u');
  const i = dictAt(file, top, 'i');
  const f = dictAt(file, top, 'f');

  const userCount = maxReid(file, "'u'", u);
  const userRawIds: string[] = new Array<string>(userCount + 1).fill('');
  for (const [raw, id] of u) userRawIds[id as number] = String(raw);

  const itemCount = maxReid(file, "'i'", i);
  const itemRawIds = new Float64Array(itemCount + 1);
  for (const [raw, id] of i) {
    if (typeof raw !== 'number' && typeof raw !== 'bigint') throw inputError(file, null, `'i': raw creative id must be an int, got ${String(raw)}`);
    itemRawIds[id as number] = Number(raw);
  }

  const vocab = new Map<string, number>();
  for (const [fid, values] of f) {
    if (!(values instanceof PyDict)) throw inputError(file, null, `'f'[${String(fid)}]: expected a dict of feature values`);
    vocab.set(String(fid), maxReid(file, `'f'[${String(fid)}]`, values) + 1);
  }
  // 'i' is already a Map of the right shape and the largest thing in memory: reuse, don't copy.
  return { userCount, itemCount, userRawIds, itemRawIds, itemIdxByCid: i as ReadonlyMap<PickleValue, number>, vocab };
}
