import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Role } from '../../../core/artifacts/artifacts.ts';
import { Rng } from '../../../core/random/rng.ts';
import { computeItemDynamic, DYNAMIC_FEATURES, ItemDynamicAccumulator, type ItemDynamic } from '../../../stages/features/item-dynamic.ts';

interface Ev { user: number; item: number; action: number; ts: number; role: Role }

function accumulate(itemCount: number, events: Ev[]): ItemDynamic {
  const acc = new ItemDynamicAccumulator(itemCount);
  acc.add(
    new Int32Array(events.map((e) => e.user)),
    new Int32Array(events.map((e) => e.item)),
    new Int8Array(events.map((e) => e.action)),
    new Uint32Array(events.map((e) => e.ts)),
    new Int8Array(events.map((e) => e.role)),
  );
  return acc.finish();
}

const close = (actual: number, expected: number, what: string): void => assert.ok(Math.abs(actual - expected) < 1e-5, `${what}: ${actual} ≠ ${expected}`);

test('hand-computed features of a two-user log; targets and later events are not counted', () => {
  const { train, valid, between, test: tst, after } = Role;
  const dyn = accumulate(4, [
    { user: 1, item: 1, action: 0, ts: 1000, role: train },
    { user: 1, item: 2, action: 1, ts: 2000, role: train },
    { user: 1, item: 1, action: 2, ts: 3000, role: train },
    { user: 1, item: 3, action: 0, ts: 4000, role: train },
    { user: 1, item: 4, action: 1, ts: 5000, role: valid },
    { user: 1, item: 2, action: 0, ts: 6000, role: between },
    { user: 1, item: 3, action: 1, ts: 7000, role: tst },
    { user: 1, item: 1, action: 0, ts: 8000, role: after },
    { user: 2, item: 1, action: 0, ts: 1500, role: train },
    { user: 2, item: 2, action: 0, ts: 2500, role: train },
    { user: 2, item: 0, action: 1, ts: 9000, role: train }, // unknown item: ignored
  ]);
  const c = dyn.columns;
  // exposures 3, 2, 1, 0; clicks 1, 1, 0, 0; conversions 1, 0, 0, 0; users 2, 2, 1, 0
  assert.equal(dyn.trainEvents, 6);
  assert.equal(dyn.trainCutoffTs, 4000);
  close(dyn.globalCtr, 1 / 3, 'p = 2 clicks / 6 exposures');
  close(dyn.prior.alpha, 20 / 3, 'alpha');
  close(dyn.prior.beta, 40 / 3, 'beta');
  const expect: Record<string, number[]> = {
    dyn_log_exposures: [0, 1.386294, 1.098612, 0.693147, 0],
    dyn_log_clicks: [0, 0.693147, 0.693147, 0, 0],
    dyn_log_conversions: [0, 0.693147, 0, 0, 0],
    // (clicks + 20/3) / (exposures + 20): 23/3/23, 23/3/22, 20/3/21, unseen = p
    dyn_ctr: [0, 1 / 3, 23 / 66, 20 / 63, 1 / 3],
    dyn_exposure_tier: [0, 7, 4, 1, 0], // 1 + ⌊10·below/3⌋ with below = 2, 1, 0
    dyn_ctr_tier: [0, 4, 7, 1, 0], // CTR order: item 3 < item 1 < item 2
    dyn_anomaly: [0, 0, 0, 0, 0],
    dyn_log_users: [0, 1.098612, 1.098612, 0.693147, 0],
    dyn_hot: [0, 1, 0, 0, 0], // top 1% of 3 seen items: only the item nobody exceeds
    // log1p(days to the cut-off at ts 4000): 1000 s, 1500 s, 0 s; unseen: log1p(3000 s span in days + 1)
    dyn_log_days_since_seen: [0, 0.0115076, 0.0172121, 0, 0.710359],
  };
  for (const name of DYNAMIC_FEATURES) {
    assert.equal(c[name].length, 5);
    expect[name]!.forEach((v, i) => close(c[name][i]!, v, `${name}[${i}]`));
    // item 4 was never seen in training: the unseen row (a cold creative's) is its row, bit for bit
    assert.deepEqual([...dyn.unseen[name]], [c[name][4]], `unseen ${name}`);
  }
});

