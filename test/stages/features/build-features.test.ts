import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Role, eventShardPath, featureEventShardPath, featureItemTablePath } from '../../../core/artifacts/artifacts.ts';
import { columnValues, readArrowFile } from '../../../core/artifacts/arrow-io.ts';
import { UserError } from '../../../core/stage/errors.ts';
import { buildFeatures } from '../../../stages/features/build-features.ts';
import { loadCalendar } from '../../../core/time/calendar.ts';
import { DYNAMIC_FEATURES } from '../../../stages/features/item-dynamic.ts';
import { STORED_TIME_FIDS } from '../../../core/time/time-features.ts';
import { type FixtureUser, assignRoles, randomDataset, writeIngestFixture } from './ingest-fixture.ts';

const calendar = loadCalendar();

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'features-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file under `dir`, relative path → bytes. */
function readTree(dir: string, prefix = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    const rel = join(prefix, name);
    if (statSync(join(dir, rel)).isDirectory()) for (const [k, v] of readTree(dir, rel)) out.set(k, v);
    else out.set(rel, readFileSync(join(dir, rel)));
  }
  return out;
}

test('events shards are aligned with ingest, item table and manifest are complete, reruns are byte-identical', (t) => {
  const root = tempDir(t);
  const { users, items } = randomDataset(3, 2, 25, 60);
  const ingest = writeIngestFixture(join(root, 'ingest'), users, items);
  const m = buildFeatures(join(root, 'ingest'), join(root, 'a'), calendar).manifest;
  buildFeatures(join(root, 'ingest'), join(root, 'b'), calendar);

  const a = readTree(join(root, 'a'));
  const b = readTree(join(root, 'b'));
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [k, v] of a) assert.ok(v.toString('hex') === b.get(k)!.toString('hex'), `${k} differs between reruns`);
  assert.deepEqual([...a.keys()].sort(), [
    'events/part-00000.arrow', 'events/part-00001.arrow', 'items/part-00000.arrow', 'manifest.json',
    'parquet/events-00000.parquet', 'parquet/events-00001.parquet', 'parquet/items.parquet',
  ]);

  for (const shard of ingest.shards) {
    const src = readArrowFile(eventShardPath(join(root, 'ingest'), shard.name));
    const out = readArrowFile(featureEventShardPath(join(root, 'a'), shard.name));
    assert.equal(out.numRows, src.numRows);
    assert.deepEqual(out.schema.fields.map((f) => f.name), STORED_TIME_FIDS.map((f) => `f${f}`));
    assert.ok(columnValues(out, 'f211') instanceof Int16Array);
    assert.ok(columnValues(out, 'f201') instanceof Int8Array);
    // Sequence starts come from the ingest user column: exactly the first rows of users get 206 = 34.
    const position = columnValues<Int32Array>(src, 'position');
    const f206 = columnValues<Int8Array>(out, 'f206');
    const f207 = columnValues<Int8Array>(out, 'f207');
    for (let i = 0; i < position.length; i++) {
      assert.equal(f206[i] === 34, position[i] === 0, `row ${i}`);
      assert.equal(f207[i] === 5, position[i] === 0, `row ${i}`);
    }
  }

  const itemTable = readArrowFile(featureItemTablePath(join(root, 'a')));
  assert.equal(itemTable.numRows, items.count + 1);
  assert.deepEqual(itemTable.schema.fields.map((f) => f.name), ['item', ...DYNAMIC_FEATURES]);
  assert.ok(columnValues(itemTable, 'dyn_ctr') instanceof Float32Array);
  assert.ok(columnValues(itemTable, 'dyn_hot') instanceof Int32Array);

  assert.deepEqual(m.shards, ingest.shards);
  assert.equal(m.events, ingest.events);
  assert.equal(m.dynamic_stats.train_events, ingest.splits.train_events);
  const trainTs = users.flat().flatMap((u) => {
    const roles = assignRoles(u.events.map((e) => e.action));
    return u.events.filter((_, p) => roles[p] === Role.train).map((e) => e.ts);
  });
  assert.equal(m.train_cutoff_ts, Math.max(...trainTs));
  assert.equal(JSON.parse(a.get('manifest.json')!.toString()).train_cutoff_ts, m.train_cutoff_ts);
});

