// End to end: synth → ingest → features → a freshly initialised tiny model → the evaluate stage, run as
// `dvc repro` would run it. Checks the metrics and plot files, the popularity baseline against a direct
// computation (segments included), byte-identical reruns, and one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Role, eventShardPath } from '../../../core/artifacts/artifacts.ts';
import { columnValues, readArrowFile } from '../../../core/artifacts/arrow-io.ts';
import { computeRankMetrics } from '../../../core/ranking/metrics.ts';
import { cutSequences, historyItems } from '../../../core/sequences/cut.ts';
import { buildFeatureSchema, readManifests } from '../../../core/sequences/feature-schema.ts';
import { observeArrayLen, readUserShard } from '../../../core/sequences/user-shards.ts';
import { evaluateArgs, runStage, saveTinyModel, tinyStageRun } from '../../helpers/tiny-artifacts.ts';

const run = tinyStageRun('evaluate', evaluateArgs);
const out = (name: string): string => join(run.a.dir, name);

const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
const report = (run: string): Record<string, unknown> => readJson(join(out(run), 'reports', 'evaluate.json'));
type Row = { count: number; model: Record<string, number> | null; popularity: Record<string, number> | null };
type Segments = Record<'target_popularity' | 'history_length' | 'target_action', Record<string, Row>>;

test('runs end to end: one summary line, metrics for both methods on the same targets', () => {
  assert.equal(run.first.code, 0, run.first.stderr);
  const summary = run.first.stderr.split('\n').filter((l) => l.startsWith('[evaluate]') && !/\(\d+s\)$/.test(l));
  assert.equal(summary.length, 1, run.first.stderr);
  assert.match(summary[0]!, /test targets over \d+ items \(final weights, cpu\): Score [\d.]+ .*-> .*evaluate\.json in [\d.]+s$/);
  const m = report('run1');
  const manifest = readManifests(run.a.ingest, run.a.features).ingest;
  assert.equal(m.targets, manifest.splits.test_targets);
  assert.equal(m.weights, 'final');
  for (const method of ['model', 'popularity'] as const) {
    const r = m[method] as Record<string, number>;
    assert.equal(r.count, m.targets);
    for (const key of ['hr@10', 'ndcg@10', 'hr@50', 'ndcg@50', 'hr@200', 'ndcg@200', 'mrr', 'score']) {
      assert.ok(r[key]! >= 0 && r[key]! <= 1, `${method} ${key} = ${r[key]}`);
    }
    assert.ok(r['hr@10']! <= r['hr@50']! && r['hr@50']! <= r['hr@200']!);
  }
  const headline = readJson(join(out('run1'), 'metrics', 'evaluate.json')) as Record<string, Record<string, number>>;
  for (const method of ['model', 'popularity'] as const) {
    const r = m[method] as Record<string, number>;
    assert.deepEqual(headline[method], { score: r.score, 'hr@10': r['hr@10'], 'ndcg@10': r['ndcg@10'] }, 'the metrics file holds the headline numbers only');
  }
  assert.deepEqual(Object.keys(headline), ['model', 'popularity']);
});

test('segments: each table splits every test target once, and adds back up to the overall HR@10 / NDCG@10', () => {
  const m = report('run1');
  const s = m.segments as Segments;
  assert.deepEqual(Object.keys(s.target_popularity), ['cold', '1-3', '4-9', '10-54', '55-100', '101-1000', '>1000']);
  assert.deepEqual(Object.keys(s.history_length), ['<=10', '11-20', '21-50', '>50']);
  assert.deepEqual(Object.keys(s.target_action), ['click', 'conversion']);
  for (const table of Object.values(s)) {
    const rows = Object.values(table);
    assert.equal(rows.reduce((n, r) => n + r.count, 0), m.targets);
    for (const method of ['model', 'popularity'] as const) {
      for (const key of ['hr@10', 'ndcg@10']) {
        const sum = rows.reduce((acc, r) => acc + (r.count === 0 ? 0 : r[method]![key]! * r.count), 0);
        assert.ok(Math.abs(sum / (m.targets as number) - (m[method] as Record<string, number>)[key]!) < 1e-12, `${method} ${key}`);
      }
    }
  }
  assert.ok(s.target_action.conversion!.count > 0 && s.target_action.click!.count > 0, 'the synthetic data has both target actions');
});

test('the HR@10-by-popularity bar plot has one row per non-empty popularity segment', () => {
  const s = report('run1').segments as Segments;
  const lines = readFileSync(join(out('run1'), 'plots', 'hr10_by_popularity.tsv'), 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], 'target_popularity\ttargets\tmodel\tpopularity');
  const expected = Object.entries(s.target_popularity).filter(([, r]) => r.count > 0)
    .map(([name, r]) => `${name}\t${r.count}\t${r.model!['hr@10']}\t${r.popularity!['hr@10']}`);
  assert.deepEqual(lines.slice(1), expected);
  assert.ok(expected.length >= 2);
});

test('a SASRec model folder is evaluated alike: evaluate reads the encoder from its config.json, no model params', async () => {
  const sasrecDir = out('sasrec-model');
  await saveTinyModel(run.a, sasrecDir, 'final', 7, { model_type: 'sasrec' });
  const r = await runStage('evaluate', evaluateArgs(run.a, sasrecDir, out('run-sasrec')), run.a.params);
  assert.equal(r.code, 0, r.stderr);
  const [hstu, sasrec] = ['run1', 'run-sasrec'].map(report);
  assert.equal(sasrec!.targets, hstu!.targets);
  assert.deepEqual(sasrec!.popularity, hstu!.popularity, 'the baseline does not depend on the model');
  assert.notDeepEqual(sasrec!.model, hstu!.model, 'another encoder, other ranks');
});