test('the unseen row when every item was seen: the same formulas as for an item with no training events', () => {
  const ones = new Int32Array([0, 1, 1]);
  const dyn = computeItemDynamic(ones, new Int32Array([0, 1, 0]), new Int32Array(3), ones, new Uint32Array([0, 100, 86500]), { firstTs: 100, cutoffTs: 86500, trainEvents: 2 });
  assert.ok(dyn.columns.dyn_log_exposures.every((v, i) => i === 0 || v > 0), 'every item was seen');
  close(dyn.unseen.dyn_ctr[0]!, 0.5, 'CTR = the prior mean p');
  close(dyn.unseen.dyn_log_days_since_seen[0]!, Math.log1p(86400 / 86400 + 1), 'older than anything seen');
  for (const name of ['dyn_log_exposures', 'dyn_log_clicks', 'dyn_exposure_tier', 'dyn_ctr_tier', 'dyn_hot', 'dyn_anomaly'] as const) assert.equal(dyn.unseen[name][0], 0, name);
});

test('anomaly: z-score > 3 needs at least 20 exposures; clicks > exposures always flags', () => {
  // item 1: 20 exposures, 10 clicks; item 2: 19 and 10; item 3: 961 and 0 → p = 20 / 1000
  const exposures = new Int32Array([0, 20, 19, 961, 1]);
  const clicks = new Int32Array([0, 10, 10, 0, 2]); // item 4: inconsistent counts (more clicks than exposures)
  const zeros = new Int32Array(5);
  const dyn = computeItemDynamic(exposures, clicks, zeros, zeros, new Uint32Array(5), { firstTs: 0, cutoffTs: 0, trainEvents: 1001 });
  // z(item 1) = (10 − 20·0.02) / √(20·0.02·0.98) = 9.6 / 0.626 = 15.3
  assert.deepEqual([...dyn.columns.dyn_anomaly], [0, 1, 0, 0, 1]);
});

test('deciles share a tier on ties; hot keeps ties at the top', () => {
  const exposures = new Int32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0]);
  const zeros = new Int32Array(12);
  const dyn = computeItemDynamic(exposures, zeros, zeros, zeros, new Uint32Array(12), { firstTs: 0, cutoffTs: 0, trainEvents: 55 });
  assert.deepEqual([...dyn.columns.dyn_exposure_tier], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0]);
  assert.deepEqual([...dyn.columns.dyn_hot], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
  const flatExp = new Int32Array([0, 1, 1, 1, 1]);
  const tied = computeItemDynamic(flatExp, new Int32Array(5), new Int32Array(5), new Int32Array(5), new Uint32Array(5), { firstTs: 0, cutoffTs: 0, trainEvents: 4 });
  assert.deepEqual([...tied.columns.dyn_exposure_tier], [0, 1, 1, 1, 1]);
  assert.deepEqual([...tied.columns.dyn_ctr_tier], [0, 1, 1, 1, 1]);
  assert.deepEqual([...tied.columns.dyn_hot], [0, 1, 1, 1, 1]);
});

test('leak: changing or deleting validation/test targets and later events changes no dynamic feature', () => {
  const rng = new Rng(7);
  const items = 40;
  const events: Ev[] = [];
  let ts = 1_745_000_000;
  for (let u = 1; u <= 60; u++) {
    const n = 11 + rng.int(20);
    const validAt = n - 3 - rng.int(3);
    const testAt = n - 1 - rng.int(2);
    for (let p = 0; p < n; p++) {
      ts += 1 + rng.int(5000);
      const role = p < validAt ? Role.train : p === validAt ? Role.valid : p < testAt ? Role.between : p === testAt ? Role.test : Role.after;
      events.push({ user: u, item: 1 + rng.int(items), action: role === Role.valid || role === Role.test ? 1 + rng.int(2) : rng.next() < 0.1 ? 1 : 0, ts, role });
    }
  }
  const base = accumulate(items, events);
  const changed = events.map((e) => (e.role === Role.train ? e : { ...e, item: 1 + rng.int(items), action: rng.int(3), ts: e.ts + 10_000_000 }));
  const deleted = events.filter((e) => e.role === Role.train);
  for (const other of [accumulate(items, changed), accumulate(items, deleted)]) {
    for (const name of DYNAMIC_FEATURES) assert.deepEqual(other.columns[name], base.columns[name], name);
    assert.equal(other.trainCutoffTs, base.trainCutoffTs);
  }
  // and a training event does change them (the test can fail)
  const moved = events.map((e, i) => (i === 0 ? { ...e, item: (e.item % items) + 1 } : e));
  assert.notDeepEqual(accumulate(items, moved).columns.dyn_log_exposures, base.columns.dyn_log_exposures);
});

test('an item idx outside the table is refused', () => {
  assert.throws(() => accumulate(3, [{ user: 1, item: 4, action: 0, ts: 1, role: Role.train }]), /item idx 4 outside 1..3/);
});
