// The DVC loop end to end, on a copy of the project with a tiny params file: `dvc repro` runs all
// seven stages, a second `dvc repro` has nothing to do, and `dvc exp run -S <param>` reruns exactly
// the stages that read that param; `dvc exp show` lists the baseline and each experiment's Score, and the
// README's narrow `dvc exp show` recipe fits in 200 columns with the headline metrics and the changed param.
// And a training run resumes through `dvc repro` (its checkpoint lives outside the stage's outs, which DVC deletes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ROOT } from '../helpers/stage-runner.ts';
import { copyProject, DVC_BIN, gitCommit, run, runEnv, stagesRun, TINY } from '../helpers/project-copy.ts';

/** The command between the README's exp-show-recipe markers (continuations joined). */
function readmeExpShow(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = readme.match(/<!-- exp-show-recipe[^>]*-->\s*```sh\n([\s\S]*?)```\s*<!-- \/exp-show-recipe -->/);
  assert.ok(m, 'README has the exp-show-recipe block');
  return m[1]!.replace(/\\\n\s*/g, '').trim();
}

const HEADLINE = ['model.score', 'model.hr@10', 'model.ndcg@10', 'popularity.score', 'popularity.hr@10', 'popularity.ndcg@10', 'best.score'];

/** The table's header cells and each row's cells by header, from `dvc exp show` text (cells split on 2+ spaces). */
function table(text: string): { headers: string[]; rows: Record<string, string>[] } {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !/^\s*─+\s*$/.test(l));
  const cells = (l: string): string[] => l.trim().split(/\s{2,}/);
  const headers = cells(lines[0]!);
  return { headers, rows: lines.slice(1).map((l) => Object.fromEntries(cells(l).map((c, i) => [headers[i]!, c]))) };
}

/** Checks the README recipe's output after one margin_click experiment: ≤ 200 columns, headline metrics and margin_click shown. */
function checkNarrowExpShow(dir: string): void {
  const recipe = readmeExpShow();
  const out = run(dir, 'env', ['COLUMNS=1000', 'bash', '-euo', 'pipefail', '-c', recipe]); // wide enough that nothing is squeezed
  const width = Math.max(...out.split('\n').map((l) => [...l].length));
  assert.ok(width <= 200, `the README's dvc exp show recipe is ${width} columns wide:\n${out}`);
  process.stderr.write(`[dvc-pipeline] the README's dvc exp show recipe: ${width} columns\n`);
  const { headers, rows } = table(out);
  for (const h of [...HEADLINE, 'margin_click']) assert.ok(headers.includes(h), `column ${h} shown: ${headers.join(' | ')}`);
  assert.ok(!headers.some((h) => h.includes('/')), 'no dependency columns');
  const baseline = rows.find((r) => r.Experiment !== 'workspace' && !r.Experiment?.includes('['));
  const exp = rows.find((r) => r.Experiment?.includes('[margin]'));
  assert.ok(baseline && exp, `rows for the baseline and the experiment:\n${out}`);
  for (const r of [baseline, exp]) assert.match(r['model.score']!, /^0\.\d+$/, `${r.Experiment}: model Score shown`);
  assert.equal(exp.margin_click, '0.05');
  assert.match(baseline.margin_click!, /^0\.\d+$/);
  assert.notEqual(baseline.margin_click, '0.05');

  // the plain command, as its pager lays it out (DVC renders up to 1024 columns): the headline metrics come first
  const plain = run(dir, 'env', ['COLUMNS=1024', 'dvc', 'exp', 'show', '--no-pager']);
  const header = plain.split('\n').find((l) => l.includes('Experiment'))!;
  const end = Math.max(...HEADLINE.map((h) => header.indexOf(h) + h.length));
  assert.ok(HEADLINE.every((h) => header.includes(h)) && end <= 200, `dvc exp show: the headline metrics end at column ${end}:\n${header}`);
}

