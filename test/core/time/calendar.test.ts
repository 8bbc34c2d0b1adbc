import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../../core/stage/errors.ts';
import { isHolidayOrPromotion, isInHolidayYears, loadCalendar, parseCalendar } from '../../../core/time/calendar.ts';
import { daysFromCivil, parseCivilDate } from '../../../core/time/civil-date.ts';

const calendar = loadCalendar();
const flagged = (date: string): boolean => isHolidayOrPromotion(calendar, parseCivilDate(date));

test('the table holds each year\'s official breaks, day by day', () => {
  // 2025: 1 + 8 + 3 + 5 + 3 + 8 days off; 2026: 3 + 9 + 3 + 5 + 3 + 3 + 7;
  // 2024: 1 + 8 + 3 + 5 + 3 + 3 + 7 (its 元旦 break began on 2023-12-30: two of its days fall in 2023)
  const count = (y: number): number => [...calendar.holidayDays].filter((d) => d >= daysFromCivil(y, 1, 1) && d < daysFromCivil(y + 1, 1, 1)).length;
  assert.equal(count(2025), 28);
  assert.equal(count(2026), 33);
  assert.equal(count(2024), 30);
  assert.deepEqual(calendar.holidayYears, [2024, 2026]);
});

test('holidays, adjusted working days and promotion windows', () => {
  for (const d of ['2024-02-10', '2024-02-17', '2025-01-28', '2025-02-04', '2025-10-08', '2026-02-15', '2026-10-07', '2025-05-05']) {
    assert.ok(flagged(d), `${d} is a holiday`);
  }
  for (const d of ['2024-02-04', '2024-02-18', '2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11', '2026-01-04', '2026-09-20']) {
    assert.ok(!flagged(d), `${d} is an adjusted working day`);
  }
  for (const d of ['2023-06-01', '2025-06-18', '2025-10-20', '2025-11-11', '2027-12-12']) assert.ok(flagged(d), `${d} is a promotion day`);
  for (const d of ['2025-05-31', '2025-06-01']) assert.ok(flagged(d)); // 端午 2025 runs into 618
  for (const d of ['2025-06-19', '2025-10-19', '2025-11-12', '2025-12-13', '2025-03-12']) assert.ok(!flagged(d), `${d} is plain`);
  assert.ok(isInHolidayYears(calendar, parseCivilDate('2026-12-31')));
  assert.ok(!isInHolidayYears(calendar, parseCivilDate('2027-01-01')));
});

test('a malformed table is refused with the file and entry named', () => {
  const base = { holiday_years: [2025, 2025], promotions: [] };
  assert.throws(() => parseCalendar('{', 'cal.json'), (e: unknown) => e instanceof UserError && /cal.json: invalid JSON/.test(e.message));
  assert.throws(
    () => parseCalendar(JSON.stringify({ ...base, holidays: [{ name: 'X', from: '2025-02-30', to: '2025-03-01' }] }), 'cal.json'),
    /holiday 'X' has a bad range/,
  );
  assert.throws(
    () => parseCalendar(JSON.stringify({ ...base, holidays: [], promotions: [{ name: 'P', from: '06-18', to: '06-01' }] }), 'cal.json'),
    /promotion 'P' ends before it starts/,
  );
});