test('manifest defaults: most frequent non-zero values, arrays [0], multimodal 0; vocab and coverage', (t) => {
  const root = tempDir(t);
  const { users, items } = randomDataset(5, 1, 40, 60);
  writeIngestFixture(join(root, 'ingest'), users, items);
  const m = buildFeatures(join(root, 'ingest'), join(root, 'out'), calendar).manifest;
  // f100 over items 1..60: even items missing; odd multiples of 3 (3, 9, …, 57: 10 items) → 7; the other
  // 20 odd items take 1 + i % 5, at most 4 each. So 7 wins though 0 is the commonest value.
  assert.equal(m.defaults['100'], 7);
  assert.equal(m.top3['100']![0]![0], 7);
  assert.equal(m.top3['100']![0]![1], 10);
  assert.equal(m.coverage['100'], 0.5);
  assert.equal(m.vocab['100'], 12, "ingest's vocab (12) is larger than the largest value seen + 1 (8)");
  assert.deepEqual(m.defaults['106'], [0]);
  assert.equal(m.defaults['81'], 0);
  assert.equal(m.coverage['81'], 45 / 60); // has_f81 is 0 for multiples of 4
  assert.equal(m.kinds['103'], 'user_sparse');
  const f103 = users[0]!.map((u) => u.f103).filter((v) => v > 0);
  const counts = new Map<number, number>();
  for (const v of f103) counts.set(v, (counts.get(v) ?? 0) + 1);
  const best = [...counts].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0]![0];
  assert.equal(m.defaults['103'], best);
  assert.equal(m.coverage['103'], f103.length / 40);
  for (const fid of ['201', '202', '203', '204', '205', '206', '207', '208', '209', '210', '211', '212']) {
    assert.ok(fid in m.defaults, `default for ${fid}`);
    assert.equal(m.coverage[fid], 1);
  }
  assert.equal(m.defaults['204'], m.defaults['206']);
  assert.equal(m.vocab['211'], 169);
  assert.equal(m.time_vocab['204'], 35);
  assert.deepEqual(m.dynamic, [...DYNAMIC_FEATURES]);
});

test('leak: changing validation/test targets and deleting events after them leaves the item features byte-identical', (t) => {
  const root = tempDir(t);
  const { users, items } = randomDataset(11, 2, 20, 50);
  writeIngestFixture(join(root, 'ingest'), users, items);
  buildFeatures(join(root, 'ingest'), join(root, 'out'), calendar);
  // Move every target to another item and a later time, and drop everything after the test target.
  const perturbed: FixtureUser[][] = users.map((shard) =>
    shard.map((u) => {
      const clicks = u.events.flatMap((e, i) => (e.action >= 1 ? [i] : []));
      const validAt = clicks.at(-2)!, testAt = clicks.at(-1)!;
      const events = u.events.slice(0, testAt + 1).map((e, i) =>
        i === validAt || i === testAt ? { item: (e.item % items.count) + 1, action: e.action, ts: e.ts + 50 * 86400 } : e,
      );
      return { ...u, events };
    }),
  );
  writeIngestFixture(join(root, 'ingest2'), perturbed, items);
  buildFeatures(join(root, 'ingest2'), join(root, 'out2'), calendar);
  for (const f of ['items/part-00000.arrow', 'parquet/items.parquet']) {
    assert.equal(readFileSync(join(root, 'out', f)).toString('hex'), readFileSync(join(root, 'out2', f)).toString('hex'), `${f} changed`);
  }
  const m1 = JSON.parse(readFileSync(join(root, 'out/manifest.json'), 'utf8'));
  const m2 = JSON.parse(readFileSync(join(root, 'out2/manifest.json'), 'utf8'));
  assert.equal(m2.train_cutoff_ts, m1.train_cutoff_ts);
  assert.deepEqual(m2.dynamic_stats, m1.dynamic_stats);
  assert.notEqual(m2.events, m1.events, 'the perturbation did remove events');
});

test('bad ingest folders stop with a one-line reason', (t) => {
  const root = tempDir(t);
  assert.throws(() => buildFeatures(join(root, 'nope'), join(root, 'out'), calendar), (e: unknown) => e instanceof UserError && /manifest.json: not found/.test(e.message));
  const { users, items } = randomDataset(1, 1, 3, 10);
  writeIngestFixture(join(root, 'ingest'), users, items);
  const manifestPath = join(root, 'ingest/manifest.json');
  const raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  raw.shards[0].events += 1;
  writeFileSync(manifestPath, JSON.stringify(raw));
  assert.throws(() => buildFeatures(join(root, 'ingest'), join(root, 'out'), calendar), /part-00000.arrow: \d+ rows, manifest says \d+/);
  writeFileSync(manifestPath, '{"shards": 3}');
  assert.throws(() => buildFeatures(join(root, 'ingest'), join(root, 'out'), calendar), /not an ingest manifest/);
});
