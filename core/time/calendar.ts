// The dated table behind time feature 212: Chinese public holidays (per year, from the State
// Council's notices) and e-commerce promotion windows (month-day, every year), read from
// calendar.json beside this file. Adjusted working days (调休) are simply not listed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError } from '../stage/errors.ts';
import { civilFromDays, parseCivilDate } from './civil-date.ts';

export const DEFAULT_CALENDAR_PATH = fileURLToPath(new URL('./calendar.json', import.meta.url));

export interface Calendar {
  /** UTC+8 day numbers of every public-holiday day off */
  holidayDays: ReadonlySet<number>;
  /** promotion windows as month*100+dom bounds, inclusive, within one calendar year */
  promotions: readonly { name: string; from: number; to: number }[];
  /** first and last year the holiday table covers */
  holidayYears: readonly [number, number];
}

interface CalendarFile {
  holiday_years: [number, number];
  holidays: { name: string; from: string; to: string }[];
  promotions: { name: string; from: string; to: string }[];
}

function parseMonthDay(file: string, text: string): number {
  const m = /^(\d{2})-(\d{2})$/.exec(text);
  const day = m ? parseCivilDate(`2024-${text}`) : NaN; // a leap year, so 02-29 is accepted
  if (!m || Number.isNaN(day)) throw new UserError(`${file}: promotion date '${text}' is not MM-DD`);
  return Number(m[1]) * 100 + Number(m[2]);
}

/** Parses and checks a calendar table (see calendar.json for the format). */
export function parseCalendar(json: string, file = 'calendar.json'): Calendar {
  let raw: CalendarFile;
  try {
    raw = JSON.parse(json) as CalendarFile;
  } catch (e) {
    throw new UserError(`${file}: invalid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(raw.holidays) || !Array.isArray(raw.promotions) || !Array.isArray(raw.holiday_years)) {
    throw new UserError(`${file}: expected holiday_years, holidays and promotions`);
  }
  const holidayDays = new Set<number>();
  for (const h of raw.holidays) {
    const from = parseCivilDate(h.from);
    const to = parseCivilDate(h.to);
    if (Number.isNaN(from) || Number.isNaN(to) || to < from) {
      throw new UserError(`${file}: holiday '${h.name}' has a bad range ${h.from}..${h.to}`);
    }
    for (let d = from; d <= to; d++) holidayDays.add(d);
  }
  const promotions = raw.promotions.map((p) => {
    const from = parseMonthDay(file, p.from);
    const to = parseMonthDay(file, p.to);
    if (to < from) throw new UserError(`${file}: promotion '${p.name}' ends before it starts`);
    return { name: p.name, from, to };
  });
  const [firstYear, lastYear] = raw.holiday_years;
  return { holidayDays, promotions, holidayYears: [firstYear, lastYear] };
}

export function loadCalendar(path = DEFAULT_CALENDAR_PATH): Calendar {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`${path}: calendar table not found`);
  }
  return parseCalendar(text, path);
}

/** True when the UTC+8 day is a public holiday or inside a promotion window. */
export function isHolidayOrPromotion(calendar: Calendar, day: number): boolean {
  if (calendar.holidayDays.has(day)) return true;
  const { month, dom } = civilFromDays(day);
  const md = month * 100 + dom;
  for (const p of calendar.promotions) if (md >= p.from && md <= p.to) return true;
  return false;
}

/** True when the day's year is one the holiday table covers (outside it only promotions can flag). */
export function isInHolidayYears(calendar: Calendar, day: number): boolean {
  const { year } = civilFromDays(day);
  return year >= calendar.holidayYears[0] && year <= calendar.holidayYears[1];
}
