import { test } from 'node:test';
import assert from 'node:assert/strict';
import { predictCuts } from '../../../stages/predict/predict-cuts.ts';
import { tinyShard } from '../../core/sequences/tiny-shard.ts';

test('predictCuts: one cut per user over the whole history, the last maxlen records as tokens', () => {
  const shard = tinyShard(); // users of 9, 5 and 2 records
  const cuts = predictCuts(shard, 4);
  assert.equal(cuts.count, 3);
  assert.deepEqual([...cuts.userRow], [0, 1, 2]);
  assert.deepEqual([...cuts.historyStart], [0, 9, 14]);
  assert.deepEqual([...cuts.historyEnd], [9, 14, 16], 'every record is history, whatever its role');
  assert.deepEqual([...cuts.windowStart], [5, 10, 14]);
  assert.deepEqual([...cuts.target], [8, 13, 15]);
  assert.equal(cuts.skipped, 0);
});