test('dvc repro, a no-op second repro, and experiments that rerun only what changed', { timeout: 900_000 }, (t) => {
  if (!existsSync(DVC_BIN)) return t.skip('no .venv/bin/dvc (run npm run setup)');
  const dir = copyProject(TINY);

  const first = run(dir, 'dvc', ['repro']);
  assert.deepEqual(stagesRun(first), ['synth', 'ingest', 'features', 'negatives', 'train', 'evaluate', 'predict']);
  assert.ok(existsSync(join(dir, 'data/predict/result.json')), 'the predict stage wrote result.json');
  const second = run(dir, 'dvc', ['repro']);
  assert.deepEqual(stagesRun(second), [], 'second repro runs nothing');
  assert.match(second, /Data and pipelines are up to date/);
  gitCommit(dir, 'reproduced');

  const margin = run(dir, 'dvc', ['exp', 'run', '-n', 'margin', '-S', 'margin_click=0.05']);
  assert.deepEqual(stagesRun(margin), ['train', 'evaluate', 'predict'], 'a train param reruns train and what reads the model only');
  checkNarrowExpShow(dir);
  run(dir, 'git', ['checkout', '--', '.']);
  run(dir, 'dvc', ['checkout', '-q']);

  const weights = run(dir, 'dvc', ['exp', 'run', '-n', 'weights', '-S', 'neg_bucket_weights=[0.2,0.2,0.2,0.2,0.1,0.1]']);
  assert.deepEqual(stagesRun(weights), ['negatives', 'train', 'evaluate', 'predict'], 'a negatives param skips synth, ingest and features');

  const shown = JSON.parse(run(dir, 'dvc', ['exp', 'show', '--json']).replace(/^[^[{]*/, '')) as unknown[];
  const text = JSON.stringify(shown);
  for (const name of ['margin', 'weights']) assert.ok(text.includes(`"name":"${name}"`), `dvc exp show lists ${name}`);
  const scores = [...text.matchAll(/"model":\{[^}]*"score":([0-9.e-]+)/g)].map((m) => Number(m[1]));
  assert.ok(scores.length >= 3, `baseline and two experiments carry a model Score (got ${scores.length})`);
  for (const s of scores) assert.ok(s >= 0 && s <= 1);
});

test('a killed training resumes through dvc repro: the checkpoint outlives the outs DVC deletes, and the run ends as without the kill', { timeout: 600_000 }, async (t) => {
  if (!existsSync(DVC_BIN)) return t.skip('no .venv/bin/dvc (run npm run setup)');
  const dir = copyProject({ ...TINY, num_epochs: 3, ckpt_every_steps: 2 });
  run(dir, 'dvc', ['repro', 'train']);
  const outputs = ['metrics/train.json', 'reports/train.json', 'plots/train/steps.tsv', 'plots/train/valid.tsv'];
  const uninterrupted = outputs.map((f) => readFileSync(join(dir, f), 'utf8'));
  const total = (JSON.parse(uninterrupted[1]!) as { steps: number }).steps;
  const index = join(dir, 'models/checkpoint/checkpoint.json');
  assert.ok(existsSync(index), 'the checkpoint is in models/checkpoint');
  assert.ok(!existsSync(join(dir, 'models/model/checkpoint')), 'not inside the DVC out');

  // The same run again, SIGKILLed (dvc and the stage) once a checkpoint before the end is on disk.
  const step = (): number => (existsSync(index) ? (JSON.parse(readFileSync(index, 'utf8')) as { cursor: { step: number } }).cursor.step : 0);
  rmSync(index, { force: true }); // (the finished run's; the new run writes its own)
  const child = spawn('dvc', ['repro', '--force', '--single-item', 'train'], { cwd: dir, env: runEnv(), detached: true, stdio: 'ignore' });
  const exited = new Promise((done) => child.on('exit', done));
  let at = 0;
  for (let waited = 0; waited < 300_000 && (at = step()) === 0; waited += 20) await new Promise((r) => setTimeout(r, 20));
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
  at = step();
  assert.ok(at > 0 && at < total, `killed after a checkpoint before the end (step ${at} of ${total})`);

  // resume: true — dvc repro deletes models/model and reruns train, which continues from the checkpoint
  const paramsFile = join(dir, 'params.yaml');
  writeFileSync(paramsFile, stringify({ ...(parse(readFileSync(paramsFile, 'utf8')) as object), resume: true }));
  const resumed = run(dir, 'dvc', ['repro', 'train']);
  assert.deepEqual(stagesRun(resumed), ['train']);
  assert.match(resumed, new RegExp(`resuming from models/checkpoint at step ${at}\\b`));
  outputs.forEach((f, k) => assert.equal(readFileSync(join(dir, f), 'utf8'), uninterrupted[k], `${f} equals the uninterrupted run's`));
});
