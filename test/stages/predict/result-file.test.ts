import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatResult, writePredictOutput } from '../../../stages/predict/result-file.ts';

test('result.json keys and layout', () => {
  assert.equal(formatResult({ top10s: [[21340241443, 2]], user: ['user_1'] }), '{"top10s":[[21340241443,2]],"user":["user_1"]}\n');
});

test('the output folder holds result.json, or the note alone, replaced whole', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'result-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'predict');
  await writePredictOutput(out, { top10s: [[1]], user: ['u'] });
  assert.deepEqual(readdirSync(out), ['result.json']);
  await writePredictOutput(out, null);
  assert.deepEqual(readdirSync(out), ['no-predict-files.txt']);
  assert.match(readFileSync(join(out, 'no-predict-files.txt'), 'utf8'), /no competition inference\n$/);
  assert.deepEqual(readdirSync(dir), ['predict'], 'no temp folder left');
});
