// CSV / TSV rows, streamed from a file in chunks (RFC 4180 quoting: a field may be wrapped in double
// quotes, hold the delimiter, newlines and "" for a quote). Each row comes with the 1-based line number
// it starts on, so errors read `file:line: …`. A UTF-8 BOM is skipped, CRLF is accepted, blank lines
// are skipped, and a final row without a newline is still a row.
import { closeSync, openSync, readSync } from 'node:fs';
import { inputError } from '../../core/stage/errors.ts';

export interface DelimitedRow {
  line: number;
  fields: string[];
}

const CHUNK = 1 << 22;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** The delimiter a file's name or first line implies: tab for .tsv and RecBole files, else sniffed. */
export function sniffDelimiter(file: string, firstLine: string): string {
  if (/\.(tsv|tab|inter|item|user)$/i.test(file)) return '\t';
  if (/\.csv$/i.test(file)) return ',';
  const count = (c: string): number => firstLine.split(c).length - 1;
  if (count('\t') > 0) return '\t';
  return count(';') > count(',') ? ';' : ',';
}

/** The file's first line (for sniffing), without its newline; '' for an empty file. */
export function firstLineOf(file: string): string {
  const fd = openFile(file);
  try {
    const buf = new Uint8Array(1 << 16);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = new TextDecoder().decode(buf.subarray(0, n)).replace(/^\uFEFF/, '');
    return text.split(/\r?\n/, 1)[0] ?? '';
  } finally {
    closeSync(fd);
  }
}

function openFile(file: string): number {
  try {
    return openSync(file, 'r');
  } catch (e) {
    throw inputError(file, null, `cannot open (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** Every row of `file`, header included, in file order. */
export function* readDelimited(file: string, delimiter: string): Generator<DelimitedRow> {
  if (delimiter.length !== 1) throw inputError(file, null, `delimiter must be one character, got ${JSON.stringify(delimiter)}`);
  const delim = delimiter.charCodeAt(0);
  const fd = openFile(file);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let buf = new Uint8Array(CHUNK);
  let len = 0; // bytes of buf in use
  let eof = false;
  let line = 1; // line of the next unread byte
  let first = true;
  try {
    for (;;) {
      if (!eof && len < buf.length) {
        const n = readSync(fd, buf, len, buf.length - len, null);
        if (n === 0) eof = true;
        len += n;
        if (first && len >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
          buf.copyWithin(0, 3, len);
          len -= 3;
        }
        first = false;
      }
      let pos = 0;
      for (;;) {
        const row = scanRow(buf, pos, len, delim, eof);
        if (row === null) break;
        const start = line;
        line += row.newlines;
        pos = row.end;
        if (row.fields.length === 1 && row.fields[0]!.length === 0 && !row.quoted) continue; // blank line
        let fields: string[];
        try {
          fields = row.fields.map((f) => (typeof f === 'string' ? f : decoder.decode(f)));
        } catch {
          throw inputError(file, start, 'invalid UTF-8');
        }
        yield { line: start, fields };
      }
      if (pos === 0 && len === buf.length) {
        const bigger = new Uint8Array(buf.length * 2); // a row longer than the buffer
        bigger.set(buf.subarray(0, len));
        buf = bigger;
        continue;
      }
      buf.copyWithin(0, pos, len);
      len -= pos;
      if (eof && len === 0) return;
      if (eof && pos === 0) throw inputError(file, line, 'unterminated quoted field (a " without its closing ")');
    }
  } finally {
    closeSync(fd);
  }
}

interface ScannedRow {
  fields: (string | Uint8Array)[];
  end: number; // offset after the row's newline
  newlines: number;
  quoted: boolean;
}

/** One row starting at `pos`, or null when the buffer ends first (and more bytes may come). */
function scanRow(b: Uint8Array, pos: number, len: number, delim: number, eof: boolean): ScannedRow | null {
  if (pos >= len) return null;
  const fields: (string | Uint8Array)[] = [];
  let newlines = 0;
  let quoted = false;
  let i = pos;
  for (;;) {
    if (i < len && b[i] === QUOTE) {
      quoted = true;
      const parts: Uint8Array[] = [];
      let s = ++i;
      for (;;) {
        if (i >= len) return null;
        const c = b[i]!;
        if (c === QUOTE) {
          if (i + 1 >= len && !eof) return null;
          if (b[i + 1] === QUOTE) {
            parts.push(b.subarray(s, i + 1));
            i += 2;
            s = i;
            continue;
          }
          parts.push(b.subarray(s, i));
          i++;
          break;
        }
        if (c === LF) newlines++;
        i++;
      }
      fields.push(concat(parts));
      // text between the closing quote and the delimiter is kept, as most readers do
      const s2 = i;
      while (i < len && b[i] !== delim && b[i] !== LF) i++;
      if (i >= len && !eof) return null;
      if (i > s2) fields[fields.length - 1] = concat([fields[fields.length - 1] as Uint8Array, b.subarray(s2, trimCr(b, s2, i))]);
    } else {
      const s = i;
      while (i < len && b[i] !== delim && b[i] !== LF) i++;
      if (i >= len && !eof) return null;
      const e = trimCr(b, s, i);
      fields.push(isAscii(b, s, e) ? ascii(b, s, e) : b.subarray(s, e));
    }
    if (i >= len) return { fields, end: i, newlines, quoted }; // last row, no newline
    if (b[i] === LF) return { fields, end: i + 1, newlines: newlines + 1, quoted };
    i++; // delimiter
  }
}

function trimCr(b: Uint8Array, s: number, e: number): number {
  return e > s && b[e - 1] === CR ? e - 1 : e;
}

function isAscii(b: Uint8Array, s: number, e: number): boolean {
  for (let k = s; k < e; k++) if (b[k]! >= 0x80) return false;
  return true;
}

/** ASCII bytes as a string, through Buffer's native latin1 slice (a view: no copy). */
function ascii(b: Uint8Array, s: number, e: number): string {
  return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1');
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let k = 0;
  for (const p of parts) {
    out.set(p, k);
    k += p.length;
  }
  return out;
}
