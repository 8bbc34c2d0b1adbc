// End-to-end ingest on tiny raw folders: outputs, split roles, and every bad-input case (message
// names file:line and field; no output folder left behind).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Table } from 'apache-arrow';
import { columnValues, listColumn, readArrowFile, vectorColumn } from '../../../core/artifacts/arrow-io.ts';
import { eventShardPath, itemTablePath, Role, userShardPath } from '../../../core/artifacts/artifacts.ts';
import { writeDirAtomic } from '../../../core/stage/atomic.ts';
import { Progress } from '../../../core/stage/progress.ts';
import { ingestRaw, type IngestParams, type IngestResult } from '../../../stages/ingest/ingest.ts';
import { cid, goodEmb, goodLine, ITEMS, itemRec, makeRaw } from './make-raw.ts';

// columnValues hands back the IPC buffer, which is padded past numRows (8-byte alignment): trim it.
const col = <T extends Int8Array | Int32Array | Float64Array>(t: Table, name: string): T => columnValues<T>(t, name).subarray(0, t.numRows) as T;

const defaults: IngestParams = { mm_emb_id: [], on_bad_line: 'error', shard_users: 2, target_min_action: 1, io_concurrency: 2 };
const quiet = (): Progress => new Progress('ingest', 1e9, () => undefined);
const run = (raw: string, out: string, over: Partial<IngestParams> = {}): Promise<IngestResult> =>
  writeDirAtomic(out, (tmp) => ingestRaw(raw, tmp, { ...defaults, ...over }, quiet()));

/** Asserts the run fails with a message matching `message` and leaves no output folder. */
async function assertFails(raw: string, out: string, message: RegExp, over: Partial<IngestParams> = {}): Promise<void> {
  await assert.rejects(run(raw, out, over), (e: Error) => {
    assert.equal(e.name, 'UserError', e.stack);
    assert.match(e.message, message);
    assert.ok(!e.message.includes('\n'), 'one-line message');
    return true;
  });
  assert.ok(!existsSync(out), 'no output folder after a failure');
  assert.ok(!existsSync(join(out, '..', `.out.tmp-${process.pid}`)), 'no temp folder left');
}

const threeUsers = [goodLine(2, [0, 1, 0, 1, 0, 1, 0]), goodLine(1, [0, 0, 1]), goodLine(3, [0, 0])].join('\n') + '\n';

test('ingests events, users and items with leave-last-out roles and a manifest', async () => {
  const { raw, out } = makeRaw({ seq: threeUsers, emb81: goodEmb(4) });
  const m = await run(raw, out, { mm_emb_id: ['81'] });
  assert.equal(m.users, 3);
  assert.equal(m.events, 12);
  assert.deepEqual(m.shards.map((s) => [s.name, s.users, s.events]), [['part-00000', 2, 10], ['part-00001', 1, 2]]);
  assert.deepEqual(m.splits, { train_events: 3 + 3 + 2, valid_targets: 1, test_targets: 1, users_without_targets: 1, users_with_one_target: 1 });
  assert.deepEqual(m.features.user_sparse, ['103']);
  assert.deepEqual(m.features.user_array, ['106']);
  assert.deepEqual(m.features.item_sparse, ['100', '101']);
  assert.deepEqual(m.features.mm, { '81': 4 });
  assert.equal(m.vocab['100'], 6);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')), m);

  const ev = readArrowFile(eventShardPath(out, 'part-00000'));
  assert.deepEqual([...col<Int32Array>(ev, 'user')], [2, 2, 2, 2, 2, 2, 2, 1, 1, 1]);
  assert.deepEqual([...col<Int32Array>(ev, 'position')], [0, 1, 2, 3, 4, 5, 6, 0, 1, 2]);
  assert.deepEqual([...col<Int8Array>(ev, 'action')], [0, 1, 0, 1, 0, 1, 0, 0, 0, 1]);
  const { train, valid, between, test: tst, after } = Role;
  assert.deepEqual([...col<Int8Array>(ev, 'role')], [train, train, train, valid, between, tst, after, train, train, train]);

  const us = readArrowFile(userShardPath(out, 'part-00000'));
  assert.deepEqual([...col<Int32Array>(us, 'f103')], [2, 1]);
  assert.deepEqual(us.getChild('user_id')!.toArray(), ['user_00000002', 'user_00000001']);
  assert.deepEqual([...col<Int32Array>(us, 'line')], [0, 1]);
  const f106 = listColumn(us, 'f106');
  assert.deepEqual([...f106.offsets], [0, 2, 4]);

  const items = readArrowFile(itemTablePath(out));
  assert.equal(items.numRows, ITEMS + 1);
  assert.equal(col<Float64Array>(items, 'item_id')[3], cid(3));
  assert.deepEqual([...col<Int32Array>(items, 'f100')], [0, 2, 3, 4, 5, 1, 2]);
  const v = vectorColumn(items, 'f81');
  assert.equal(v.dim, 4);
  assert.deepEqual([...v.values.subarray(2 * 4, 3 * 4)].map((x) => +x.toFixed(3)), [1, 1.1, 1.2, 1.3]);
  assert.deepEqual([...col<Int8Array>(items, 'has_f81')], [0, 1, 1, 1, 1, 1, 1]);
  for (const name of ['events-00000', 'events-00001', 'users-00000', 'users-00001', 'items']) assert.ok(existsSync(join(out, 'parquet', `${name}.parquet`)), name);
});

