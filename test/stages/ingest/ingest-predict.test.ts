// ingest's predict output on a tiny raw folder: the predict users as shards (read through the same record
// check as seq.jsonl, with predict_seq's leniency), the candidates, the cold creatives' items table and the
// manifest; bad predict lines stop ingest whatever on_bad_line says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { columnValues, listColumn, readArrowFile } from '../../../core/artifacts/arrow-io.ts';
import { candidatesPath, eventShardPath, itemTablePath, userShardPath, type PredictIngestManifest } from '../../../core/artifacts/artifacts.ts';
import { writeDirAtomic } from '../../../core/stage/atomic.ts';
import { Progress } from '../../../core/stage/progress.ts';
import { ingestRaw, readRawIndexer, type IngestParams } from '../../../stages/ingest/ingest.ts';
import { ingestPredict } from '../../../stages/ingest/ingest-predict.ts';
import { cid, goodLine, makeRaw } from './make-raw.ts';

const col = <T extends Int8Array | Int32Array | Float64Array>(t: Table, name: string): T => columnValues<T>(t, name).subarray(0, t.numRows) as T;
const lists = (t: Table, name: string): number[][] => {
  const { offsets, values } = listColumn(t, name);
  return Array.from({ length: t.numRows }, (_, r) => [...values.subarray(offsets[r]!, offsets[r + 1]!)]);
};

const params: IngestParams = { mm_emb_id: [], on_bad_line: 'error', shard_users: 2, target_min_action: 1, io_concurrency: 2 };
const quiet = (): Progress => new Progress('ingest', 1e9, () => undefined);
const seq = [goodLine(2, [0, 1, 0, 1]), goodLine(1, [0, 1, 1])].join('\n') + '\n';
const COLD_A = 88888888888;
const COLD_B = 99999999999;

/** ingest then its predict pass, as main.ts runs them; returns the predict folder and manifest. */
async function run(raw: string, out: string, over: Partial<IngestParams> = {}): Promise<{ dir: string; m: PredictIngestManifest }> {
  const p = { ...params, ...over };
  const indexer = readRawIndexer(raw);
  const train = await writeDirAtomic(join(out, 'ingest'), (tmp) => ingestRaw(raw, tmp, p, quiet(), indexer));
  const dir = join(out, 'ingest-predict');
  const m = await writeDirAtomic(dir, (tmp) => ingestPredict(raw, tmp, train, indexer, p, quiet()));
  return { dir, m };
}

