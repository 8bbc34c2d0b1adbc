import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeCutTimeFeatures } from '../../../core/time/cut-time-features.ts';
import { loadCalendar } from '../../../core/time/calendar.ts';
import { STORED_TIME_FIDS, TIME_VOCAB, computeTimeFeatures, type StoredTimeFid } from '../../../core/time/time-features.ts';

const calendar = loadCalendar();
const unix = (iso: string): number => Date.parse(iso) / 1000;

/** Time features of one or more sequences; `users[i]` marks the sequence of event i. */
function features(isoTimes: string[], users = isoTimes.map(() => 1)) {
  const ts = new Uint32Array(isoTimes.map(unix));
  return computeTimeFeatures(new Int32Array(users), ts, calendar);
}

function row(cols: ReturnType<typeof features>['columns'], i: number): Record<StoredTimeFid, number> {
  const out = {} as Record<StoredTimeFid, number>;
  for (const fid of STORED_TIME_FIDS) out[fid] = cols[fid][i]!;
  return out;
}

test('a UTC+8 day change: 2025-04-27T15:59:59Z is Sunday 23:59:59, one second later is Monday 00:00', () => {
  const { columns } = features(['2025-04-27T15:59:59Z', '2025-04-27T16:00:00Z']);
  // Sunday: weekday 7, hour 23 → code 24, evening → 4, first event → 206 = 34, 207 = 5, ISO week 17, April,
  // weekend → 2, hour of week 6·24 + 23 = 167 → 168; Apr 27 is an adjusted working day (调休), not a holiday → 1
  assert.deepEqual(row(columns, 0), { 201: 7, 202: 24, 203: 4, 206: 34, 207: 5, 208: 17, 209: 4, 210: 2, 211: 168, 212: 1 });
  // Monday: weekday 1, hour 0 → 1, night → 1, 1 s gap → bucket 1 → code 2, <30 min → 1, ISO week 18,
  // weekday → 1, hour of week 0 → 1, plain day → 1
  assert.deepEqual(row(columns, 1), { 201: 1, 202: 1, 203: 1, 206: 2, 207: 1, 208: 18, 209: 4, 210: 1, 211: 1, 212: 1 });
});

test('ISO week 53 and week 1 across year boundaries; month follows the calendar year', () => {
  const { columns, outsideHolidayYears } = features(
    ['2020-12-31T04:00:00Z', '2021-01-03T04:00:00Z', '2021-01-04T04:00:00Z', '2024-12-30T04:00:00Z'],
    [1, 2, 3, 4],
  );
  assert.deepEqual([...columns['208']], [53, 53, 1, 1]); // 2021-01-03 (Sunday) still belongs to 2020-W53
  assert.deepEqual([...columns['209']], [12, 1, 1, 12]); // 2024-12-30 is week 1 of 2025 but December
  assert.deepEqual([...columns['201']], [4, 7, 1, 1]);
  assert.deepEqual([...columns['202']], [13, 13, 13, 13]); // noon UTC+8
  assert.deepEqual([...columns['203']], [3, 3, 3, 3]); // afternoon
  assert.deepEqual([...columns['211']], [85, 157, 13, 13]); // Thu 3·24+12+1, Sun 6·24+12+1, Mon 12+1
  assert.equal(outsideHolidayYears, 3, '2020 and 2021 are outside the holiday table');
});

test('212: holiday, promotion, adjusted working day and plain day, with UTC+8 edges', () => {
  const { columns } = features([
    '2025-10-01T04:00:00Z', // 国庆 → 2
    '2025-11-11T04:00:00Z', // 11.11 → 2
    '2025-03-12T04:00:00Z', // plain Wednesday → 1
    '2025-09-28T04:00:00Z', // Sunday, adjusted working day → 1 (but weekend → 2)
    '2025-10-19T15:59:59Z', // Oct 19 23:59:59 UTC+8: before the 11.11 window → 1
    '2025-10-19T16:00:00Z', // Oct 20 00:00 UTC+8: the window opens → 2
    '2025-06-18T15:59:59Z', // Jun 18 23:59:59: last 618 day → 2
    '2025-06-18T16:00:00Z', // Jun 19 00:00: after 618 → 1
    '2024-02-09T04:00:00Z', // 除夕 2024 was a working day (only encouraged off) → 1
    '2026-02-23T04:00:00Z', // last day of the 2026 Spring Festival break → 2
  ]);
  assert.deepEqual([...columns['212']], [2, 2, 1, 1, 1, 2, 2, 1, 1, 2]);
  assert.equal(columns['210'][3], 2);
  assert.deepEqual([...columns['208']].slice(0, 3), [40, 46, 11]);
});

