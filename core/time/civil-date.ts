// Civil-calendar arithmetic on day numbers in UTC+8 (China Standard Time, no DST): what the time
// features need, without Date objects (one Date per event would dominate the stage's cost).
// Day number d = days since 1970-01-01 in UTC+8; 1970-01-01 was a Thursday.

export const UTC8_OFFSET_SECONDS = 8 * 3600;

/** UTC+8 day number of a Unix timestamp (seconds). */
export function localDay(ts: number): number {
  return Math.floor((ts + UTC8_OFFSET_SECONDS) / 86400);
}

/** UTC+8 hour 0..23 of a Unix timestamp. */
export function localHour(ts: number): number {
  const local = ts + UTC8_OFFSET_SECONDS;
  return Math.floor((local - Math.floor(local / 86400) * 86400) / 3600);
}

/** ISO weekday, Monday = 1 … Sunday = 7. */
export function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

/** Year, month 1..12 and day 1..31 of a day number (H. Hinnant's civil_from_days). */
export function civilFromDays(day: number): { year: number; month: number; dom: number } {
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const dom = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, dom };
}

/** Day number of a civil date (inverse of civilFromDays). */
export function daysFromCivil(year: number, month: number, dom: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + dom - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** ISO-8601 week 1..53: the week belongs to the year of its Thursday. */
export function isoWeek(day: number): number {
  const thursday = day - isoWeekday(day) + 4;
  const { year } = civilFromDays(thursday);
  return Math.floor((thursday - daysFromCivil(year, 1, 1)) / 7) + 1;
}

/** Day number of a "YYYY-MM-DD" string, or NaN when it is not a real date. */
export function parseCivilDate(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return NaN;
  const [year, month, dom] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = daysFromCivil(year, month, dom);
  const back = civilFromDays(day);
  return back.year === year && back.month === month && back.dom === dom ? day : NaN;
}
