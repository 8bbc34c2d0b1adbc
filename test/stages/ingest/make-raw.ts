// Tiny TAAC-format raw folders for ingest tests: a consistent indexer.pkl (written with
// writePickle), seq.jsonl from given lines, item_feat_dict.json and optional creative_emb parts.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PyDefaultDict, PyDict, type PickleValue } from '../../../core/taac/pickle/values.ts';
import { writePickle } from '../../../core/taac/pickle/write.ts';

export const USERS = 4;
export const ITEMS = 6;
/** item fids and user fids of the tiny indexer, each with vocab 1..5 */
export const ITEM_FIDS = ['100', '101'];
export const USER_FIDS = ['103', '106'];

export const cid = (item: number): number => 20000000000 + item;

/** An item record [u, i, null, {100: .., 101: ..}, action, ts]. */
export function itemRec(u: number, i: number, action: number, ts: number): unknown[] {
  return [u, i, null, { '100': (i % 5) + 1, '101': 1 }, action, ts];
}

/** A user-profile record: 103 sparse, 106 array. */
export function userRec(u: number, ts: number): unknown[] {
  return [u, null, { '103': u, '106': [1, 2] }, null, null, ts];
}

/** A well-formed line for user `u`: items with actions, then the profile record last (as in TAAC). */
export function goodLine(u: number, actions: number[]): string {
  const recs: unknown[] = actions.map((a, k) => itemRec(u, (k % ITEMS) + 1, a, 1_700_000_000 + 60 * k));
  recs.push(userRec(u, 1_800_000_000));
  return JSON.stringify(recs);
}

export function writeIndexer(file: string): void {
  const f = new PyDefaultDict('dict');
  for (const fid of [...ITEM_FIDS, ...USER_FIDS]) f.set(fid, new PyDict([1, 2, 3, 4, 5].map((v) => [Number(fid) * 1000 + v, v] as [PickleValue, PickleValue])));
  const i = new PyDict(Array.from({ length: ITEMS }, (_, k) => [cid(k + 1), k + 1] as [PickleValue, PickleValue]));
  const u = new PyDict(Array.from({ length: USERS }, (_, k) => [`user_${String(k + 1).padStart(8, '0')}`, k + 1] as [PickleValue, PickleValue]));
  writeFileSync(file, writePickle(new PyDict([['f', f], ['i', i], ['u', u], ['a', new PyDict([[1, 1], [0, 2]])]]), { protocol: 4 }));
}

export interface RawOptions {
  /** seq.jsonl text (joined as given) */
  seq: string;
  /** write seq_offsets.pkl with the true line starts (default true) */
  offsets?: boolean;
  /** creative_emb/emb_81_8/part-00000 text, if any */
  emb81?: string;
}

export function goodEmb(dim = 4): string {
  return Array.from({ length: ITEMS }, (_, k) => JSON.stringify({ anonymous_cid: cid(k + 1), emb: Array.from({ length: dim }, (_, j) => k + j / 10) })).join('\n') + '\n';
}

/** Writes a raw folder under a fresh temp dir and returns { raw, out } paths (out not created). */
export function makeRaw(opts: RawOptions): { raw: string; out: string } {
  const root = mkdtempSync(join(tmpdir(), 'ingest-test-'));
  const raw = join(root, 'raw');
  mkdirSync(raw);
  writeFileSync(join(raw, 'seq.jsonl'), opts.seq);
  writeIndexer(join(raw, 'indexer.pkl'));
  const feats: Record<string, Record<string, number>> = {};
  for (let i = 1; i <= ITEMS; i++) feats[String(i)] = { '100': (i % 5) + 1, '101': 1 };
  writeFileSync(join(raw, 'item_feat_dict.json'), JSON.stringify(feats));
  if (opts.offsets ?? true) {
    const starts: number[] = [];
    const bytes = Buffer.from(opts.seq);
    for (let at = 0; at < bytes.length; ) {
      starts.push(at);
      const nl = bytes.indexOf(0x0a, at);
      at = nl < 0 ? bytes.length : nl + 1;
    }
    writeFileSync(join(raw, 'seq_offsets.pkl'), writePickle(starts, { protocol: 3 }));
  }
  if (opts.emb81 !== undefined) {
    mkdirSync(join(raw, 'creative_emb', 'emb_81_32'), { recursive: true });
    writeFileSync(join(raw, 'creative_emb', 'emb_81_32', 'part-00000'), opts.emb81);
  }
  return { raw, out: join(root, 'out') };
}
