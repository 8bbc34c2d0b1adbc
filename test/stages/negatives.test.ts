import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { parse, stringify } from 'yaml';
import { columnValues, flat, makeTable, readArrowFile, writeArrowFile } from '../../core/artifacts/arrow-io.ts';
import { eventShardPath, Role, shardName, type IngestManifest, type NegativesManifest } from '../../core/artifacts/artifacts.ts';
import { stableJson } from '../../core/stage/atomic.ts';
import { UserError } from '../../core/stage/errors.ts';
import { BucketSampler } from '../../core/train/negative-sampler.ts';
import { Rng } from '../../core/random/rng.ts';
import { validateBounds } from '../../core/ranking/bucket-bounds.ts';
import { bucketOf, buildPools } from '../../stages/negatives/buckets.ts';
import { buildNegatives } from '../../stages/negatives/build-negatives.ts';
import { addTrainExposures } from '../../stages/negatives/exposures.ts';
import { resolveWeights } from '../../stages/negatives/weights.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BOUNDS = [3, 9, 54, 100, 1000];
const WEIGHTS = [0.251, 0.265, 0.274, 0.068, 0.113, 0.029];

// --- pure parts

test('exposures count Role.train events of known items only, any action', () => {
  const counts = new Int32Array(5);
  const item = Int32Array.from([1, 1, 2, 0, 3, 3, 4, 1]);
  const role = Int8Array.from([Role.train, Role.train, Role.valid, Role.train, Role.between, Role.test, Role.after, Role.train]);
  assert.equal(addTrainExposures(counts, item, role), 3);
  assert.deepEqual(Array.from(counts), [0, 3, 0, 0, 0]);
  assert.throws(() => addTrainExposures(counts, Int32Array.from([9]), Int8Array.from([Role.train])), UserError);
});

test('bucket = first bound >= count; above every bound = last bucket', () => {
  const cases: [number, number][] = [[0, 0], [3, 0], [4, 1], [9, 1], [10, 2], [54, 2], [55, 3], [100, 3], [101, 4], [1000, 4], [1001, 5]];
  for (const [count, bucket] of cases) assert.equal(bucketOf(count, BOUNDS), bucket, `count ${count}`);
  assert.equal(bucketOf(123, []), 0);
});

test('pools are sorted by bucket then item, one row per item 1..items', () => {
  const counts = Int32Array.from([99, 5, 0, 2000, 5, 60, 0]); // slot 0 ignored
  const pools = buildPools(counts, BOUNDS);
  assert.deepEqual(Array.from(pools.item), [2, 6, 1, 4, 5, 3]);
  assert.deepEqual(Array.from(pools.bucket), [0, 0, 1, 1, 3, 5]);
  assert.deepEqual(Array.from(pools.exposures), [0, 0, 5, 5, 60, 2000]);
  assert.deepEqual(pools.counts, [2, 2, 0, 1, 0, 1]);
});

test('bounds must be strictly ascending integers >= 0 (errors name neg_bucket_bounds)', () => {
  assert.throws(() => validateBounds([3, 9, 9, 100]), /'neg_bucket_bounds'.*strictly ascending/);
  assert.throws(() => validateBounds([10, 3]), /'neg_bucket_bounds'/);
  assert.throws(() => validateBounds([-1, 3]), /'neg_bucket_bounds'/);
  assert.doesNotThrow(() => validateBounds([]));
});

test('weights: wrong length, negative or all-zero are errors naming neg_bucket_weights', () => {
  const full = [1, 1, 1, 1, 1, 1];
  assert.throws(() => resolveWeights([0.5, 0.5], full), /'neg_bucket_weights'.*2 weights.*6 buckets/);
  assert.throws(() => resolveWeights([0.5, -0.1, 0.2, 0.2, 0.1, 0.1], full), /'neg_bucket_weights'/);
  assert.throws(() => resolveWeights([0, 0, 0, 0, 0, 0], full), /'neg_bucket_weights'/);
  assert.throws(() => resolveWeights([1, 0, 0, 0, 0, 0], [0, 3, 3, 3, 3, 3]), /'neg_bucket_weights'.*empty buckets/);
});