test('rerun gives byte-identical files', async () => {
  const { raw, out } = makeRaw({ seq: threeUsers, emb81: goodEmb(4) });
  await run(raw, out, { mm_emb_id: ['81'] });
  const files = ['manifest.json', 'events/part-00000.arrow', 'users/part-00001.arrow', 'items/part-00000.arrow', 'parquet/events-00000.parquet', 'parquet/users-00000.parquet', 'parquet/items.parquet'];
  const bytes = (f: string): Uint8Array => new Uint8Array(readFileSync(join(out, f)));
  const first = files.map(bytes);
  await run(raw, out, { mm_emb_id: ['81'] });
  files.forEach((f, k) => {
    const again = bytes(f);
    assert.ok(again.length === first[k]!.length && again.every((b, j) => b === first[k]![j]), f);
  });
});

test('BOM and CRLF are accepted; a line without a profile record is fine', async () => {
  const noProfile = JSON.stringify([itemRec(4, 1, 1, 10), itemRec(4, 2, 1, 11)]);
  const { raw, out } = makeRaw({ seq: '\ufeff' + [goodLine(2, [0, 1, 1]), noProfile].join('\r\n') + '\r\n' });
  const m = await run(raw, out);
  assert.equal(m.users, 2);
  assert.equal(m.users_with_profile, 1);
  assert.equal(m.splits.valid_targets, 2);
});

test('an array user feature first seen after the first shard rewrites the earlier shards', async () => {
  const sparseFirst = (u: number): string => JSON.stringify([itemRec(u, 1, 0, 1), [u, null, { '103': 1, '106': 3 }, null, null, 2]]);
  const { raw, out } = makeRaw({ seq: [sparseFirst(1), sparseFirst(2), goodLine(3, [0])].join('\n') });
  const m = await run(raw, out);
  assert.deepEqual(m.features.user_array, ['106']);
  const first = listColumn(readArrowFile(userShardPath(out, 'part-00000')), 'f106');
  assert.deepEqual([...first.offsets], [0, 1, 2]);
  assert.deepEqual([...first.values], [3, 3]);
});

const line2 = (bad: string): string => [goodLine(1, [0, 1]), bad, goodLine(3, [1])].join('\n') + '\n';
const badLines: [string, string, RegExp][] = [
  ['truncated JSON', goodLine(2, [0, 1]).slice(0, -9), /seq\.jsonl:2: invalid JSON/],
  ['not an array', '{"user": 2}', /seq\.jsonl:2: expected a JSON array of records/],
  ['wrong record arity', JSON.stringify([[2, 1, null, {}, 0]]), /seq\.jsonl:2: record\[0\]: expected 6 fields/],
  ['string id', JSON.stringify([[2, '1', null, {}, 0, 5]]), /seq\.jsonl:2: record\[0\]: item_id must be an int/],
  ['float id', JSON.stringify([[2.5, 1, null, {}, 0, 5]]), /seq\.jsonl:2: record\[0\]: user_id must be an int/],
  ['negative feature value', JSON.stringify([[2, 1, null, { '100': -3 }, 0, 5]]), /seq\.jsonl:2: record\[0\]\.item_feature\["100"\] must be an int >= 0, got -3/],
  ['unknown action', JSON.stringify([itemRec(2, 1, 5, 5)]), /seq\.jsonl:2: record\[0\]: action_type must be 0, 1 or 2, got 5/],
  ['decreasing timestamps', JSON.stringify([itemRec(2, 1, 0, 9), itemRec(2, 2, 0, 8)]), /seq\.jsonl:2: record\[1\]: timestamp 8 is before/],
  ['item id past the indexer', JSON.stringify([itemRec(2, ITEMS + 1, 0, 9)]), /seq\.jsonl:2: record\[0\]: item_id must be an int in 1\.\.6/],
  ['duplicate user', goodLine(1, [0]), /seq\.jsonl:2: user_id 1 already had line 1/],
  ['empty line', '', /seq\.jsonl:2: empty line/],
  ['item feature id in a profile', JSON.stringify([[2, null, { '100': 1 }, null, null, 1]]), /seq\.jsonl:2: user_feature\["100"\]: feature id is an item/],
];
for (const [name, bad, message] of badLines) {
  test(`bad line stops the stage: ${name}`, async () => {
    const { raw, out } = makeRaw({ seq: line2(bad) });
    await assertFails(raw, out, message);
  });
}

test('on_bad_line: skip counts and reports every skipped line', async () => {
  const seq = [goodLine(1, [0, 1]), '[[1, 2', JSON.stringify([itemRec(2, 1, 9, 1)]), goodLine(3, [1, 1])].join('\n') + '\n';
  const { raw, out } = makeRaw({ seq });
  const m = await run(raw, out, { on_bad_line: 'skip' });
  assert.equal(m.users, 2);
  assert.equal(m.lines, 4);
  assert.deepEqual(m.skipped_lines.map((s) => [s.file, s.line]), [['seq.jsonl', 2], ['seq.jsonl', 3]]);
  assert.match(m.skipped_lines[1]!.reason, /action_type must be 0, 1 or 2, got 9/);
});

