// The DVC loop end to end, on a copy of the project with a tiny params file: `dvc repro` runs all
// six stages, a second `dvc repro` has nothing to do, and `dvc exp run -S <param>` reruns exactly
// the stages that read that param; `dvc exp show` lists the baseline and each experiment's Score.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyProject, DVC_BIN, gitCommit, run, stagesRun, TINY } from '../helpers/project-copy.ts';


test('dvc repro, a no-op second repro, and experiments that rerun only what changed', { timeout: 900_000 }, (t) => {
  if (!existsSync(DVC_BIN)) return t.skip('no .venv/bin/dvc (run npm run setup)');
  const dir = copyProject(TINY);

  const first = run(dir, 'dvc', ['repro']);
  assert.deepEqual(stagesRun(first), ['synth', 'ingest', 'features', 'negatives', 'train', 'evaluate']);
  const second = run(dir, 'dvc', ['repro']);
  assert.deepEqual(stagesRun(second), [], 'second repro runs nothing');
  assert.match(second, /Data and pipelines are up to date/);
  gitCommit(dir, 'reproduced');

  const margin = run(dir, 'dvc', ['exp', 'run', '-n', 'margin', '-S', 'margin_click=0.05']);
  assert.deepEqual(stagesRun(margin), ['train', 'evaluate'], 'a train param reruns train and evaluate only');
  run(dir, 'git', ['checkout', '--', '.']);
  run(dir, 'dvc', ['checkout', '-q']);

  const weights = run(dir, 'dvc', ['exp', 'run', '-n', 'weights', '-S', 'neg_bucket_weights=[0.2,0.2,0.2,0.2,0.1,0.1]']);
  assert.deepEqual(stagesRun(weights), ['negatives', 'train', 'evaluate'], 'a negatives param skips synth, ingest and features');

  const shown = JSON.parse(run(dir, 'dvc', ['exp', 'show', '--json']).replace(/^[^[{]*/, '')) as unknown[];
  const text = JSON.stringify(shown);
  for (const name of ['margin', 'weights']) assert.ok(text.includes(`"name":"${name}"`), `dvc exp show lists ${name}`);
  const scores = [...text.matchAll(/"model":\{[^}]*"score":([0-9.e-]+)/g)].map((m) => Number(m[1]));
  assert.ok(scores.length >= 3, `baseline and two experiments carry a model Score (got ${scores.length})`);
  for (const s of scores) assert.ok(s >= 0 && s <= 1);
});
