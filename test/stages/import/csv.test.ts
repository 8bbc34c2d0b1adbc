// A hand-made CSV through import: users and items re-indexed by first appearance, each user's events
// ordered by (timestamp, file order), every row a click without an action column, and pickles that
// both our reader and Python's pickle read back as the real indexer's shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PyDefaultDict, PyDict } from '../../../core/taac/pickle/values.ts';
import { readPickle } from '../../../core/taac/pickle/read.ts';
import { inputFolder, runImport, tempDir } from './import-fixture.ts';

const CSV = ['user_id,item_id,timestamp', 'u1,10,300', 'u2,20,100', 'u1,11,100', 'u3,10,50', 'u2,10,100', 'u1,12,200'].join('\n') + '\n';

test('CSV: exact seq.jsonl lines, offsets, indexer maps and item_feat_dict', async () => {
  const input = join(inputFolder({ 'log.csv': CSV }), 'log.csv');
  const out = join(tempDir(), 'raw');
  const s = await runImport(input, out);
  const seq = readFileSync(join(out, 'seq.jsonl'), 'utf8');
  assert.deepEqual(seq.split('\n'), [
    '[[1, 3, null, null, 1, 100], [1, 4, null, null, 1, 200], [1, 1, null, null, 1, 300]]',
    '[[2, 2, null, null, 1, 100], [2, 1, null, null, 1, 100]]', // a tie keeps file order
    '[[3, 1, null, null, 1, 50]]',
    '',
  ]);
  const lines = seq.split('\n');
  assert.deepEqual(readPickle(readFileSync(join(out, 'seq_offsets.pkl'))), [0, lines[0]!.length + 1, lines[0]!.length + lines[1]!.length + 2]);
  const indexer = readPickle(readFileSync(join(out, 'indexer.pkl'))) as PyDict;
  assert.ok(indexer.get('f') instanceof PyDefaultDict);
  assert.equal((indexer.get('f') as PyDefaultDict).size, 0);
  assert.deepEqual([...(indexer.get('u') as PyDict)], [['u1', 1], ['u2', 2], ['u3', 3]]);
  assert.deepEqual([...(indexer.get('i') as PyDict)], [[10, 1], [20, 2], [11, 3], [12, 4]]);
  assert.deepEqual([...(indexer.get('a') as PyDict)], [[1, 1], [0, 2]]);
  assert.equal(readFileSync(join(out, 'item_feat_dict.json'), 'utf8'), '{"1": {}, "2": {}, "3": {}, "4": {}}');
  assert.equal(s.users, 3);
  assert.equal(s.items, 4);
  assert.equal(s.events, 6);
  assert.equal(s.time, 'column');
  assert.deepEqual(s.actions, { exposure: 0, click: 6, conversion: 0 });
});

test('CSV: Python pickle reads indexer.pkl (protocol 4, defaultdict) and seq_offsets.pkl (protocol 3)', async (t) => {
  if (spawnSync('python3', ['--version']).status !== 0) return t.skip('python3 not on PATH');
  const dir = inputFolder({ 'log.csv': CSV });
  const out = join(dir, 'raw');
  await runImport(join(dir, 'log.csv'), out);
  const py = [
    'import json, pickle, sys, collections',
    'raw = open(sys.argv[1] + "/indexer.pkl", "rb").read()',
    'ix = pickle.loads(raw)',
    'offs = pickle.loads(open(sys.argv[1] + "/seq_offsets.pkl", "rb").read())',
    'print(json.dumps({"proto": [raw[1], open(sys.argv[1] + "/seq_offsets.pkl", "rb").read()[1]],',
    '  "f": type(ix["f"]).__name__, "factory": ix["f"].default_factory.__name__,',
    '  "u": list(ix["u"].items()), "i": [[k, v, type(k).__name__] for k, v in ix["i"].items()], "a": list(ix["a"].items()), "offsets": offs}))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py, out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(got.proto, [4, 3]);
  assert.equal(got.f, 'defaultdict');
  assert.equal(got.factory, 'dict');
  assert.deepEqual(got.u, [['u1', 1], ['u2', 2], ['u3', 3]]);
  assert.deepEqual(got.i, [[10, 1, 'int'], [20, 2, 'int'], [11, 3, 'int'], [12, 4, 'int']]);
  assert.deepEqual(got.a, [[1, 1], [0, 2]]);
  assert.equal((got.offsets as number[]).length, 3);
});

test('no time column: file order with synthetic timestamps 1 s apart, and a notice', async () => {
  const dir = inputFolder({ 'log.tsv': 'userId\titemId\nb\tx\na\ty\nb\ty\n' });
  const out = join(dir, 'raw');
  const s = await runImport(join(dir, 'log.tsv'), out);
  assert.equal(s.time, 'synthetic');
  assert.match(s.notices.join('\n'), /time features carry no signal/);
  assert.deepEqual(readFileSync(join(out, 'seq.jsonl'), 'utf8').trim().split('\n'), [
    '[[1, 1, null, null, 1, 1704067200], [1, 2, null, null, 1, 1704067202]]',
    '[[2, 2, null, null, 1, 1704067201]]',
  ]);
});

test('raw item ids that are not integers: creative id = re-id, and item_ids.tsv maps them back', async () => {
  const dir = inputFolder({ 'log.csv': 'user,item,ts\n1,B00X,10\n1,A7,20\n2,B00X,30\n' });
  const out = join(dir, 'raw');
  const s = await runImport(join(dir, 'log.csv'), out);
  assert.equal(s.creative_ids, 're-id');
  const indexer = readPickle(readFileSync(join(out, 'indexer.pkl'))) as PyDict;
  assert.deepEqual([...(indexer.get('i') as PyDict)], [[1, 1], [2, 2]]);
  assert.equal(readFileSync(join(out, 'item_ids.tsv'), 'utf8'), 'item_reid\titem_id\n1\tB00X\n2\tA7\n');
});

test('an action column and --action-map: values mapped to 0/1/2, dropped rows left out', async () => {
  const dir = inputFolder({ 'log.csv': 'user_id,item_id,timestamp,rating\na,1,1,5\na,2,2,2\na,3,3,4\nb,1,4,1\nb,4,5,3\n' });
  const s = await runImport(join(dir, 'log.csv'), join(dir, 'raw'), { actionMap: 'rating>=4:1,rating=3:0,else:drop' });
  assert.equal(s.rows, 5);
  assert.equal(s.rows_dropped, 2);
  assert.deepEqual(s.actions, { exposure: 1, click: 2, conversion: 0 });
  assert.deepEqual(readFileSync(join(dir, 'raw', 'seq.jsonl'), 'utf8').trim().split('\n'), [
    '[[1, 1, null, null, 1, 1], [1, 2, null, null, 1, 3]]',
    '[[2, 3, null, null, 0, 5]]',
  ]);
  const d2 = inputFolder({ 'log.csv': 'user_id,item_id,behavior\na,1,view\na,2,buy\na,1,click\n' });
  const s2 = await runImport(join(d2, 'log.csv'), join(d2, 'raw'), { actionMap: 'view:0,click:1,buy:2' });
  assert.deepEqual(s2.actions, { exposure: 1, click: 1, conversion: 1 });
  assert.equal(s2.columns.action, 'behavior');
});
