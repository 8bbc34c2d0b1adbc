// The ten per-event time features the features stage stores (201–203, 206–212; SPEC §4). 204 and
// 205 look forward in time and are computed per cut by core/time/cut-time-features.ts instead.
//
// One convention for every discrete time feature: a stored code in 1..vocab−1, 0 = padding.
// Natural values that start at 1 (weekday, ISO week, month) are stored as they are; values that
// start at 0 (hour, day-part, buckets, flags, hour-of-week) are stored as value + 1.
//   fid  meaning (UTC+8)                                  natural        code      vocab
//   201  ISO weekday, Monday = 1                          1..7           1..7      8
//   202  hour                                             0..23          1..24     25
//   203  day-part: night 0–5, morning 6–11,               0..3           1..4      5
//        afternoon 12–17, evening 18–23
//   204  log2 bucket of seconds to the next event         (per cut)      1..34     35   (34 = last event)
//   206  log2 bucket of seconds since the previous event  0..32          1..33     35   (34 = first event)
//   207  session gap since the previous event: <30 min,   0..3           1..4      6    (5 = first event)
//        <1 day, <1 week, ≥1 week
//   208  ISO-8601 week                                    1..53          1..53     54
//   209  month                                            1..12          1..12     13
//   210  weekend (Saturday or Sunday; 调休 ignored)        0..1           1..2      3
//   211  hour of week, (weekday − 1)·24 + hour            0..167         1..168    169
//   212  public holiday or promotion day (calendar.json)  0..1           1..2      3
// A sequence is one user's rows; events arrive ascending in time within it (SPEC §3).
import { GAP_CODE_NONE, GAP_VOCAB, gapBucketCode } from './cut-time-features.ts';
import { type Calendar, isHolidayOrPromotion, isInHolidayYears } from './calendar.ts';
import { civilFromDays, isoWeek, isoWeekday, localDay, localHour } from './civil-date.ts';

/** Vocabulary size of every discrete time feature (205 is continuous). */
export const TIME_VOCAB = {
  '201': 8,
  '202': 25,
  '203': 5,
  '204': GAP_VOCAB,
  '206': GAP_VOCAB,
  '207': 6,
  '208': 54,
  '209': 13,
  '210': 3,
  '211': 169,
  '212': 3,
} as const;

/** The fids stored per event, in column order. */
export const STORED_TIME_FIDS = ['201', '202', '203', '206', '207', '208', '209', '210', '211', '212'] as const;
export type StoredTimeFid = (typeof STORED_TIME_FIDS)[number];

/** Per-event columns, one row per input event. */
export type TimeFeatureColumns = { [F in StoredTimeFid]: F extends '211' ? Int16Array : Int8Array };

export const SESSION_GAP_FIRST = 5;

/** 207 code of a gap in seconds: <30 min → 1, <1 day → 2, <1 week → 3, else 4. */
export function sessionGapCode(seconds: number): number {
  if (seconds < 1800) return 1;
  if (seconds < 86400) return 2;
  if (seconds < 7 * 86400) return 3;
  return 4;
}

/** 203 natural value of an hour 0..23: 0 night, 1 morning, 2 afternoon, 3 evening. */
export function dayPart(hour: number): number {
  return Math.floor(hour / 6);
}

export interface TimeFeatureResult {
  columns: TimeFeatureColumns;
  /** events whose year the holiday table does not cover (212 then flags promotions only) */
  outsideHolidayYears: number;
  /** events timestamped before the previous event of their sequence (gap counted as 0) */
  outOfOrder: number;
}

/**
 * Time features of a shard's events. `user` marks sequences (a new sequence starts where it
 * changes); `ts` is Unix seconds. Day-level values are cached per UTC+8 day, since consecutive
 * events of a sequence mostly share a day.
 */
export function computeTimeFeatures(user: Int32Array, ts: Uint32Array, calendar: Calendar): TimeFeatureResult {
  const n = ts.length;
  const c = {
    '201': new Int8Array(n), '202': new Int8Array(n), '203': new Int8Array(n), '206': new Int8Array(n),
    '207': new Int8Array(n), '208': new Int8Array(n), '209': new Int8Array(n), '210': new Int8Array(n),
    '211': new Int16Array(n), '212': new Int8Array(n),
  } satisfies TimeFeatureColumns;
  // Locals, not c['201'][i]: integer-like keys live in the object's element store, a slow lookup per event.
  const weekdayCol = c['201'], hourCol = c['202'], partCol = c['203'], sinceCol = c['206'], sessionCol = c['207'];
  const weekCol = c['208'], monthCol = c['209'], weekendCol = c['210'], hourOfWeekCol = c['211'], specialCol = c['212'];
  let cachedDay = NaN;
  let weekday = 0, week = 0, month = 0, special = 0, covered = true;
  let outsideHolidayYears = 0, outOfOrder = 0;
  for (let i = 0; i < n; i++) {
    const t = ts[i]!;
    const day = localDay(t);
    if (day !== cachedDay) {
      cachedDay = day;
      weekday = isoWeekday(day);
      week = isoWeek(day);
      month = civilFromDays(day).month;
      special = isHolidayOrPromotion(calendar, day) ? 1 : 0;
      covered = isInHolidayYears(calendar, day);
    }
    if (!covered) outsideHolidayYears++;
    const hour = localHour(t);
    weekdayCol[i] = weekday;
    hourCol[i] = hour + 1;
    partCol[i] = dayPart(hour) + 1;
    weekCol[i] = week;
    monthCol[i] = month;
    weekendCol[i] = weekday >= 6 ? 2 : 1;
    hourOfWeekCol[i] = (weekday - 1) * 24 + hour + 1;
    specialCol[i] = special + 1;
    if (i === 0 || user[i] !== user[i - 1]) {
      sinceCol[i] = GAP_CODE_NONE;
      sessionCol[i] = SESSION_GAP_FIRST;
    } else {
      const gap = t - ts[i - 1]!;
      if (gap < 0) outOfOrder++;
      sinceCol[i] = gapBucketCode(gap);
      sessionCol[i] = sessionGapCode(Math.max(gap, 0));
    }
  }
  return { columns: c, outsideHolidayYears, outOfOrder };
}
