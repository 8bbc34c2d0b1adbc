import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  civilFromDays, daysFromCivil, isoWeek, isoWeekday, localDay, localHour, parseCivilDate,
} from '../../../core/time/civil-date.ts';

test('day numbers: epoch, a leap day and round trips', () => {
  assert.equal(daysFromCivil(1970, 1, 1), 0);
  assert.equal(daysFromCivil(2000, 3, 1), 11017); // 30 years incl. 7 leap days before 2000 + Jan + leap Feb: 10957 + 31 + 29
  assert.deepEqual(civilFromDays(11016), { year: 2000, month: 2, dom: 29 });
  for (let d = -800; d < 40000; d += 37) {
    const { year, month, dom } = civilFromDays(d);
    assert.equal(daysFromCivil(year, month, dom), d);
  }
});

test('UTC+8 day and hour of a timestamp', () => {
  assert.equal(localDay(0), 0); // 08:00 on 1970-01-01 in UTC+8
  assert.equal(localHour(0), 8);
  assert.equal(localDay(16 * 3600 - 1), 0);
  assert.equal(localDay(16 * 3600), 1); // 16:00Z is midnight in UTC+8
  assert.equal(localHour(16 * 3600), 0);
});

test('ISO weekday and week', () => {
  assert.equal(isoWeekday(0), 4); // 1970-01-01 was a Thursday
  assert.equal(isoWeekday(-1), 3);
  assert.equal(isoWeek(daysFromCivil(2015, 12, 31)), 53);
  assert.equal(isoWeek(daysFromCivil(2016, 1, 3)), 53);
  assert.equal(isoWeek(daysFromCivil(2016, 1, 4)), 1);
  assert.equal(isoWeek(daysFromCivil(2019, 12, 30)), 1);
  assert.equal(isoWeek(daysFromCivil(2025, 12, 28)), 52);
  assert.equal(isoWeek(daysFromCivil(2026, 12, 31)), 53); // 2026 starts on a Thursday
});

test('parseCivilDate rejects impossible dates', () => {
  assert.equal(parseCivilDate('2024-02-29'), daysFromCivil(2024, 2, 29));
  assert.ok(Number.isNaN(parseCivilDate('2025-02-29')));
  assert.ok(Number.isNaN(parseCivilDate('2025-13-01')));
  assert.ok(Number.isNaN(parseCivilDate('2025-1-01')));
});
