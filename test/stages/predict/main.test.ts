// End to end: synth → ingest → features (with their predict folders) → a freshly initialised tiny model → the
// predict stage, run as `dvc repro` would run it. Checks result.json against the predict files themselves
// (read here independently of ingest), byte-identical reruns, the no-predict-files note, and that missing or
// mismatched inputs stop the stage with one clear line and leave nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readIndexer } from '../../../core/taac/indexer.ts';
import { type Artifacts, TINY_PARAMS, predictArgs, runStage, tinyStageRun, writeParamsFile } from '../../helpers/tiny-artifacts.ts';

const run = tinyStageRun('predict', predictArgs);
const out = (name: string): string => join(run.a.dir, name);

type Result = { top10s: number[][]; user: string[] };
const readResult = (runDir: string): Result => JSON.parse(readFileSync(join(out(runDir), 'result.json'), 'utf8')) as Result;
const predictLines = (): unknown[][][] => readFileSync(join(run.a.raw, 'predict_seq.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as unknown[][]);

/** Each predict user's history as raw creative ids (item cells are re-ids up to the item count, else raw ids). */
function historyCreatives(records: unknown[][]): Set<number> {
  const index = readIndexer(join(run.a.raw, 'indexer.pkl'));
  return new Set(records.filter((r) => r[1] !== null).map((r) => {
    const i = r[1] as number;
    return i <= index.itemCount ? index.itemRawIds[i]! : i;
  }));
}

test('runs end to end: one summary line naming result.json', () => {
  assert.equal(run.first.code, 0, run.first.stderr);
  const summary = run.first.stderr.split('\n').filter((l) => l.startsWith('[predict]') && !/\(\d+s\)$/.test(l));
  assert.equal(summary.length, 1, run.first.stderr);
  assert.match(summary[0]!, /^\[predict\] \d+ predict users over \d+ candidates \(\d+ cold creatives, \d+ repeated candidates dropped; final weights, cpu\) -> .*result\.json in/);
  assert.deepEqual(readdirSync(out('run1')), ['result.json']);
});

test('result.json: one row per predict user in file order, 10 distinct candidates each, none from the history', () => {
  const result = readResult('run1');
  const lines = predictLines();
  const candidates = new Set(readFileSync(join(run.a.raw, 'predict_set.jsonl'), 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as { creative_id: number }).creative_id));
  const index = readIndexer(join(run.a.raw, 'indexer.pkl'));
  assert.equal(result.top10s.length, lines.length);
  assert.equal(result.user.length, lines.length);
  let rawStringUsers = 0;
  let coldInHistory = 0;
  lines.forEach((records, u) => {
    const cell = records[0]![0] as number | string;
    if (typeof cell === 'string') rawStringUsers++;
    assert.equal(result.user[u], typeof cell === 'string' ? cell : index.userRawIds[cell]);
    const history = historyCreatives(records);
    coldInHistory += [...history].filter((cid) => !index.itemIdxByCid.has(cid)).length;
    const top = result.top10s[u]!;
    assert.equal(top.length, 10);
    assert.equal(new Set(top).size, 10, 'distinct');
    for (const cid of top) {
      assert.ok(candidates.has(cid), `${cid} is a candidate`);
      assert.ok(!history.has(cid), `user ${u}: ${cid} is in the history`);
    }
  });
  assert.ok(rawStringUsers > 0 && rawStringUsers < lines.length, 'the synthetic predict users carry both kinds of user id');
  assert.ok(coldInHistory > 0, 'some histories hold cold creatives');
});

test('without exclude_history the same model does recommend history items (so the check above can fail)', async () => {
  const params = writeParamsFile(run.a.dir, 'keep-history.yaml', { ...TINY_PARAMS, exclude_history: false });
  const r = await runStage('predict', predictArgs(run.a, run.modelDir, out('run-keep')), params);
  assert.equal(r.code, 0, r.stderr);
  const result = readResult('run-keep');
  const repeats = predictLines().filter((records, u) => {
    const history = historyCreatives(records);
    return result.top10s[u]!.some((cid) => history.has(cid));
  }).length;
  assert.ok(repeats > 0, 'some user gets a history item back');
});

test('a rerun writes a byte-identical result.json', async () => {
  const again = await runStage('predict', predictArgs(run.a, run.modelDir, out('run2')), run.a.params);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(readFileSync(join(out('run2'), 'result.json'), 'latin1'), readFileSync(join(out('run1'), 'result.json'), 'latin1'));
});

test('raw_dir without predict files: a one-line note instead of result.json', async () => {
  const raw = out('raw-no-predict');
  cpSync(run.a.raw, raw, { recursive: true });
  for (const f of ['predict_seq.jsonl', 'predict_set.jsonl']) rmSync(join(raw, f));
  const b = { ...run.a, ingestPredict: out('ingest-predict-none'), featuresPredict: out('features-predict-none') };
  for (const [stage, args] of [['ingest', [raw, out('ingest-none'), b.ingestPredict]], ['features', [out('ingest-none'), out('features-none'), b.ingestPredict, b.featuresPredict]]] as const) {
    const r = await runStage(stage, [...args], run.a.params);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /; no predict files -> /);
  }
  const r = await runStage('predict', predictArgs(b, run.modelDir, out('run-none')), run.a.params);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[predict\] raw_dir has no predict files: no competition inference -> /);
  assert.deepEqual(readdirSync(out('run-none')), ['no-predict-files.txt']);
});

/** Exit 1, one `[predict] error:` line matching `message`, nothing at the out path. */
async function assertRefused(args: string[], message: RegExp): Promise<void> {
  const target = args[args.length - 1]!;
  const r = await runStage('predict', args, run.a.params);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^\[predict\] error: .*\n$/, 'one error line, no stack trace');
  assert.match(r.stderr, message);
  assert.ok(!existsSync(target), 'nothing written');
}

test('missing inputs are refused in one line naming what to run', async () => {
  const args = (over: Partial<Artifacts>, model = run.modelDir): string[] => predictArgs({ ...run.a, ...over }, model, out('refused'));
  await assertRefused(args({ ingestPredict: out('no-such-dir') }), /no-such-dir\/manifest\.json: not found \(run ingest with a predict output first\)/);
  await assertRefused(args({ featuresPredict: out('no-such-dir') }), /no-such-dir\/manifest\.json: not found \(run features with a predict output first\)/);
  await assertRefused(args({ features: out('no-such-dir') }), /no-such-dir\/manifest\.json: not found \(run features first\)/);
  await assertRefused(args({}, out('no-model')), /no-model: model folder not found \(run train first\)/);
});

test('predict folders from another run are refused', async () => {
  const stale = out('features-predict-stale');
  cpSync(run.a.featuresPredict, stale, { recursive: true });
  const path = join(stale, 'manifest.json');
  const m = JSON.parse(readFileSync(path, 'utf8')) as { cold_items: number };
  writeFileSync(path, JSON.stringify({ ...m, cold_items: m.cold_items + 1 }));
  await assertRefused(predictArgs({ ...run.a, featuresPredict: stale }, run.modelDir, out('refused')), /features-predict-stale was built from another ingest predict folder than .*: run features again/);
});
