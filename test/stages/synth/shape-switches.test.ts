// The synth switches behind profiles/sparse.yaml, each checked for the shape it promises on a small
// world: synth_len_power (short-skewed lengths within min..max), synth_all_clicks (every record a
// click, same item draws, an oracle without click conditioning), synth_user_profiles (no profile
// records and no user feature ids, so ingest counts no profiles and every user gets both targets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { writeDirAtomic } from '../../../core/stage/atomic.ts';
import { validateParams } from '../../../core/stage/params.ts';
import { PyDict } from '../../../core/taac/pickle/values.ts';
import { readPickle } from '../../../core/taac/pickle/read.ts';
import { Progress } from '../../../core/stage/progress.ts';
import { ingestRaw, type IngestParams } from '../../../stages/ingest/ingest.ts';
import { ITEM_FEATURES } from '../../../stages/synth/features.ts';
import { generateUserEvents } from '../../../stages/synth/sequences.ts';
import { targetDistribution } from '../../../stages/synth/truth.ts';
import { buildWorld, type SynthParams } from '../../../stages/synth/world.ts';
import { writeSyntheticDataset } from '../../../stages/synth/write.ts';

/** The sparse profile's switches on a small world. */
const SPARSE: SynthParams = {
  seed: 5, synth_users: 300, synth_items: 400, synth_topics: 6, synth_days: 24,
  synth_min_len: 5, synth_max_len: 15, synth_predict_users: 0, synth_mm_large_dim: 8,
  synth_len_power: 1.6, synth_user_profiles: false, synth_all_clicks: true, synth_oracle: true,
};
const DEFAULT_SHAPE = { synth_len_power: 0.5, synth_user_profiles: true, synth_all_clicks: false } as const;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1]!;
}

function lengths(p: SynthParams): number[] {
  const world = buildWorld(p);
  return Array.from({ length: p.synth_users }, (_, u) => generateUserEvents(world, u).length);
}

test('synth_len_power 1.6 skews lengths short: all within min..max, both ends reached, median 8 (0.5 gives >= 11)', () => {
  const short = lengths(SPARSE);
  assert.ok(short.every((n) => n >= 5 && n <= 15), 'every length in 5..15');
  assert.equal(Math.min(...short), 5);
  assert.equal(Math.max(...short), 15);
  assert.equal(median(short), 8);
  assert.ok(median(lengths({ ...SPARSE, synth_len_power: 0.5 })) >= 11, 'the default power skews long');
});

test('synth_all_clicks: every record is action 1 with the same items and times as the default draws', () => {
  const clicks = buildWorld(SPARSE);
  const mixed = buildWorld({ ...SPARSE, synth_all_clicks: false });
  let exposures = 0;
  for (let u = 0; u < 50; u++) {
    const a = generateUserEvents(clicks, u);
    const b = generateUserEvents(mixed, u);
    assert.ok(a.action.every((x) => x === 1), `user ${u}: all clicks`);
    assert.deepEqual([a.item, a.ts], [b.item, b.ts], `user ${u}: same item draws`);
    exposures += b.action.filter((x) => x === 0).length;
  }
  assert.ok(exposures > 0, 'without the switch the same users have exposures');
});

test('synth_all_clicks: the oracle is the draw distribution itself (no click weighting), still summing to 1', () => {
  const clicks = buildWorld(SPARSE);
  const mixed = buildWorld({ ...SPARSE, synth_all_clicks: false });
  const ev = generateUserEvents(clicks, 7);
  const k = ev.length - 1;
  const p = targetDistribution(clicks, ev, k);
  const q = targetDistribution(mixed, ev, k);
  assert.ok(Math.abs(p.reduce((s, x) => s + x, 0) - 1) < 1e-9);
  // Two items of one topic (neither the previous item's successor) differ in click weight only through
  // their quality: the all-clicks oracle's ratio is their Zipf weight ratio, the click-conditioned one's is not.
  const t = clicks.items.topic[ev.item[k]!]!;
  const succ = clicks.items.successor[ev.item[k - 1]!];
  const ranks = [...clicks.topics.members[t]!.keys()].filter((r) => clicks.topics.members[t]![r] !== succ).slice(0, 2);
  const [a, b] = ranks.map((r) => clicks.topics.members[t]![r]!) as [number, number];
  const cum = clicks.topics.cumWeight[t]!;
  const weight = (r: number): number => cum[r]! - (r > 0 ? cum[r - 1]! : 0);
  const prior = weight(ranks[0]!) / weight(ranks[1]!);
  assert.ok(Math.abs(p[a]! / p[b]! - prior) < 1e-9, `all-clicks ratio ${p[a]! / p[b]!} = Zipf ratio ${prior}`);
  assert.ok(Math.abs(q[a]! / q[b]! - prior) > 1e-6, 'the click-conditioned oracle differs');
});

test('synth_user_profiles false: no profile records or user fids; ingest counts 0 profiles and gives every user both targets', async () => {
  const root = mkdtempSync(join(tmpdir(), 'synth-sparse-'));
  try {
    const raw = join(root, 'raw');
    await writeDirAtomic(raw, (tmp) => writeSyntheticDataset(tmp, SPARSE));
    const lines = readFileSync(join(raw, 'seq.jsonl'), 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, SPARSE.synth_users);
    for (const line of lines) {
      const recs = JSON.parse(line) as unknown[][];
      assert.ok(recs.every((r) => r[1] !== null && r[4] === 1), 'item records only, each a click');
    }
    const indexer = readPickle(readFileSync(join(raw, 'indexer.pkl')), 'indexer.pkl') as PyDict;
    const fids = [...(indexer.get('f') as PyDict).keys()].map(String).sort();
    assert.deepEqual(fids, ITEM_FEATURES.map((s) => s.fid).sort(), 'the indexer knows item feature ids only');

    const quiet = new Progress('ingest', 1e9, () => undefined);
    const params: IngestParams = { mm_emb_id: [], on_bad_line: 'error', shard_users: 128, target_min_action: 1, io_concurrency: 1 };
    const m = await writeDirAtomic(join(root, 'ingest'), (tmp) => ingestRaw(raw, tmp, params, quiet));
    assert.equal(m.users_with_profile, 0);
    assert.deepEqual([m.features.user_sparse, m.features.user_array], [[], []]);
    assert.equal(m.splits.valid_targets, SPARSE.synth_users);
    assert.equal(m.splits.test_targets, SPARSE.synth_users);
    assert.equal(m.splits.users_without_targets + m.splits.users_with_one_target, 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the default shape keeps exposures and conversions; bad switch values fail naming the key', () => {
  const world = buildWorld({ ...SPARSE, ...DEFAULT_SHAPE, synth_min_len: 11, synth_max_len: 100 });
  const actions = new Set(Array.from({ length: 30 }, (_, u) => [...generateUserEvents(world, u).action]).flat());
  assert.deepEqual([...actions].sort(), [0, 1, 2]);
  const shipped = parse(readFileSync(new URL('../../../params.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(
    Object.fromEntries(Object.keys(DEFAULT_SHAPE).map((k) => [k, shipped[k]])),
    DEFAULT_SHAPE,
    'params.yaml ships the default shape',
  );
  assert.throws(() => validateParams({ ...shipped, synth_len_power: 0 }, 'p'), /'synth_len_power' must be >= 0.01/);
  assert.throws(() => validateParams({ ...shipped, synth_all_clicks: 'yes' }, 'p'), /'synth_all_clicks' must be true or false/);
  assert.throws(() => validateParams({ ...shipped, synth_user_profiles: 1 }, 'p'), /'synth_user_profiles' must be true or false/);
});
