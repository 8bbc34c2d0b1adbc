import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomDataset, writeIngestFixture } from './ingest-fixture.ts';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const main = join(repo, 'stages/features/main.ts');

// From the repo root, where `--import tsx` resolves; every path passed is absolute.
function run(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd: repo, encoding: 'utf8' });
}

test('the stage runs from the command line: output folder, one summary line, clear errors', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'features-main-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const { users, items } = randomDataset(9, 2, 10, 30);
  const ingest = writeIngestFixture(join(root, 'ingest'), users, items);
  const params = join(repo, 'params.yaml');

  const ok = run([join(root, 'ingest'), join(root, 'out'), '--params', params]);
  assert.equal(ok.status, 0, ok.stderr);
  const lines = ok.stderr.trim().split('\n').filter((l) => !/\(\d+s\)$/.test(l)); // drop throttled progress lines
  assert.equal(lines.length, 1, ok.stderr);
  assert.match(lines[0]!, new RegExp(`^\\[features\\] ${ingest.events} events in 2 shards, 30 items .* -> .*out in \\d+\\.\\ds$`));
  assert.deepEqual(readdirSync(join(root, 'out')).sort(), ['events', 'items', 'manifest.json', 'parquet']);

  const missing = run([join(root, 'nowhere'), join(root, 'out2'), '--params', params]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^\[features\] error: .*nowhere\/manifest.json: not found \(run ingest first\)\n$/);
  assert.ok(!existsSync(join(root, 'out2')), 'nothing half-written is left behind');

  const usage = run([join(root, 'ingest')]);
  assert.equal(usage.status, 1);
  assert.match(usage.stderr, /usage: features <ingest-dir> <out-dir>/);
  assert.match(run(['--help']).stdout, /usage: npx tsx stages\/features\/main.ts <ingest-dir> <out-dir>/);
});
