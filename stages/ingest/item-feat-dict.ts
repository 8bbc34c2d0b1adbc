// item_feat_dict.json → per-item feature columns. The file is ONE JSON object
// {item_reid_str: {fid: int | int[]}} that reaches ~1 GB on TencentGR_1M — past V8's string
// limit — so it is scanned in chunks by a small reader that understands exactly this shape,
// filling typed arrays by item idx instead of building an object per item.
import { closeSync, openSync, readSync } from 'node:fs';
import { inputError, UserError } from '../../core/stage/errors.ts';

export interface ItemFeatures {
  /** item sparse fid → [itemCount + 1] value by item idx (0 = missing), in first-seen order */
  sparse: Map<string, Int32Array>;
  /** item array fid → item idx → ids */
  array: Map<string, Map<number, number[]>>;
  /** [itemCount + 1] 1 where the dict has an entry for the item */
  present: Uint8Array;
  entries: number;
}

const CHUNK = 1 << 20;
const enum C { Quote = 0x22, Comma = 0x2c, Minus = 0x2d, Dot = 0x2e, Colon = 0x3a, LBracket = 0x5b, Backslash = 0x5c, RBracket = 0x5d, LBrace = 0x7b, RBrace = 0x7d, Zero = 0x30, Nine = 0x39 }

/** Byte reader over a file in CHUNK-sized reads, with one byte of lookahead. */
class ByteReader {
  private buf = new Uint8Array(CHUNK);
  private len = 0;
  private pos = 0;
  private base = 0; // file offset of buf[0]
  private readonly fd: number;

