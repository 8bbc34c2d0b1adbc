// drawUserFeatures' packed store: every user's (fid, values) pairs come back in USER_FEATURES order,
// sparse fids with one value, arrays with 1..3 distinct values, all inside the fid's vocab; the store
// holds typed arrays only, so its memory is a few bytes per value rather than objects per user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drawUserFeatures, USER_FEATURES } from '../../../stages/synth/features.ts';
import { buildWorld, type SynthParams } from '../../../stages/synth/world.ts';

const params: SynthParams = {
  seed: 7, synth_users: 200, synth_items: 300, synth_topics: 6, synth_days: 24,
  synth_min_len: 11, synth_max_len: 100, synth_predict_users: 20, synth_mm_large_dim: 16,
  synth_len_power: 0.5, synth_user_profiles: true, synth_all_clicks: false, synth_oracle: true,
};

test('every user (training and predict) gets valid profile pairs in key order, deterministically', () => {
  const world = buildWorld(params);
  const feats = drawUserFeatures(world);
  const again = drawUserFeatures(world);
  const order = USER_FEATURES.map((s) => s.fid);
  let arrays = 0;
  for (let u = 0; u < world.users.count; u++) {
    const pairs = feats.of(u);
    assert.deepEqual(pairs, again.of(u));
    const positions = pairs.map(([fid]) => order.indexOf(fid));
    assert.ok(positions.every((p, k) => p >= 0 && (k === 0 || p > positions[k - 1]!)), `user ${u}: fids in key order`);
    for (const [fid, vals] of pairs) {
      const spec = USER_FEATURES.find((s) => s.fid === fid)!;
      const vocab = spec.vocab as number;
      assert.ok(vals.every((v) => Number.isInteger(v) && v >= 0 && v < vocab), `user ${u} fid ${fid}: ${vals}`);
      if (spec.kind === 'array') {
        arrays++;
        assert.ok(vals.length >= 1 && vals.length <= 3 && new Set(vals).size === vals.length, `user ${u} fid ${fid}: ${vals}`);
      } else assert.equal(vals.length, 1);
    }
  }
  assert.ok(arrays > 0, 'some array features drawn');
  assert.ok(feats.of(world.users.count - 1).length > 0 || feats.of(0).length > 0, 'profiles are not all empty');
});
