// A strict pickle reader for the TAAC indexer.pkl / seq_offsets.pkl. A pickle is a program; this
// reader only ever builds values. The only callables it knows are an allow-list of container
// constructors, applied here in TypeScript; every other global, and every opcode that could run code
// (BUILD, INST, OBJ, PERSID, EXT*), is refused with a UserError naming it. Nothing is ever executed.
import { UserError } from '../../stage/errors.ts';
import { PyDefaultDict, PyDict, PyTuple, type DefaultFactory, type PickleValue } from './values.ts';

/** One of the allow-listed callables, live only on the unpickler stack (never in a result). */
class PyGlobal {
  constructor(readonly name: AllowedGlobal) {}
}

type AllowedGlobal = 'defaultdict' | 'OrderedDict' | 'dict' | 'list' | 'set' | 'tuple';

const ALLOWED_GLOBALS: ReadonlyMap<string, AllowedGlobal> = new Map([
  ['collections.defaultdict', 'defaultdict'],
  ['collections.OrderedDict', 'OrderedDict'],
  ['builtins.dict', 'dict'],
  ['builtins.list', 'list'],
  ['builtins.set', 'set'],
  ['builtins.tuple', 'tuple'],
]);

/** Python 2 module names that Python 3's unpickler maps (fix_imports) — only the ones we allow. */
const MODULE_ALIASES: ReadonlyMap<string, string> = new Map([['__builtin__', 'builtins']]);

/** Opcodes that are real pickle but never plain data; named in the refusal. */
const REFUSED_OPCODES: ReadonlyMap<number, string> = new Map([
  [0x62, 'BUILD'],
  [0x69, 'INST'],
  [0x6f, 'OBJ'],
  [0x50, 'PERSID'],
  [0x51, 'BINPERSID'],
  [0x82, 'EXT1'],
  [0x83, 'EXT2'],
  [0x84, 'EXT4'],
  [0x92, 'NEWOBJ_EX'],
  [0x97, 'NEXT_BUFFER'],
  [0x98, 'READONLY_BUFFER'],
]);

const MAX_LONG_BYTES = 1 << 20; // a larger int is not an id or offset; bound the BigInt work
const MAX_TEXT_LINE = 1 << 20;

type Slot = PickleValue | PyGlobal;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes a pickle (protocols 0–5) holding plain data. Throws UserError(`${source}: … at offset N`)
 * for refused globals/opcodes, truncation, stack underflow or a bad memo index.
 */
export function readPickle(bytes: Uint8Array | Buffer, source = 'pickle'): PickleValue {
  // Buffer is a Uint8Array at runtime; this repo's @types/node predates TS 5.7's generic Uint8Array.
  return new Unpickler(bytes as Uint8Array, source).run();
}