test('the HR@k plot has k = 1..200 for both methods, ending at HR@200', () => {
  const lines = readFileSync(join(out('run1'), 'plots', 'hr_at_k.tsv'), 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], 'k\tmodel\tpopularity');
  assert.equal(lines.length, 201);
  const rows = lines.slice(1).map((l) => l.split('\t').map(Number));
  rows.forEach((r, j) => assert.equal(r[0], j + 1));
  for (let j = 1; j < rows.length; j++) for (const c of [1, 2]) assert.ok(rows[j]![c]! >= rows[j - 1]![c]!, 'HR@k never decreases');
  const m = report('run1');
  assert.equal(rows[199]![1], (m.model as Record<string, number>)['hr@200']);
  assert.equal(rows[9]![2], (m.popularity as Record<string, number>)['hr@10']);
});

test('popularity numbers equal a direct computation from the training events', () => {
  const mf = readManifests(run.a.ingest, run.a.features);
  const counts = new Int32Array(mf.ingest.items + 1);
  const ranks: number[] = [];
  const facts = { interactions: [] as number[], history: [] as number[] };
  const schema = buildFeatureSchema(mf, observeArrayLen(run.a.ingest, mf));
  for (const { name } of mf.ingest.shards) {
    const ev = readArrowFile(eventShardPath(run.a.ingest, name));
    const item = columnValues<Int32Array>(ev, 'item');
    const role = columnValues<Int8Array>(ev, 'role');
    for (let e = 0; e < item.length; e++) if (role[e] === Role.train && item[e]! > 0) counts[item[e]!]!++;
  }
  for (const { name } of mf.ingest.shards) {
    const shard = readUserShard(run.a.ingest, run.a.features, name, mf, schema);
    const cuts = cutSequences('test', shard, 12);
    for (let k = 0; k < cuts.count; k++) {
      const t = shard.item[cuts.target[k]!]!;
      const excluded = new Set(historyItems(cuts, shard, k));
      let rank = 1;
      for (let i = 1; i < counts.length; i++) {
        if (i === t || excluded.has(i)) continue;
        if (counts[i]! > counts[t]! || (counts[i] === counts[t] && i < t)) rank++;
      }
      ranks.push(rank);
      facts.history.push(cuts.historyEnd[k]! - cuts.historyStart[k]!);
      facts.interactions.push(counts[t]!);
    }
  }
  const m = report('run1');
  assert.deepEqual(m.popularity, computeRankMetrics(ranks));
  const s = m.segments as Segments;
  // segments by hand: which targets fall where, and popularity's HR@10 over each
  const within = (values: number[], lo: number, hi: number): number[] => values.flatMap((v, t) => (v >= lo && v <= hi ? [t] : []));
  const hr10 = (targets: number[]): number => targets.filter((t) => ranks[t]! <= 10).length / targets.length;
  const popularitySegments: [string, number, number][] = [['cold', 0, 0], ['1-3', 1, 3], ['4-9', 4, 9], ['10-54', 10, 54], ['55-100', 55, 100], ['101-1000', 101, 1000], ['>1000', 1001, Infinity]];
  let nonEmpty = 0;
  for (const [name, lo, hi] of popularitySegments) {
    const targets = within(facts.interactions, lo, hi);
    const row = s.target_popularity[name]!;
    assert.equal(row.count, targets.length, `${name}: targets whose item has ${lo}..${hi} training interactions`);
    if (targets.length > 0) {
      nonEmpty++;
      assert.equal(row.popularity!['hr@10'], hr10(targets), name);
    } else assert.equal(row.popularity, null);
  }
  assert.ok(nonEmpty >= 3, `the tiny data spreads over several popularity segments (${nonEmpty})`);
  for (const [name, lo, hi] of [['<=10', 0, 10], ['11-20', 11, 20], ['21-50', 21, 50], ['>50', 51, Infinity]] as const) {
    assert.equal(s.history_length[name]!.count, within(facts.history, lo, hi).length, name);
  }
});

test('a rerun writes byte-identical outputs', async () => {
  const again = await runStage('evaluate', evaluateArgs(run.a, run.modelDir, out('run2')), run.a.params);
  assert.equal(again.code, 0, again.stderr);
  for (const f of [join('metrics', 'evaluate.json'), join('reports', 'evaluate.json'), join('plots', 'hr_at_k.tsv'), join('plots', 'hr10_by_popularity.tsv')]) {
    assert.equal(readFileSync(join(out('run2'), f), 'latin1'), readFileSync(join(out('run1'), f), 'latin1'), f);
  }
});

test('a missing model folder is one clear line and writes nothing', async () => {
  const r = await runStage('evaluate', evaluateArgs(run.a, out('no-model'), out('run3')), run.a.params);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^\[evaluate\] error: .*no-model: model folder not found \(run train first\)\n$/);
  assert.ok(!existsSync(out('run3')));
  const empty = await runStage('evaluate', evaluateArgs(run.a, run.a.features, out('run3')), run.a.params);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /^\[evaluate\] error: .*features: no model weights \(expected best\/ or final\/.*\n$/);
});
