// Cut rules for every split: what history each sees, where the target is, maxlen truncation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Role } from '../../../core/artifacts/artifacts.ts';
import { countPositives, cutSequences, historyItems, selectCuts } from '../../../core/sequences/cut.ts';
import { tinyShard } from './tiny-shard.ts';

test('train cut: history and positives are Role.train events only, never a validation or test target', () => {
  const shard = tinyShard();
  const cuts = cutSequences('train', shard, 50);
  assert.deepEqual([...cuts.userRow], [0, 1], 'user 2 has no training events');
  assert.equal(cuts.skipped, 1);
  for (let k = 0; k < cuts.count; k++) {
    for (let e = cuts.windowStart[k]!; e <= cuts.target[k]!; e++) assert.equal(shard.role[e], Role.train, `train cut ${k} touches event ${e}`);
  }
  // user 0: history = the first three training events, the fourth is the last position's positive
  assert.deepEqual([cuts.historyStart[0], cuts.windowStart[0], cuts.historyEnd[0], cuts.target[0]], [0, 0, 3, 3]);
  // user 1 (no targets): all five events are training events
  assert.deepEqual([cuts.windowStart[1], cuts.historyEnd[1], cuts.target[1]], [9, 13, 13]);
});

test('valid cut: history = the training events, target = the Role.valid event', () => {
  const shard = tinyShard();
  const cuts = cutSequences('valid', shard, 50);
  assert.deepEqual([...cuts.userRow], [0, 2], 'user 1 has no validation target');
  assert.deepEqual([cuts.historyStart[0], cuts.historyEnd[0], cuts.target[0]], [0, 4, 4]);
  assert.equal(shard.role[cuts.target[0]!], Role.valid);
  for (let e = cuts.historyStart[0]!; e < cuts.historyEnd[0]!; e++) assert.equal(shard.role[e], Role.train);
  assert.deepEqual([cuts.historyStart[1], cuts.historyEnd[1], cuts.target[1]], [14, 14, 14], 'user 2: empty history');
});

test('test cut: history includes the validation target and the events between', () => {
  const shard = tinyShard();
  const cuts = cutSequences('test', shard, 50);
  assert.deepEqual([...cuts.userRow], [0, 2]);
  assert.equal(shard.role[cuts.target[0]!], Role.test);
  const roles: number[] = Array.from(shard.role.subarray(cuts.windowStart[0]!, cuts.historyEnd[0]!));
  assert.ok(!roles.includes(Role.after) && !roles.includes(Role.test));
  assert.deepEqual(roles, [Role.train, Role.train, Role.train, Role.train, Role.valid, Role.between, Role.between]);
  assert.deepEqual([cuts.windowStart[1], cuts.historyEnd[1], cuts.target[1]], [14, 15, 15], "user 2's history is its validation event");
});

test('only the last maxlen history events become tokens; exclusion still sees the whole history', () => {
  const shard = tinyShard();
  const cuts = cutSequences('test', shard, 3);
  assert.deepEqual([cuts.historyStart[0], cuts.windowStart[0], cuts.historyEnd[0]], [0, 4, 7]);
  assert.deepEqual([...historyItems(cuts, shard, 0)], [1, 2, 3, 4, 5]);
  const train = cutSequences('train', shard, 2);
  assert.deepEqual([train.windowStart[0], train.historyEnd[0]], [1, 3]);
});

test('train_windows all: consecutive maxlen windows from the end, every training event a positive exactly once', () => {
  const shard = tinyShard();
  const maxlen = 1;
  const cuts = cutSequences('train', shard, maxlen, 'all');
  // user 0: training events 0..3 -> windows ending at 1 and 3; user 1: events 9..13 -> ending at 9, 11, 13
  assert.deepEqual([...cuts.userRow], [0, 0, 1, 1, 1], "one cut per window, a user's oldest first");
  assert.deepEqual([...cuts.target], [1, 3, 9, 11, 13]);
  assert.deepEqual([...cuts.windowStart], [0, 2, 9, 10, 12]);
  assert.equal(cuts.skipped, 1, 'user 2 still has no training cut');
  const positives: number[] = [];
  for (let k = 0; k < cuts.count; k++) {
    assert.ok(cuts.historyEnd[k]! - cuts.windowStart[k]! <= maxlen);
    // a window's positives: the first kept history event (the user token's) through the target
    for (let e = cuts.windowStart[k]!; e <= cuts.target[k]!; e++) positives.push(e);
  }
  assert.deepEqual(positives, [0, 1, 2, 3, 9, 10, 11, 12, 13]);
  const last = cutSequences('train', shard, maxlen, 'last');
  assert.deepEqual([...last.target], [3, 13], 'last: only the newest window of each user');
  assert.deepEqual([...cutSequences('train', shard, 50, 'all').target], [...cutSequences('train', shard, 50).target], 'a history within maxlen is one window either way');
});

test('a target with an unknown item (idx 0) gives no cut; selectCuts reorders', () => {
  const shard = tinyShard();
  shard.item[4] = 0;
  const cuts = cutSequences('valid', shard, 50);
  assert.deepEqual([...cuts.userRow], [2]);
  const all = cutSequences('test', shard, 50);
  const swapped = selectCuts(all, [1, 0]);
  assert.deepEqual([...swapped.userRow], [2, 0]);
  assert.deepEqual([...swapped.target], [all.target[1], all.target[0]]);
});

test('countPositives: windows all count every known training event once; last only its window', () => {
  const shard = tinyShard();
  const maxItem = Math.max(...shard.item);
  const all = new Float64Array(maxItem + 1);
  countPositives(cutSequences('train', shard, 2, 'all'), shard, all);
  const expected = new Float64Array(maxItem + 1);
  for (let e = 0; e < shard.role.length; e++) if (shard.role[e] === Role.train && shard.item[e]! > 0) expected[shard.item[e]!]! += 1;
  assert.deepEqual([...all], [...expected]);
  assert.ok(expected.reduce((a, b) => a + b, 0) > 0);
  const last = new Float64Array(maxItem + 1);
  const cuts = cutSequences('train', shard, 2, 'last');
  countPositives(cuts, shard, last);
  const inWindows = new Float64Array(maxItem + 1);
  for (let k = 0; k < cuts.count; k++) for (let e = cuts.windowStart[k]!; e <= cuts.target[k]!; e++) if (shard.item[e]! > 0) inWindows[shard.item[e]!]! += 1;
  assert.deepEqual([...last], [...inWindows]);
  assert.ok(last.reduce((a, b) => a + b, 0) < expected.reduce((a, b) => a + b, 0), 'the last window holds fewer positives than all of them');
});