test('empty seq.jsonl is an error', async () => {
  const { raw, out } = makeRaw({ seq: '' });
  await assertFails(raw, out, /seq\.jsonl: empty file/);
});

for (const name of ['seq.jsonl', 'indexer.pkl', 'item_feat_dict.json']) {
  test(`missing ${name} is named`, async () => {
    const { raw, out } = makeRaw({ seq: threeUsers });
    rmSync(join(raw, name));
    await assertFails(raw, out, new RegExp(`${name.replace('.', '\\.')}: not found`));
  });
}

test('missing creative_emb folder for an mm_emb_id is named', async () => {
  const { raw, out } = makeRaw({ seq: threeUsers });
  await assertFails(raw, out, /creative_emb: not found \(mm_emb_id lists 81/, { mm_emb_id: ['81'] });
});

test('a corrupt pickle names the file', async () => {
  const { raw, out } = makeRaw({ seq: threeUsers });
  const bytes = new Uint8Array(readFileSync(join(raw, 'indexer.pkl')));
  writeFileSync(join(raw, 'indexer.pkl'), bytes.subarray(0, bytes.length >> 1));
  await assertFails(raw, out, /indexer\.pkl.*truncated/);
});

test('seq_offsets.pkl that does not match the line starts is named with the first bad index', async () => {
  const { raw, out } = makeRaw({ seq: threeUsers });
  const other = makeRaw({ seq: [goodLine(2, [0]), goodLine(1, [0]), goodLine(3, [0])].join('\n') + '\n' });
  writeFileSync(join(raw, 'seq_offsets.pkl'), new Uint8Array(readFileSync(join(other.raw, 'seq_offsets.pkl'))));
  await assertFails(raw, out, /seq_offsets\.pkl: offset\[1\] = \d+ but line 2 of .*seq\.jsonl starts at byte \d+/);
});

test('emb lines without emb and unknown creative ids are counted, not errors', async () => {
  const emb = goodEmb(4) + JSON.stringify({ anonymous_cid: cid(2) }) + '\n' + JSON.stringify({ anonymous_cid: 5, emb: [0, 0, 0, 0] }) + '\n';
  const { raw, out } = makeRaw({ seq: threeUsers, emb81: emb });
  const m = await run(raw, out, { mm_emb_id: ['81'] });
  assert.deepEqual(m.mm_stats['81'], { parts: 1, vectors: ITEMS, lines_without_emb: 1, unknown_cids: 1, duplicate_cids: 0 });
});

test('an emb vector of the wrong length stops with file:line', async () => {
  const emb = goodEmb(4).split('\n');
  emb[2] = JSON.stringify({ anonymous_cid: cid(3), emb: [1, 2, 3] });
  const { raw, out } = makeRaw({ seq: threeUsers, emb81: emb.join('\n') });
  await assertFails(raw, out, /emb_81_32\/part-00000:3: emb has 3 values but the first vector of feature 81 had 4/, { mm_emb_id: ['81'] });
});

test('bad item_feat_dict.json values are named', async () => {
  const { raw, out } = makeRaw({ seq: threeUsers });
  writeFileSync(join(raw, 'item_feat_dict.json'), '{"1": {"100": 2}, "2": {"100": 1.5}}');
  await assertFails(raw, out, /item_feat_dict\.json: byte \d+: item "2" feature "100": expected an int >= 0, got 1\.5/);
  writeFileSync(join(raw, 'item_feat_dict.json'), '{"1": {"100": 2}, "2": {"100"');
  await assertFails(raw, out, /item_feat_dict\.json: byte \d+: expected ':', got end of file/);
});

test('main.ts: one-line error and exit 1; success prints one summary line', () => {
  const { raw, out } = makeRaw({ seq: line2('{"x": 1}') });
  const params = join(raw, '..', 'params.yaml');
  const yaml = readFileSync(new URL('../../../params.yaml', import.meta.url), 'utf8').replace(/^mm_emb_id: .*$/m, 'mm_emb_id: []');
  writeFileSync(params, yaml);
  const main = new URL('../../../stages/ingest/main.ts', import.meta.url).pathname;
  const bad = spawnSync(process.execPath, ['--import', 'tsx', main, raw, out, '--params', params], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr.trim(), /^\[ingest\] error: .*seq\.jsonl:2: expected a JSON array of records, got \{"x":1\}$/m);
  assert.ok(!existsSync(out));
  writeFileSync(join(raw, 'seq.jsonl'), threeUsers);
  rmSync(join(raw, 'seq_offsets.pkl'));
  mkdirSync(out); // an existing output folder is replaced whole
  const ok = spawnSync(process.execPath, ['--import', 'tsx', main, raw, out, '--params', params], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /\[ingest\] 3 users, 12 item records, 6 items in 1 shard\(s\)/);
  assert.ok(existsSync(join(out, 'manifest.json')));
});