  constructor(readonly file: string) {
    try {
      this.fd = openSync(file, 'r');
    } catch {
      throw inputError(file, null, 'not found (ingest needs item_feat_dict.json)');
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  offset(): number {
    return this.base + this.pos;
  }

  /** Next non-whitespace byte without consuming it; -1 at end of file. */
  peek(): number {
    for (;;) {
      if (this.pos >= this.len) {
        this.base += this.len;
        this.len = readSync(this.fd, this.buf, 0, CHUNK, null);
        this.pos = 0;
        if (this.len === 0) return -1;
      }
      const b = this.buf[this.pos]!;
      if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09 && !(this.base + this.pos === 0 && b === 0xef)) return b;
      // a UTF-8 BOM (EF BB BF) at the very start is skipped like whitespace
      if (b === 0xef) this.pos += 2;
      this.pos++;
    }
  }

  /** Raw next byte (inside strings/numbers: no whitespace skipping). */
  raw(): number {
    if (this.pos >= this.len) {
      this.base += this.len;
      this.len = readSync(this.fd, this.buf, 0, CHUNK, null);
      this.pos = 0;
      if (this.len === 0) return -1;
    }
    return this.buf[this.pos++]!;
  }

  fail(what: string): UserError {
    return inputError(this.file, null, `byte ${this.offset()}: ${what}`);
  }

  expect(byte: number, what: string): void {
    const b = this.peek();
    if (b !== byte) throw this.fail(`expected ${what}, got ${b < 0 ? 'end of file (truncated?)' : `'${String.fromCharCode(b)}'`}`);
    this.pos++;
  }

  /** A JSON string without escapes (keys here are digit strings). */
  string(): string {
    this.expect(C.Quote, 'a string');
    let s = '';
    for (;;) {
      const b = this.raw();
      if (b < 0) throw this.fail('unterminated string (truncated?)');
      if (b === C.Quote) return s;
      if (b === C.Backslash) throw this.fail('escaped characters are not expected in item_feat_dict keys');
      s += String.fromCharCode(b);
    }
  }

  /** A JSON number token as text (validated by the caller, so the message can name the field). */
  number(): string {
    let s = '';
    for (;;) {
      const b = this.peekRaw();
      if ((b >= C.Zero && b <= C.Nine) || b === C.Minus || b === C.Dot || b === 0x65 || b === 0x45 || b === 0x2b) {
        s += String.fromCharCode(b);
        this.pos++;
      } else return s;
    }
  }

  /** `null` or a bare word; returns the word. */
  word(): string {
    let s = '';
    for (;;) {
      const b = this.peekRaw();
      if (b >= 0x61 && b <= 0x7a) {
        s += String.fromCharCode(b);
        this.pos++;
      } else return s;
    }
  }

  private peekRaw(): number {
    if (this.pos >= this.len) {
      this.base += this.len;
      this.len = readSync(this.fd, this.buf, 0, CHUNK, null);
      this.pos = 0;
      if (this.len === 0) return -1;
    }
    return this.buf[this.pos]!;
  }
}

/** Reads item_feat_dict.json, checking item keys against 1..itemCount and values against `vocab`. */
export function readItemFeatDict(file: string, itemCount: number, vocab: ReadonlyMap<string, number>): ItemFeatures {
  const r = new ByteReader(file);
  try {
    return scanDict(r, itemCount, vocab);
  } finally {
    r.close();
  }
}

function scanDict(r: ByteReader, itemCount: number, vocab: ReadonlyMap<string, number>): ItemFeatures {
  const out: ItemFeatures = { sparse: new Map(), array: new Map(), present: new Uint8Array(itemCount + 1), entries: 0 };
  if (r.peek() < 0) throw r.fail('empty file');
  r.expect(C.LBrace, "'{' (item_feat_dict.json is one JSON object)");
  if (r.peek() === C.RBrace) throw r.fail('no items in the dict');
  for (;;) {
    const key = r.string();
    const item = Number(key);
    if (!/^[0-9]+$/.test(key) || item < 1 || item > itemCount) throw r.fail(`item key ${JSON.stringify(key)} must be an item re-id in 1..${itemCount}`);
    if (out.present[item]) throw r.fail(`item ${JSON.stringify(key)} appears twice`);
    out.present[item] = 1;
    out.entries++;
    r.expect(C.Colon, "':'");
    if (r.peek() === C.LBrace) scanItem(r, key, item, itemCount, vocab, out);
    else if (r.word() !== 'null') throw r.fail(`item ${JSON.stringify(key)}: expected an object of features or null`);
    const b = r.peek();
    r.expect(b === C.Comma ? C.Comma : C.RBrace, "',' or '}'");
    if (b !== C.Comma) break;
  }
  if (r.peek() >= 0) throw r.fail('unexpected data after the closing }');
  return out;
}

function featureInt(r: ByteReader, where: string, fid: string, vocab: ReadonlyMap<string, number>): number {
  const text = r.number();
  const v = Number(text);
  if (text === '' || !/^[0-9]+$/.test(text)) throw r.fail(`${where} feature ${JSON.stringify(fid)}: expected an int >= 0, got ${text === '' ? 'a non-number' : text}`);
  const size = vocab.get(fid)!;
  if (v >= size) throw r.fail(`${where} feature ${JSON.stringify(fid)} = ${v} is past the indexer's vocab (max re-id ${size - 1})`);
  return v;
}

function scanItem(r: ByteReader, key: string, item: number, itemCount: number, vocab: ReadonlyMap<string, number>, out: ItemFeatures): void {
  const where = `item ${JSON.stringify(key)}`;
  r.expect(C.LBrace, "'{'");
  if (r.peek() === C.RBrace) {
    r.expect(C.RBrace, "'}'");
    return;
  }
  for (;;) {
    const fid = r.string();
    if (!vocab.has(fid)) throw r.fail(`${where}: feature id ${JSON.stringify(fid)} is not in indexer.pkl 'f'`);
    r.expect(C.Colon, "':'");
    if (r.peek() === C.LBracket) {
      if (out.sparse.has(fid)) throw r.fail(`${where} feature ${JSON.stringify(fid)}: an array here but an int for other items`);
      r.expect(C.LBracket, "'['");
      const ids: number[] = [];
      if (r.peek() !== C.RBracket) {
        for (;;) {
          r.peek();
          ids.push(featureInt(r, where, fid, vocab));
          if (r.peek() !== C.Comma) break;
          r.expect(C.Comma, "','");
        }
      }
      r.expect(C.RBracket, "']'");
      let m = out.array.get(fid);
      if (!m) out.array.set(fid, (m = new Map()));
      m.set(item, ids);
    } else {
      if (out.array.has(fid)) throw r.fail(`${where} feature ${JSON.stringify(fid)}: an int here but an array for other items`);
      let col = out.sparse.get(fid);
      if (!col) out.sparse.set(fid, (col = new Int32Array(itemCount + 1)));
      col[item] = featureInt(r, where, fid, vocab);
    }
    const b = r.peek();
    r.expect(b === C.Comma ? C.Comma : C.RBrace, "',' or '}'");
    if (b !== C.Comma) return;
  }
}