function writePredictFiles(raw: string, seqLines: unknown[][][]): void {
  writeFileSync(join(raw, 'predict_seq.jsonl'), seqLines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const set = [
    { creative_id: cid(1), retrieval_id: 0, features: { '100': 2 } },
    { creative_id: COLD_A, retrieval_id: 1, features: { '100': 'z', '101': 3, '103': 1 } },
    { creative_id: cid(1), retrieval_id: 2, features: {} },
    { creative_id: COLD_B, retrieval_id: 3, features: { '100': 4, '101': [5] } },
  ];
  writeFileSync(join(raw, 'predict_set.jsonl'), set.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

const predictUsers: unknown[][][] = [
  [
    ['user_00000042', 3, null, { '100': 1 }, 0, 100],
    ['user_00000042', cid(5), null, null, 1, 160],
    ['user_00000042', COLD_B, null, { '100': 1 }, 0, 220], // its predict_set features win (registered first)
    ['user_00000042', 77777777777, null, { '100': 3, '101': 'new' }, 0, 280], // cold, only in the history
    ['user_00000042', null, { '103': 'new', '106': [4, 'q', 1] }, null, null, 900],
  ],
  [[2, COLD_A, null, null, 2, 50], [2, 1, null, null, 0, 60]],
  [[3, null, null, null, null, 5]], // a user with no item records and an empty profile
];

test('predict users become shards like the training users: events, users with coded features, raw user ids', async () => {
  const { raw, out } = makeRaw({ seq });
  writePredictFiles(raw, predictUsers);
  const { dir, m } = await run(raw, out);
  assert.deepEqual({ ...m, source: '' }, {
    source: '', files: { seq: 'predict_seq.jsonl', set: 'predict_set.jsonl' }, items: 6, users: 3, events: 6,
    shards: [{ name: 'part-00000', users: 2, events: 6 }, { name: 'part-00001', users: 1, events: 0 }],
    candidates: 3, duplicate_candidates: 1, cold_items: 3,
  });
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')), m);
  const ev = readArrowFile(eventShardPath(dir, 'part-00000'));
  assert.deepEqual([...col<Int32Array>(ev, 'user')], [0, 0, 0, 0, 1, 1], 'the position among the predict users');
  assert.deepEqual([...col<Int32Array>(ev, 'item')], [3, 5, 8, 9, 7, 1], 'a re-id, a known creative, cold rows past the 6 catalogue items');
  assert.deepEqual([...col<Int8Array>(ev, 'action')], [0, 1, 0, 0, 2, 0]);
  assert.deepEqual([...col<Int8Array>(ev, 'role')], [0, 0, 0, 0, 0, 0], 'every record is history');
  const users = readArrowFile(userShardPath(dir, 'part-00000'));
  assert.deepEqual([...users.getChild('user_id')!.toArray()], ['user_00000042', 'user_00000002']);
  assert.deepEqual([...col<Int8Array>(users, 'has_profile')], [1, 0]);
  assert.deepEqual([...col<Int32Array>(users, 'f103')], [0, 0], "an unseen value is missing (0); the features' default applies later");
  assert.deepEqual(lists(users, 'f106'), [[4, 0, 1], []]);
  const last = readArrowFile(userShardPath(dir, 'part-00001'));
  assert.deepEqual([...col<Int32Array>(last, 'user')], [2]);
  assert.deepEqual([...col<Int8Array>(last, 'has_profile')], [0]);
});

test('candidates in file order (repeats dropped) and the cold creatives\' items table, coded against the indexer', async () => {
  const { raw, out } = makeRaw({ seq });
  writePredictFiles(raw, predictUsers);
  const { dir } = await run(raw, out);
  const cand = readArrowFile(candidatesPath(dir));
  assert.deepEqual([...col<Float64Array>(cand, 'creative_id')], [cid(1), COLD_A, COLD_B]);
  assert.deepEqual([...col<Int32Array>(cand, 'item')], [1, 7, 8]);
  const items = readArrowFile(itemTablePath(dir));
  assert.deepEqual(items.schema.fields.map((f) => f.name), ['item', 'item_id', 'f100', 'f101']);
  assert.deepEqual([...col<Int32Array>(items, 'item')], [7, 8, 9]);
  assert.deepEqual([...col<Float64Array>(items, 'item_id')], [COLD_A, COLD_B, 77777777777]);
  assert.deepEqual([...col<Int32Array>(items, 'f100')], [0, 4, 3], 'a string value is missing');
  assert.deepEqual([...col<Int32Array>(items, 'f101')], [3, 0, 0], 'a list where an int is expected, and a string, are missing');
});

test('no predict files: a manifest saying so; a bad predict line stops ingest naming file:line, even with on_bad_line: skip', async () => {
  const none = makeRaw({ seq });
  const { m } = await run(none.raw, none.out);
  assert.equal(m.files, null);
  assert.deepEqual([m.users, m.shards, m.candidates, m.cold_items], [0, [], 0, 0]);

  const { raw, out } = makeRaw({ seq });
  writePredictFiles(raw, [...predictUsers, [[1, 2, null, null, 7, 5]]]);
  await assert.rejects(run(raw, out, { on_bad_line: 'skip' }), /predict_seq\.jsonl:4: record\[0\]: action_type must be 0, 1 or 2, got 7/);
  rmSync(join(raw, 'predict_seq.jsonl'));
  await assert.rejects(run(raw, out), /predict_seq\.jsonl: not found \(competition inference needs both/);
});
