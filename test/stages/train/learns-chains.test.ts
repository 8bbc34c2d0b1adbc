// Does the default training recipe learn a rule a sequence model must learn? A small log (300 users, 100
// items) in which the next item is the current one's successor (i → i+1) 80% of the time and one of 10
// popular items otherwise, run import → ingest → features → negatives → train → evaluate with the repo's
// defaults on a tiny model (wasm, 80 optimizer steps). The chain rule puts the test target in the top 10
// for most users, while popularity can only catch the popular-item noise. Not a benchmark: the margin
// is wide and the data deterministic, so a recipe that trains full-catalogue ranking passes and one that
// does not (the seed's mixed negatives before loss_negatives: all_items: HR@10 below popularity's) fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../../core/random/rng.ts';
import { runStages, writeParamsFile } from '../../helpers/stage-runner.ts';

const ITEMS = 100;

function chainLog(): string {
  const rng = new Rng(11);
  const rows = ['user_id,item_id,timestamp'];
  for (let u = 0; u < 300; u++) {
    let item = rng.int(ITEMS);
    let ts = 1_700_000_000 + u * 10_000;
    for (let k = 0; k < 15; k++) {
      rows.push(`u${u},${item},${ts}`);
      ts += 60;
      item = rng.next() < 0.8 ? (item + 1) % ITEMS : rng.int(10) * 7; // successor, or a popular item
    }
  }
  return rows.join('\n') + '\n';
}

test('default recipe learns next-item chains: test HR@10 far above popularity in 80 steps', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'learns-'));
  writeFileSync(join(dir, 'log.csv'), chainLog());
  const params = writeParamsFile(dir, 'params.yaml', {
    raw_dir: join(dir, 'raw'), mm_emb_id: [], load_time_intervals: false,
    maxlen: 20, hidden_units: 32, num_blocks: 1, num_heads: 2, linear_dim: 16, attention_dim: 16, rope_partial_dim: 8,
    batch_size: 32, num_epochs: 8, early_stop_patience: 0, backend: 'wasm', eval_item_chunk: 1024,
  });
  const p = (name: string): string => join(dir, name);
  await runStages([
    ['import', [p('log.csv'), p('raw')]],
    ['ingest', [p('raw'), p('ingest')]],
    ['features', [p('ingest'), p('features')]],
    ['negatives', [p('ingest'), p('negatives')]],
    ['train', [p('ingest'), p('features'), p('negatives'), p('model'), p('train.json'), p('train-report.json'), p('plots')]],
    ['evaluate', [p('ingest'), p('features'), p('model'), p('evaluate.json'), p('evaluate-report.json'), p('eplots')]],
  ], params);
  const m = JSON.parse(readFileSync(p('evaluate.json'), 'utf8')) as { model: { 'hr@10': number }; popularity: { 'hr@10': number } };
  const t = JSON.parse(readFileSync(p('train.json'), 'utf8')) as { steps: number };
  assert.equal(t.steps, 80);
  assert.ok(m.popularity['hr@10'] < 0.4, `popularity HR@10 ${m.popularity['hr@10']}`);
  assert.ok(m.model['hr@10'] > 0.6, `model HR@10 ${m.model['hr@10']} (popularity ${m.popularity['hr@10']})`);
});