class Unpickler {
  private pos = 0;
  private op = 0; // offset of the opcode being executed, for error messages
  private stack: Slot[] = [];
  private readonly marks: Slot[][] = [];
  private readonly memo: Slot[] = [];
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  run(): PickleValue {
    const b = this.bytes;
    for (;;) {
      if (this.pos >= b.length) throw this.fail(`truncated: no STOP opcode before end of data`, b.length);
      this.op = this.pos;
      const code = b[this.pos++]!;
      switch (code) {
        case 0x80: { // PROTO
          const proto = this.u8();
          if (proto > 5) throw this.fail(`unsupported pickle protocol ${proto}`);
          break;
        }
        case 0x95: // FRAME: we hold the whole input, so only check the frame fits
          if (this.u64() > b.length - this.pos) throw this.fail('truncated: frame runs past end of data');
          break;
        case 0x2e: // STOP
          return this.stop();
        case 0x28: // MARK
          this.marks.push(this.stack);
          this.stack = [];
          break;
        case 0x30: // POP
          if (this.stack.length > 0) this.stack.pop();
          else this.popMark(); // Python: POP with an empty stack discards the topmost mark
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.push(this.top());
          break;
        case 0x94: // MEMOIZE
          this.memo.push(this.top());
          break;
        case 0x70: // PUT
          this.memoPut(this.decimalLine());
          break;
        case 0x71: // BINPUT
          this.memoPut(this.u8());
          break;
        case 0x72: // LONG_BINPUT
          this.memoPut(this.u32());
          break;
        case 0x67: // GET
          this.memoGet(this.decimalLine());
          break;
        case 0x68: // BINGET
          this.memoGet(this.u8());
          break;
        case 0x6a: // LONG_BINGET
          this.memoGet(this.u32());
          break;
        case 0x4e: // NONE
          this.push(null);
          break;
        case 0x88: // NEWTRUE
          this.push(true);
          break;
        case 0x89: // NEWFALSE
          this.push(false);
          break;
        case 0x49: // INT (text; protocol 0 also spells booleans I01 / I00)
          this.push(this.textInt(this.asciiLine(), false));
          break;
        case 0x4c: // LONG (text, trailing L)
          this.push(this.textInt(this.asciiLine(), true));
          break;
        case 0x4a: // BININT
          this.need(4);
          this.push(this.view.getInt32(this.pos, true));
          this.pos += 4;
          break;
        case 0x4b: // BININT1
          this.push(this.u8());
          break;
        case 0x4d: // BININT2
          this.need(2);
          this.push(this.view.getUint16(this.pos, true));
          this.pos += 2;
          break;
        case 0x8a: // LONG1
          this.push(this.signedLE(this.u8()));
          break;
        case 0x8b: { // LONG4
          this.need(4);
          const n = this.view.getInt32(this.pos, true);
          this.pos += 4;
          if (n < 0) throw this.fail(`LONG4 with negative length ${n}`);
          if (n > MAX_LONG_BYTES) throw this.fail(`LONG4 of ${n} bytes exceeds the ${MAX_LONG_BYTES}-byte limit`);
          this.push(this.signedLE(n));
          break;
        }
        case 0x47: // BINFLOAT (big-endian double)
          this.need(8);
          this.push(this.view.getFloat64(this.pos, false));
          this.pos += 8;
          break;
        case 0x46: // FLOAT (text)
          this.push(this.textFloat(this.asciiLine()));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.push(this.utf8String(this.u8()));
          break;
        case 0x58: // BINUNICODE
          this.push(this.utf8String(this.u32()));
          break;
        case 0x8d: // BINUNICODE8
          this.push(this.utf8String(this.u64()));
          break;
        case 0x56: { // UNICODE (raw-unicode-escape, newline-terminated)
          const text = decodeRawUnicodeEscape(this.rawLine());
          if (text === null) throw this.fail('UNICODE argument has a \\U escape past U+10FFFF');
          this.push(text);
          break;
        }
        case 0x43: // SHORT_BINBYTES
          this.push(this.take(this.u8()).slice());
          break;
        case 0x42: // BINBYTES
          this.push(this.take(this.u32()).slice());
          break;
        case 0x8e: // BINBYTES8
          this.push(this.take(this.u64()).slice());
          break;
        case 0x96: // BYTEARRAY8 (protocol 5 bytearray)
          this.push(this.take(this.u64()).slice());
          break;
        case 0x55: // SHORT_BINSTRING: a Python 2 str; read as latin-1 text (pickle.load(encoding='latin1'))
          this.push(latin1(this.take(this.u8())));
          break;
        case 0x54: { // BINSTRING
          this.need(4);
          const n = this.view.getInt32(this.pos, true);
          this.pos += 4;
          if (n < 0) throw this.fail(`BINSTRING with negative length ${n}`);
          this.push(latin1(this.take(n)));
          break;
        }
        case 0x53: // STRING (protocol 0, a quoted Python 2 str literal)
          this.push(this.quotedString(this.rawLine()));
          break;
        case 0x5d: // EMPTY_LIST
          this.push([]);
          break;
        case 0x61: { // APPEND
          const v = this.pop();
          this.listAt(this.top()).push(v as PickleValue);
          break;
        }
        case 0x65: { // APPENDS
          const items = this.popMark();
          const list = this.listAt(this.top());
          for (let i = 0; i < items.length; i++) list.push(items[i] as PickleValue);
          break;
        }
        case 0x6c: // LIST
          this.push(this.popMark() as PickleValue[]);
          break;
        case 0x29: // EMPTY_TUPLE
          this.push(new PyTuple([]));
          break;
        case 0x74: // TUPLE
          this.push(new PyTuple(this.popMark() as PickleValue[]));
          break;
        case 0x85: // TUPLE1
          this.push(new PyTuple([this.pop() as PickleValue]));
          break;
        case 0x86: { // TUPLE2
          const b2 = this.pop();
          const a2 = this.pop();
          this.push(new PyTuple([a2, b2] as PickleValue[]));
          break;
        }
        case 0x87: { // TUPLE3
          const c3 = this.pop();
          const b3 = this.pop();
          const a3 = this.pop();
          this.push(new PyTuple([a3, b3, c3] as PickleValue[]));
          break;
        }
        case 0x7d: // EMPTY_DICT
          this.push(new PyDict());
          break;
        case 0x73: { // SETITEM
          const v = this.pop();
          const k = this.pop();
          this.dictAt(this.top()).set(k as PickleValue, v as PickleValue);
          break;
        }
        case 0x75: { // SETITEMS
          const items = this.popMark();
          if (items.length % 2 !== 0) throw this.fail('SETITEMS with an odd number of items');
          const dict = this.dictAt(this.top());
          for (let i = 0; i < items.length; i += 2) dict.set(items[i] as PickleValue, items[i + 1] as PickleValue);
          break;
        }
        case 0x64: { // DICT
          const items = this.popMark();
          if (items.length % 2 !== 0) throw this.fail('DICT with an odd number of items');
          const dict = new PyDict();
          for (let i = 0; i < items.length; i += 2) dict.set(items[i] as PickleValue, items[i + 1] as PickleValue);
          this.push(dict);
          break;
        }
        case 0x8f: // EMPTY_SET
          this.push(new Set<PickleValue>());
          break;
        case 0x90: { // ADDITEMS
          const items = this.popMark();
          const set = this.top();
          if (!(set instanceof Set)) throw this.fail('ADDITEMS target is not a set');
          for (let i = 0; i < items.length; i++) set.add(items[i] as PickleValue);
          break;
        }
        case 0x91: // FROZENSET
          this.push(new Set(this.popMark() as PickleValue[]));
          break;
        case 0x63: { // GLOBAL "module\nname\n"
          const module = this.asciiLine();
          this.push(this.global(module, this.asciiLine()));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') throw this.fail('STACK_GLOBAL needs two strings');
          this.push(this.global(module, name));
          break;
        }
        case 0x52: { // REDUCE: callable(*args)
          const args = this.pop();
          this.push(this.call(this.pop(), args, 'REDUCE'));
          break;
        }
        case 0x81: { // NEWOBJ: cls.__new__(cls, *args); only container classes reach here
          const args = this.pop();
          this.push(this.newObject(this.pop(), args));
          break;
        }
        default: {
          const refused = REFUSED_OPCODES.get(code);
          if (refused !== undefined) throw this.fail(`refusing opcode ${refused} (not plain data)`);
          throw this.fail(`unknown opcode 0x${code.toString(16).padStart(2, '0')} (${describeByte(code)})`);
        }
      }
    }
  }

