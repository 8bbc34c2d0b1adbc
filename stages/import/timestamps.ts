// A timestamp cell → whole Unix seconds (what seq.jsonl holds, SPEC §3). Accepted: Unix seconds (int or
// float, e.g. RecBole's `timestamp:float` 881250949.0), Unix milliseconds (any number ≥ 1e11: as seconds
// that would be past the year 5000), and ISO 8601 dates `YYYY-MM-DD[( |T)HH:MM[:SS[.fff]]][Z|±HH:MM]`
// (no zone = UTC). Fractions of a second are dropped. Returns null for anything else, and for times
// before 1970 or past 2106 (seq.jsonl's timestamps are unsigned 32-bit).

const MS_THRESHOLD = 1e11;
const MAX_TS = 0xffffffff;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

export function parseTimestamp(cell: string | number | bigint): number | null {
  if (typeof cell === 'bigint') return fromNumber(Number(cell));
  if (typeof cell === 'number') return fromNumber(cell);
  const text = cell.trim();
  if (NUMBER.test(text)) return fromNumber(Number(text));
  const m = ISO.exec(text);
  return m ? fromIso(m) : null;
}

function fromNumber(x: number): number | null {
  if (!Number.isFinite(x)) return null;
  const seconds = Math.floor(x >= MS_THRESHOLD ? x / 1000 : x);
  return seconds >= 0 && seconds <= MAX_TS ? seconds : null;
}

function fromIso(m: RegExpExecArray): number | null {
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((k) => Number(m[k] ?? 0)) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (new Date(ms).getUTCDate() !== day) return null; // 2025-02-30
  const zone = m[7];
  let offset = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    offset = (digits[0] === '-' ? -1 : 1) * (Number(digits.slice(1, 3)) * 3600 + Number(digits.slice(3, 5)) * 60);
  }
  return fromNumber(ms / 1000 - offset);
}
