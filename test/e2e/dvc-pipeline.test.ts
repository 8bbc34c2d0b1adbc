// The DVC loop end to end, on a copy of the project with a tiny params file: `dvc repro` runs all
// six stages, a second `dvc repro` has nothing to do, and `dvc exp run -S <param>` reruns exactly
// the stages that read that param; `dvc exp show` lists the baseline and each experiment's Score.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dvcBin = join(root, '.venv/bin/dvc');

const TINY = {
  synth_users: 150, synth_items: 400, synth_topics: 6, synth_predict_users: 20, shard_users: 100,
  maxlen: 20, hidden_units: 16, num_blocks: 1, num_heads: 2, linear_dim: 8, attention_dim: 8, rope_partial_dim: 4,
  batch_size: 32, num_epochs: 1, num_negatives: 64, ckpt_every_steps: 1000,
};

function run(cwd: string, cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${join(root, '.venv/bin')}:${join(root, 'node_modules/.bin')}:${process.env.PATH}` },
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

const stagesRun = (out: string): string[] => [...out.matchAll(/Running stage '([a-z]+)'/g)].map((m) => m[1]!);

/** A git repo holding the project's tracked files as they are in the working tree, with tiny params. */
function copyProject(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'dvc-e2e-')), 'project');
  const files = spawnSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).stdout.split('\0').filter(Boolean);
  for (const f of files) {
    if (f === 'dvc.lock' || !existsSync(join(root, f))) continue;
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    copyFileSync(join(root, f), join(dir, f));
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  const params = parse(readFileSync(join(root, 'params.yaml'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'params.yaml'), stringify({ ...params, ...TINY }));
  run(dir, 'git', ['init', '-q']);
  run(dir, 'git', ['add', '-A']);
  run(dir, 'git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-qm', 'baseline']);
  return dir;
}

test('dvc repro, a no-op second repro, and experiments that rerun only what changed', { timeout: 900_000 }, (t) => {
  if (!existsSync(dvcBin)) return t.skip('no .venv/bin/dvc (run npm run setup)');
  const dir = copyProject();

  const first = run(dir, 'dvc', ['repro']);
  assert.deepEqual(stagesRun(first), ['synth', 'ingest', 'features', 'negatives', 'train', 'evaluate']);
  const second = run(dir, 'dvc', ['repro']);
  assert.deepEqual(stagesRun(second), [], 'second repro runs nothing');
  assert.match(second, /Data and pipelines are up to date/);
  run(dir, 'git', ['add', '-A']);
  run(dir, 'git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-qm', 'reproduced']);

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