test('day-part and hour edges', () => {
  const hours = [0, 5, 6, 11, 12, 17, 18, 23];
  // UTC+8 hour h on 2025-03-12 is 2025-03-11T(h+16)Z for h < 8, else 2025-03-12T(h−8)Z
  const iso = hours.map((h) => (h < 8 ? `2025-03-11T${String(h + 16).padStart(2, '0')}:00:00Z` : `2025-03-12T${String(h - 8).padStart(2, '0')}:00:00Z`));
  const { columns } = features(iso, hours.map((_, i) => i));
  assert.deepEqual([...columns['202']], [1, 6, 7, 12, 13, 18, 19, 24]);
  assert.deepEqual([...columns['203']], [1, 1, 2, 2, 3, 3, 4, 4]);
  assert.deepEqual([...columns['201']], [3, 3, 3, 3, 3, 3, 3, 3]);
});

test('206 bucket edges and 207 session gaps within a sequence; a new user starts over', () => {
  const t0 = unix('2025-05-10T00:00:00Z');
  const gaps = [0, 1, 2, 3, 4, 7, 8, 1799, 1800, 86399, 86400, 604799, 604800];
  const ts = [t0];
  for (const g of gaps) ts.push(ts[ts.length - 1]! + g);
  ts.push(ts[ts.length - 1]! + 5); // a second user, 5 s later
  const users = ts.map((_, i) => (i === ts.length - 1 ? 2 : 1));
  const { columns } = computeTimeFeatures(new Int32Array(users), new Uint32Array(ts), calendar);
  // gap → code: 0→1, 1→2, 2→3, 3→3, 4→4, 7→4, 8→5, 1799∈[1024,2048)→12, 1800→12, 86399∈[65536,131072)→18,
  // 86400→18, 604799∈[524288,1048576)→21, 604800→21
  assert.deepEqual([...columns['206']], [34, 1, 2, 3, 3, 4, 4, 5, 12, 12, 18, 18, 21, 21, 34]);
  assert.deepEqual([...columns['207']], [5, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 3, 4, 5]);
});

test('204 of a whole sequence equals the next event\'s 206 (one bucket function for both)', () => {
  const ts = new Uint32Array([1746000000, 1746000000, 1746000100, 1746090000, 1747000000]);
  const { columns } = computeTimeFeatures(new Int32Array(ts.length).fill(1), ts, calendar);
  const { f204 } = computeCutTimeFeatures(ts);
  for (let i = 0; i + 1 < ts.length; i++) assert.equal(f204[i], columns['206'][i + 1]);
  assert.equal(f204[ts.length - 1], 34);
  assert.equal(columns['206'][0], 34);
});

test('every stored code lies in 1..vocab−1, so 0 remains padding', () => {
  const start = unix('2024-01-01T00:00:00Z');
  const ts = new Uint32Array(5000).map((_, i) => start + i * 7919 * 7); // ~1.8 years, every hour and weekday
  const { columns } = computeTimeFeatures(new Int32Array(ts.length).map((_, i) => i >> 4), ts, calendar);
  for (const fid of STORED_TIME_FIDS) {
    const vocab = TIME_VOCAB[fid];
    for (const v of columns[fid]) assert.ok(v >= 1 && v < vocab, `f${fid} code ${v} outside 1..${vocab - 1}`);
  }
  assert.equal(new Set(columns['211']).size, 168, 'all hours of the week occur');
});

test('real TencentGR_1k line 0: the May Day break (May 1–5, UTC+8) is flagged, the other days are not', async (t) => {
  const { existsSync, readFileSync } = await import('node:fs');
  const path = new URL('../../../../shared/fixtures/tencentgr_1k_sample/seq_line0.jsonl', import.meta.url);
  if (!existsSync(path)) {
    t.skip('real fixture absent: ../shared/fixtures/tencentgr_1k_sample/seq_line0.jsonl');
    return;
  }
  const records = JSON.parse(readFileSync(path, 'utf8').split('\n')[0]!) as [number, number | null, unknown, unknown, number | null, number][];
  const ts = new Uint32Array(records.filter((r) => r[1] !== null).map((r) => r[5])); // item records only
  const { columns } = computeTimeFeatures(new Int32Array(ts.length).fill(640), ts, calendar);
  const mayDayStart = 1746028800; // 2025-05-01T00:00+08:00
  const mayDayEnd = 1746460800; // 2025-05-06T00:00+08:00
  let flagged = 0;
  ts.forEach((x, i) => {
    const inBreak = x >= mayDayStart && x < mayDayEnd;
    assert.equal(columns['212'][i], inBreak ? 2 : 1, `event ${i} at ${x}`);
    if (inBreak) flagged++;
  });
  assert.equal(flagged, 12);
  assert.equal(columns['206'][0], 34);
});