  private stop(): PickleValue {
    if (this.marks.length > 0) throw this.fail('STOP with an open MARK');
    if (this.stack.length !== 1) throw this.fail(`STOP with ${this.stack.length} values on the stack (expected 1)`);
    if (this.pos !== this.bytes.length) throw this.fail(`${this.bytes.length - this.pos} trailing bytes after STOP`);
    const result = this.stack[0]!;
    assertPlainData(result, (what) => this.fail(what));
    return result as PickleValue;
  }

  // --- errors ------------------------------------------------------------------------------

  private fail(what: string, at = this.op): UserError {
    // `what` may quote bytes from the input: keep the message one printable line
    return new UserError(`${this.source}: ${escapeControls(what)} at offset ${at}`);
  }

  // --- raw reads ---------------------------------------------------------------------------

  private need(n: number): void {
    if (n > this.bytes.length - this.pos) {
      throw this.fail(`truncated: needs ${n} bytes, ${this.bytes.length - this.pos} left`);
    }
  }

  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  private u64(): number {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    if (hi >= 0x200000) throw this.fail('8-byte length past 2^53');
    return hi * 0x100000000 + lo;
  }

  private take(n: number): Uint8Array {
    this.need(n);
    const s = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** Bytes up to (not including) the next '\n', which is consumed. */
  private rawLine(): Uint8Array {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw this.fail('truncated: missing newline');
    if (end - this.pos > MAX_TEXT_LINE) throw this.fail(`text argument longer than ${MAX_TEXT_LINE} bytes`);
    const s = this.bytes.subarray(this.pos, end);
    this.pos = end + 1;
    return s;
  }

  private asciiLine(): string {
    return latin1(this.rawLine());
  }

  private decimalLine(): number {
    const text = this.asciiLine();
    if (!/^\d+$/.test(text)) throw this.fail(`bad memo index '${text}'`);
    return Number(text);
  }

  // --- stack -------------------------------------------------------------------------------

  private push(v: Slot): void {
    this.stack.push(v);
  }

  private pop(): Slot {
    if (this.stack.length === 0) throw this.fail('stack underflow');
    return this.stack.pop()!;
  }

  private top(): Slot {
    if (this.stack.length === 0) throw this.fail('stack underflow');
    return this.stack[this.stack.length - 1]!;
  }

  private popMark(): Slot[] {
    const items = this.stack;
    const below = this.marks.pop();
    if (below === undefined) throw this.fail('stack underflow: no MARK');
    this.stack = below;
    return items;
  }

  private memoPut(index: number): void {
    this.memo[index] = this.top();
  }

  private memoGet(index: number): void {
    const v = this.memo[index];
    if (v === undefined) throw this.fail(`bad memo index ${index}`);
    this.push(v);
  }

  private listAt(v: Slot): PickleValue[] {
    if (!Array.isArray(v)) throw this.fail('append target is not a list');
    return v;
  }

  private dictAt(v: Slot): PyDict {
    if (!(v instanceof PyDict)) throw this.fail('setitem target is not a dict');
    return v;
  }

  // --- scalars -----------------------------------------------------------------------------

  /** Little-endian two's complement of n bytes → exact int. */
  private signedLE(n: number): number | bigint {
    const s = this.take(n);
    if (n === 0) return 0;
    if (n <= 6) {
      let v = 0;
      for (let i = n - 1; i >= 0; i--) v = v * 256 + s[i]!;
      return s[n - 1]! >= 0x80 ? v - 2 ** (8 * n) : v;
    }
    let hex = '';
    for (let i = n - 1; i >= 0; i--) hex += HEX_BYTE[s[i]!];
    let v = BigInt('0x' + hex);
    if (s[n - 1]! >= 0x80) v -= 1n << BigInt(8 * n);
    return normalizeInt(v);
  }

  private textInt(text: string, isLong: boolean): boolean | number | bigint {
    if (!isLong && text === '01') return true;
    if (!isLong && text === '00') return false;
    const digits = isLong && text.endsWith('L') ? text.slice(0, -1) : text;
    if (!/^[+-]?\d+$/.test(digits)) throw this.fail(`bad ${isLong ? 'LONG' : 'INT'} literal '${text.slice(0, 40)}'`);
    return normalizeInt(BigInt(digits));
  }

  private textFloat(text: string): number {
    const t = text.trim().toLowerCase();
    if (t === 'inf' || t === '+inf') return Infinity;
    if (t === '-inf') return -Infinity;
    if (t === 'nan' || t === '-nan' || t === '+nan') return NaN;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) throw this.fail(`bad FLOAT literal '${text.slice(0, 40)}'`);
    return Number(t);
  }