test('weights: off-1 sums are normalised with a notice; empty buckets zeroed with a warning', () => {
  const same = resolveWeights(WEIGHTS, [1, 1, 1, 1, 1, 1]);
  assert.deepEqual(same.notices, []);
  same.weights.forEach((w, b) => assert.ok(Math.abs(w - WEIGHTS[b]!) < 1e-12));

  const scaled = resolveWeights([2, 2, 4], [5, 5, 5]);
  assert.deepEqual(scaled.weights, [0.25, 0.25, 0.5]);
  assert.equal(scaled.notices.length, 1);
  assert.match(scaled.notices[0]!, /normalised/);

  const empty = resolveWeights(WEIGHTS, [4, 0, 7, 1, 0, 2]);
  assert.equal(empty.weights[1], 0);
  assert.equal(empty.weights[4], 0);
  assert.ok(Math.abs(empty.weights.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.ok(Math.abs(empty.weights[0]! / empty.weights[2]! - WEIGHTS[0]! / WEIGHTS[2]!) < 1e-12, 'ratios of kept buckets preserved');
  assert.equal(empty.notices.length, 1);
  assert.match(empty.notices[0]!, /^warning: bucket\(s\) 1, 4 have no items/);
});

test('buildNegatives fills the manifest from counts and params', () => {
  const counts = Int32Array.from([0, 1, 2, 3, 4]);
  const { manifest } = buildNegatives(counts, 10, { neg_bucket_bounds: [3], neg_bucket_weights: [0.5, 0.5] });
  assert.deepEqual(manifest.counts, [3, 1]);
  assert.deepEqual(manifest.empty_buckets, []);
  assert.deepEqual(manifest.weights, [0.5, 0.5]);
  assert.equal(manifest.items, 4);
  assert.equal(manifest.train_events, 10);
});

// --- end to end: an ingest-shaped fixture through `npx tsx stages/negatives/main.ts`

/** Exposures per item 1..30: one item at each bucket edge, the rest small. */
function fixtureCounts(): Int32Array {
  const edges = [0, 1, 3, 4, 9, 10, 54, 55, 100, 101, 1000, 1001];
  const counts = new Int32Array(31);
  for (let idx = 1; idx <= 30; idx++) counts[idx] = idx <= edges.length ? edges[idx - 1]! : (idx * 7) % 13;
  return counts;
}

/** Writes an ingest-shaped folder: 2 event shards, train events per fixtureCounts plus events that must not count. */
function writeIngestFixture(dir: string, counts: Int32Array): void {
  const rng = new Rng(123);
  const rows: [number, number][] = []; // [item, role]
  for (let idx = 1; idx < counts.length; idx++) {
    for (let k = 0; k < counts[idx]!; k++) rows.push([idx, Role.train]);
    for (const role of [Role.valid, Role.between, Role.test, Role.after]) if (rng.next() < 0.5) rows.push([idx, role]);
  }
  for (let k = 0; k < 40; k++) rows.push([0, Role.train]); // unknown items
  rng.shuffle(rows);
  const half = Math.floor(rows.length / 2);
  const parts = [rows.slice(0, half), rows.slice(half)];
  const shards = parts.map((part, s) => {
    const n = part.length;
    const user = Int32Array.from(part, (_, r) => s * 1000 + Math.floor(r / 50) + 1);
    const table = makeTable({
      user: flat(user),
      position: flat(Int32Array.from(part, (_, r) => r % 50)),
      item: flat(Int32Array.from(part, ([item]) => item)),
      action: flat(Int8Array.from(part, (_, r) => r % 3)),
      ts: flat(Uint32Array.from(part, (_, r) => 1_700_000_000 + r)),
      role: flat(Int8Array.from(part, ([, role]) => role)),
    });
    writeArrowFile(eventShardPath(dir, shardName(s)), table);
    return { name: shardName(s), users: new Set(user).size, events: n };
  });
  const manifest: IngestManifest = {
    source: 'test fixture',
    users: shards.reduce((a, s) => a + s.users, 0),
    items: counts.length - 1,
    events: rows.length,
    shards,
    features: { user_sparse: [], user_array: [], item_sparse: [], item_array: [], item_continuous: [], mm: {} },
    vocab: {},
    splits: { train_events: 0, valid_targets: 0, test_targets: 0, users_without_targets: 0, users_with_one_target: 0 },
    skipped_lines: [],
  };
  writeFileSync(join(dir, 'manifest.json'), stableJson(manifest));
}

function writeParams(path: string, overrides: Record<string, unknown>): void {
  const params = parse(readFileSync(join(REPO, 'params.yaml'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path, stringify({ ...params, ...overrides }));
}

function runStage(ingestDir: string, outDir: string, paramsFile: string): { status: number | null; stderr: string } {
  const r = spawnSync('npx', ['tsx', 'stages/negatives/main.ts', ingestDir, outDir, '--params', paramsFile], { cwd: REPO, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

test('end to end: pools, parquet copy and manifest; byte-identical rerun; sampler reads the output', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'negatives-e2e-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const counts = fixtureCounts();
  writeIngestFixture(join(tmp, 'ingest'), counts);
  const paramsFile = join(tmp, 'params.yaml');
  writeParams(paramsFile, { neg_bucket_bounds: BOUNDS, neg_bucket_weights: WEIGHTS });
  const out = join(tmp, 'out');

  const first = runStage(join(tmp, 'ingest'), out, paramsFile);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /\[negatives\] 30 items from \d+ train events in 6 buckets/);

  const pools = readArrowFile(join(out, 'pools.arrow'));
  assert.equal(pools.numRows, 30);
  const item = columnValues<Int32Array>(pools, 'item').subarray(0, 30);
  const bucket = columnValues<Int8Array>(pools, 'bucket').subarray(0, 30);
  const exposures = columnValues<Int32Array>(pools, 'exposures').subarray(0, 30);
  const order = Array.from(item, (idx, r) => bucket[r]! * 1000 + idx);
  assert.deepEqual(order, [...order].sort((a, b) => a - b), 'sorted by bucket then item');
  assert.deepEqual([...item].sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i + 1));
  for (let r = 0; r < 30; r++) {
    assert.equal(exposures[r], counts[item[r]!], `item ${item[r]} exposures`);
    assert.equal(bucket[r], bucketOf(counts[item[r]!]!, BOUNDS), `item ${item[r]} bucket`);
  }

  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as NegativesManifest;
  assert.equal(manifest.train_events, counts.reduce((a, c) => a + c, 0));
  assert.deepEqual(manifest.bounds, BOUNDS);
  assert.deepEqual(manifest.weights_param, WEIGHTS);
  assert.deepEqual(manifest.empty_buckets, []);
  assert.equal(manifest.counts.reduce((a, c) => a + c, 0), 30);
  assert.ok(Math.abs(manifest.weights.reduce((a, w) => a + w, 0) - 1) < 1e-12);

  const parquet = tableFromIPC(readParquet(new Uint8Array(readFileSync(join(out, 'pools.parquet')))).intoIPCStream());
  assert.equal(parquet.numRows, 30);
  assert.deepEqual(Array.from(parquet.getChild('item')!.toArray() as Int32Array), Array.from(item));

  const sampler = BucketSampler.fromArtifacts(out);
  for (const drawn of sampler.draw(1000, new Rng(1))) assert.ok(drawn >= 1 && drawn <= 30);

  const before = ['pools.arrow', 'pools.parquet', 'manifest.json'].map((f) => readFileSync(join(out, f), 'base64'));
  const second = runStage(join(tmp, 'ingest'), out, paramsFile);
  assert.equal(second.status, 0, second.stderr);
  ['pools.arrow', 'pools.parquet', 'manifest.json'].forEach((f, i) => assert.equal(readFileSync(join(out, f), 'base64'), before[i], `${f} differs on rerun`));
});

test('end to end: an empty bucket is warned about and weighted 0', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'negatives-empty-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  writeIngestFixture(join(tmp, 'ingest'), fixtureCounts());
  const paramsFile = join(tmp, 'params.yaml');
  writeParams(paramsFile, { neg_bucket_bounds: [3, 9, 54, 100, 1000, 5000], neg_bucket_weights: [0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1] });
  const r = runStage(join(tmp, 'ingest'), join(tmp, 'out'), paramsFile);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /\[negatives\] warning: bucket\(s\) 6 have no items/);
  const manifest = JSON.parse(readFileSync(join(tmp, 'out', 'manifest.json'), 'utf8')) as NegativesManifest;
  assert.deepEqual(manifest.empty_buckets, [6]);
  assert.equal(manifest.weights[6], 0);
  assert.equal(manifest.notices.length, 1);
});

test('end to end: bad params exit non-zero with one line naming the key and leave no output', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'negatives-bad-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  writeIngestFixture(join(tmp, 'ingest'), fixtureCounts());
  const cases: [Record<string, unknown>, string][] = [
    [{ neg_bucket_weights: [0.2, 0.2, 0.2, 0.2, 0.2] }, 'neg_bucket_weights'],
    [{ neg_bucket_bounds: [3, 54, 9, 100, 1000] }, 'neg_bucket_bounds'],
  ];
  for (const [overrides, key] of cases) {
    const paramsFile = join(tmp, 'params.yaml');
    writeParams(paramsFile, overrides);
    const out = join(tmp, 'out');
    const r = runStage(join(tmp, 'ingest'), out, paramsFile);
    assert.notEqual(r.status, 0);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`^\\[negatives\\] error: .*'${key}'`));
    assert.equal(existsSync(out), false);
  }
});
