import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CatalogueRows } from '../../../stages/ingest/catalogue-rows.ts';
import { parseCandidate, readCandidateSet } from '../../../stages/ingest/predict-set.ts';

test('parseCandidate: creative id and features (strings kept for later coding); bad fields named', () => {
  assert.deepEqual(parseCandidate({ creative_id: 123, retrieval_id: 0, features: { '100': 'z' } }), { creativeId: 123, features: { '100': 'z' } });
  assert.deepEqual(parseCandidate({ creative_id: 7 }), { creativeId: 7, features: {} });
  assert.throws(() => parseCandidate({ creative_id: '123' }), /creative_id must be a positive int, got "123"/);
  assert.throws(() => parseCandidate({ creative_id: 1, features: [1] }), /features must be an object/);
  assert.throws(() => parseCandidate([1]), /expected a JSON object/);
});

test('readCandidateSet: distinct ids in file order, first kept; known creatives keep their rows, cold ones get rows past the catalogue', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'candidate-set-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'predict_set.jsonl');
  const lines = [
    { creative_id: 5000, retrieval_id: 0, features: { '100': 5 } },
    { creative_id: 1002, retrieval_id: 1, features: {} },
    { creative_id: 5000, retrieval_id: 2, features: { '100': 7 } }, // repeat: dropped, first features kept
    { creative_id: 6000, retrieval_id: 3 },
  ];
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const rows = new CatalogueRows(3, new Map([[1002, 2]]));
  const set = await readCandidateSet(file, rows);
  assert.deepEqual(Array.from(set.creativeIds), [5000, 1002, 6000]);
  assert.deepEqual(Array.from(set.rows), [4, 2, 5]);
  assert.equal(set.duplicates, 1);
  assert.deepEqual(rows.cold, [{ creativeId: 5000, features: { '100': 5 } }, { creativeId: 6000, features: {} }]);
  writeFileSync(file, '{"creative_id": 1}\n{"creative_id": "x"}\n');
  await assert.rejects(readCandidateSet(file, new CatalogueRows(3, new Map())), /predict_set\.jsonl:2: creative_id must be a positive int/);
  writeFileSync(file, '{"creative_id": 9}\n\n');
  await assert.rejects(readCandidateSet(file, new CatalogueRows(3, new Map())), /predict_set\.jsonl:2: empty line/);
});
