// Seed options, log bookkeeping and the plot format: small pure pieces of the train stage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSeedOptions, exclusionNotice } from '../../../stages/train/train-params.ts';
import { emptyTrainLog, lossSinceLastEval, type EvalRow } from '../../../stages/train/train-log.ts';
import { toTsv } from '../../../stages/train/write-outputs.ts';

const off = { grad_checkpoint: false, ckpt_every: 1, bf16_autocast: false, adamw_8bit: false, neg_cache_on_cpu: false };

test('seed options: GPU-only ones are refused with the reason, neg_cache_on_cpu is accepted with a notice', () => {
  assert.deepEqual(checkSeedOptions(off), []);
  assert.throws(() => checkSeedOptions({ ...off, grad_checkpoint: true }), /grad_checkpoint: true is not available: tfjs/);
  assert.throws(() => checkSeedOptions({ ...off, bf16_autocast: true }), /bf16_autocast: true is not available/);
  assert.throws(() => checkSeedOptions({ ...off, adamw_8bit: true }), /adamw_8bit: true is not available/);
  const notices = checkSeedOptions({ ...off, neg_cache_on_cpu: true });
  assert.equal(notices.length, 1);
  assert.match(notices[0]!, /host memory/);
});

test('train loss of an eval row: the mean step loss since the previous validation', () => {
  const log = emptyTrainLog();
  for (let s = 1; s <= 4; s++) log.steps.push({ step: s, epoch: 1, loss: s, lr: 0, grad_norm: 0 });
  assert.equal(lossSinceLastEval(log), 2.5);
  log.evals.push({ step: 2, epoch: 1, train_loss: 1.5 } as EvalRow);
  assert.equal(lossSinceLastEval(log), 3.5);
});

test('plot TSV: a header and one row per record, numbers round-trip exactly', () => {
  const rows = [{ step: 1, loss: 0.1 + 0.2 }, { step: 2, loss: 1e-7 }];
  const text = toTsv(rows, ['step', 'loss']);
  assert.equal(text, 'step\tloss\n1\t0.30000000000000004\n2\t1e-7\n');
  assert.equal(Number(text.split('\n')[1]!.split('\t')[1]), 0.1 + 0.2);
});

test('train_exclude_history without exclude_history is a notice; every other combination is silent', () => {
  assert.match(exclusionNotice({ train_exclude_history: true, exclude_history: false })!, /ranking will show them/);
  for (const [a, b] of [[true, true], [false, true], [false, false]] as const) assert.equal(exclusionNotice({ train_exclude_history: a, exclude_history: b }), null);
});
