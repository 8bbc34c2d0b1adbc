// A RecBole atomic triple (.inter + .item + .user) through import and then ingest: token, token_seq and
// float columns become item / user features that ingest's manifest lists, and user-profile records
// appear only for users with features.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirAtomic } from '../../../core/stage/atomic.ts';
import { Progress } from '../../../core/stage/progress.ts';
import { ingestRaw } from '../../../stages/ingest/ingest.ts';
import { inputFolder, runImport } from './import-fixture.ts';

const INTER = ['user_id:token\titem_id:token\trating:float\ttimestamp:float', '7\t100\t5\t881250949.0', '8\t101\t3\t881250950', '7\t101\t4\t881250951', '8\t102\t1\t881250952', '7\t102\t2\t881250953'].join('\n') + '\n';
const ITEM = ['item_id:token\ttitle:token_seq\tyear:token\tprice:float\temb:float_seq', '100\tToy Story\t1995\t9.5\t0.1 0.2', '101\tHeat\t1995\t3\t0.3 0.1', '102\tToy Soldiers\t1991\t\t0.2 0.2', '999\tNever Rated\t2000\t1\t0 0'].join('\n') + '\n';
const USER = ['user_id:token\tage:token\tgender:token', '7\t24\tM', '8\t\t'].join('\n') + '\n';

test('RecBole .inter + .item + .user → features in the TAAC files and in ingest manifest', async () => {
  const dir = inputFolder({ 'toy.inter': INTER, 'toy.item': ITEM, 'toy.user': USER });
  const raw = join(dir, 'raw');
  const s = await runImport(join(dir, 'toy.inter'), raw);
  assert.equal(s.format, 'recbole');
  assert.deepEqual(
    s.features.map((f) => [f.fid, f.entity, f.column, f.kind, f.values]),
    [['100', 'item', 'title', 'array', 4], ['101', 'item', 'year', 'sparse', 2], ['102', 'item', 'price', 'sparse', 2], ['103', 'user', 'age', 'sparse', 1], ['104', 'user', 'gender', 'sparse', 1]],
  );
  assert.match(s.notices.join('\n'), /emb \(float_seq\) skipped/);
  assert.match(s.notices.join('\n'), /1 item row\(s\) without events skipped/);
  assert.equal(s.profile_records, 1, 'user 8 has no feature values, so no profile record');
  // price deciles over {9.5, 3}: 3 → bucket 1, 9.5 → bucket 2; item 102 has no price
  assert.equal(
    readFileSync(join(raw, 'item_feat_dict.json'), 'utf8'),
    '{"1": {"100": [1, 2], "101": 1, "102": 2}, "2": {"100": [3], "101": 1, "102": 1}, "3": {"100": [1, 4], "101": 2}}',
  );
  const seq = readFileSync(join(raw, 'seq.jsonl'), 'utf8').trim().split('\n');
  assert.equal(seq[0], '[[1, 1, null, {"101": 1, "102": 2}, 1, 881250949], [1, 2, null, {"101": 1, "102": 1}, 1, 881250951], [1, 3, null, {"101": 2}, 1, 881250953], [1, null, {"103": 1, "104": 1}, null, null, 881250953]]');
  assert.equal(seq[1], '[[2, 2, null, {"101": 1, "102": 1}, 1, 881250950], [2, 3, null, {"101": 2}, 1, 881250952]]');

  const quiet = new Progress('ingest', 1e9, () => undefined);
  const params = { mm_emb_id: [], on_bad_line: 'error' as const, shard_users: 100, target_min_action: 1, io_concurrency: 1 };
  const m = await writeDirAtomic(join(dir, 'ingest'), (tmp) => ingestRaw(raw, tmp, params, quiet));
  assert.equal(m.users, 2);
  assert.equal(m.items, 3);
  assert.equal(m.events, 5);
  assert.equal(m.users_with_profile, 1);
  assert.deepEqual(m.features.item_sparse, ['101', '102']);
  assert.deepEqual(m.features.item_array, ['100']);
  assert.deepEqual(m.features.user_sparse, ['103', '104']);
});
