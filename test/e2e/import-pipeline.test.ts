// The README's recipe for the import stage, run as it is written: on a copy of the project, a small CSV
// at the path the README names, the README's `dvc stage add` + `dvc exp run -S raw_dir=… -S mm_emb_id=[]`
// lines, then the checks: import runs in front of ingest, ingest reads its output, evaluate scores it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/stage-runner.ts';
import { copyProject, DVC_BIN, run, stagesRun, TINY } from '../helpers/project-copy.ts';

/** The shell lines between the README's import-stage-recipe markers (continuations joined). */
function readmeRecipe(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = readme.match(/<!-- import-stage-recipe[^>]*-->\s*```sh\n([\s\S]*?)```\s*<!-- \/import-stage-recipe -->/);
  assert.ok(m, 'README has the import-stage-recipe block');
  return m[1]!;
}

/** 120 users over 60 items: each walks a chain i → i+1 (mod 60) from a random start, timestamps shuffled per row. */
function chainCsv(): string {
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const rows: string[] = [];
  for (let u = 0; u < 120; u++) {
    const start = Math.floor(rand() * 60);
    for (let k = 0; k < 12; k++) rows.push(`user${u},${100 + ((start + k) % 60)},${1_700_000_000 + u * 1000 + k * 10}`);
  }
  for (let k = rows.length - 1; k > 0; k--) {
    const j = Math.floor(rand() * (k + 1));
    [rows[k], rows[j]] = [rows[j]!, rows[k]!];
  }
  return ['user_id,item_id,timestamp', ...rows].join('\n') + '\n';
}

test("README's import recipe: dvc stage add puts import in front of ingest; the pipeline runs on the imported log", { timeout: 900_000 }, (t) => {
  if (!existsSync(DVC_BIN)) return t.skip('no .venv/bin/dvc (run npm run setup)');
  const recipe = readmeRecipe();
  const csv = recipe.match(/-d (data\/\S+\.csv)/)?.[1];
  assert.ok(csv, 'the recipe names its CSV under data/');
  const dir = copyProject(TINY);
  mkdirSync(join(dir, csv, '..'), { recursive: true });
  writeFileSync(join(dir, csv), chainCsv());

  const out = run(dir, 'bash', ['-euo', 'pipefail', '-c', recipe]);
  const ran = stagesRun(out);
  assert.ok(ran.includes('import'), `import ran (stages: ${ran.join(', ')})`);
  assert.ok(ran.indexOf('import') < ran.indexOf('ingest'), 'import runs before ingest');
  for (const s of ['features', 'negatives', 'train', 'evaluate', 'predict']) assert.ok(ran.includes(s), `${s} ran`);
  assert.deepEqual(readdirSync(join(dir, 'data/predict')), ['no-predict-files.txt'], 'an imported log has no predict files');

  const dvcYaml = readFileSync(join(dir, 'dvc.yaml'), 'utf8');
  assert.match(dvcYaml, /import:\n\s+cmd: npx tsx stages\/import\/main\.ts/);
  const manifest = JSON.parse(readFileSync(join(dir, 'data/ingest/manifest.json'), 'utf8')) as { users: number; items: number; events: number; source: string };
  assert.deepEqual([manifest.users, manifest.items, manifest.events], [120, 60, 1440]);
  assert.match(manifest.source, /data\/raw\/imported/);
  const report = JSON.parse(readFileSync(join(dir, 'reports/evaluate.json'), 'utf8')) as { model: { count: number; score: number } };
  assert.equal(report.model.count, 120, 'every user has a test target');
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics/evaluate.json'), 'utf8')) as { model: { score: number } };
  assert.equal(metrics.model.score, report.model.score);
  assert.ok(metrics.model.score >= 0 && metrics.model.score <= 1);

  const again = run(dir, 'dvc', ['repro']);
  assert.deepEqual(stagesRun(again), [], 'a second repro has nothing to do');
});