  private utf8String(n: number): string {
    const s = this.take(n);
    if (n <= 64) {
      // Most keys are short ASCII ('user_00000001', '112'): skip the decoder call for those.
      let ascii = true;
      for (let i = 0; i < n; i++) if (s[i]! >= 0x80) { ascii = false; break; }
      if (ascii) return String.fromCharCode.apply(null, s as unknown as number[]);
    }
    try {
      return utf8.decode(s);
    } catch {
      throw this.fail('string is not valid UTF-8');
    }
  }

  /** A protocol-0 STRING argument: a quoted Python 2 str literal (latin-1 text after unescaping). */
  private quotedString(raw: Uint8Array): string {
    const text = latin1(raw);
    const q = text[0];
    if (text.length < 2 || (q !== "'" && q !== '"') || text[text.length - 1] !== q) {
      throw this.fail('STRING argument is not a quoted literal');
    }
    try {
      return unescapePython(text.slice(1, -1));
    } catch (e) {
      throw this.fail(`bad STRING literal: ${(e as Error).message}`);
    }
  }

  // --- the allow-listed callables ------------------------------------------------------------

  private global(module: string, name: string): PyGlobal {
    const full = `${MODULE_ALIASES.get(module) ?? module}.${name}`;
    const allowed = ALLOWED_GLOBALS.get(full);
    if (allowed === undefined) throw this.fail(`refusing global ${clip(module)}.${clip(name)}`);
    return new PyGlobal(allowed);
  }

  private call(fn: Slot, args: Slot, opcode: string): PickleValue {
    if (!(fn instanceof PyGlobal)) throw this.fail(`${opcode} of a non-callable`);
    if (!(args instanceof PyTuple)) throw this.fail(`${opcode} arguments are not a tuple`);
    const a = args.items as Slot[];
    const arity = (max: number): void => {
      if (a.length > max) throw this.fail(`${fn.name}() takes at most ${max} argument(s), got ${a.length}`);
    };
    switch (fn.name) {
      case 'defaultdict': {
        const factory = a.length === 0 ? null : a[0]!;
        if (factory !== null && !(factory instanceof PyGlobal && isFactory(factory.name))) {
          throw this.fail('defaultdict factory must be None or builtins dict/list/set/tuple');
        }
        arity(2);
        const dd = new PyDefaultDict(factory === null ? null : (factory.name as DefaultFactory));
        if (a.length > 1) this.fillDict(dd, a[1]!);
        return dd;
      }
      case 'OrderedDict':
      case 'dict': {
        arity(1);
        const d = new PyDict();
        if (a.length === 1) this.fillDict(d, a[0]!);
        return d;
      }
      case 'list':
        arity(1);
        return a.length === 0 ? [] : this.iterate(a[0]!);
      case 'tuple':
        arity(1);
        return new PyTuple(a.length === 0 ? [] : this.iterate(a[0]!));
      case 'set':
        arity(1);
        return new Set(a.length === 0 ? [] : this.iterate(a[0]!));
      default:
        return assertNever(fn.name);
    }
  }

  private newObject(cls: Slot, args: Slot): PickleValue {
    if (!(cls instanceof PyGlobal)) throw this.fail('NEWOBJ of a non-class');
    if (!(args instanceof PyTuple)) throw this.fail('NEWOBJ arguments are not a tuple');
    // __new__ of dict/list/set/defaultdict ignores its arguments; tuple.__new__ takes the items.
    if (cls.name === 'tuple') return this.call(cls, args, 'NEWOBJ');
    return this.call(cls, new PyTuple([]), 'NEWOBJ');
  }

  private iterate(v: Slot): PickleValue[] {
    if (Array.isArray(v)) return v.slice();
    if (v instanceof PyTuple) return v.items.slice();
    if (v instanceof Set) return [...v];
    if (v instanceof PyDict) return [...v.keys()];
    throw this.fail('argument is not a list, tuple, set or dict');
  }

  private fillDict(d: PyDict, src: Slot): void {
    if (src instanceof PyDict) {
      for (const [k, v] of src) d.set(k, v);
      return;
    }
    for (const pair of this.iterate(src)) {
      const kv = pair instanceof PyTuple ? pair.items : Array.isArray(pair) ? pair : null;
      if (kv === null || kv.length !== 2) throw this.fail('dict() sequence element is not a pair');
      d.set(kv[0]!, kv[1]!);
    }
  }
}

function isFactory(name: AllowedGlobal): boolean {
  return name === 'dict' || name === 'list' || name === 'set' || name === 'tuple';
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${String(x)}`);
}

/** A global left over in the result (e.g. a pickled `dict` type) is code, not data: refuse it. */
function assertPlainData(root: Slot, fail: (what: string) => UserError): void {
  const seen = new Set<object>();
  const pending: Slot[] = [root];
  while (pending.length > 0) {
    const v = pending.pop()!;
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) continue;
    if (v instanceof PyGlobal) throw fail(`refusing a bare global (${v.name}) in the data`);
    if (seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (typeof v[i] === 'object') pending.push(v[i]!);
    } else if (v instanceof PyTuple) {
      // a loop, not push(...items): spreading a 300k-item tuple overflows the call stack
      for (const x of v.items) if (typeof x === 'object') pending.push(x);
    } else if (v instanceof Map) {
      for (const [k, x] of v) {
        if (typeof k === 'object') pending.push(k);
        if (typeof x === 'object') pending.push(x);
      }
    } else if (v instanceof Set) {
      for (const x of v) if (typeof x === 'object') pending.push(x);
    }
  }
}

function normalizeInt(v: bigint): number | bigint {
  return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
}
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function latin1(s: Uint8Array): string {
  let out = '';
  for (let i = 0; i < s.length; i += 8192) {
    out += String.fromCharCode.apply(null, s.subarray(i, i + 8192) as unknown as number[]);
  }
  return out;
}

/** Control characters as \xNN, so input bytes quoted in an error cannot break its line. */
function escapeControls(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${HEX_BYTE[c.charCodeAt(0)]}`);
}

/** A name from the input, shortened for an error message. */
function clip(s: string, max = 80): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

function describeByte(code: number): string {
  return code >= 0x20 && code < 0x7f ? `'${String.fromCharCode(code)}'` : 'non-printable';
}

/**
 * Python's raw-unicode-escape: \uXXXX and \UXXXXXXXX escapes, every other byte is latin-1. Null when
 * a \U escape is past U+10FFFF (Python refuses it too; String.fromCodePoint would throw RangeError).
 */
function decodeRawUnicodeEscape(raw: Uint8Array): string | null {
  const text = latin1(raw);
  let outOfRange = false;
  const decoded = text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u4: string | undefined, u8: string | undefined) => {
    const cp = parseInt((u4 ?? u8)!, 16);
    if (cp > 0x10ffff) {
      outOfRange = true;
      return '';
    }
    return String.fromCodePoint(cp);
  });
  return outOfRange ? null : decoded;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\', "'": "'", '"': '"', n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '',
};

/** Unescapes the body of a Python 2 str literal (what repr() produces for protocol-0 STRING). */
function unescapePython(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') { out += c; continue; }
    const e = body[++i];
    if (e === undefined) throw new Error('trailing backslash');
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) { out += simple; continue; }
    if (e === 'x') {
      const h = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new Error('bad \\x escape');
      out += String.fromCharCode(parseInt(h, 16));
      i += 2;
    } else if (e >= '0' && e <= '7') {
      const m = /^[0-7]{1,3}/.exec(body.slice(i))![0];
      out += String.fromCharCode(parseInt(m, 8) & 0xff);
      i += m.length - 1;
    } else {
      out += '\\' + e; // Python keeps unknown escapes verbatim
    }
  }
  return out;
}
