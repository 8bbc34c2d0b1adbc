// A pickle writer for plain data (synthetic TAAC fixtures): protocol 2–4, deterministic bytes.
import { UserError } from '../../stage/errors.ts';
import { PyDefaultDict, PyTuple, type PickleValue } from './values.ts';

export interface WritePickleOptions {
  /** Pickle protocol; 2 cannot hold bytes (Python would need a _codecs.encode global). */
  protocol?: 2 | 3 | 4;
}

/**
 * Encodes plain data as a pickle Python's `pickle.load` reads back to the same value. No memo:
 * shared sub-values are written once per reference; cycles are refused. Deterministic: Map and Set
 * insertion order.
 */
export function writePickle(value: PickleValue, opts: WritePickleOptions = {}): Uint8Array {
  const protocol = opts.protocol ?? 4;
  const w = new PickleWriter(protocol);
  w.byte(0x80);
  w.byte(protocol);
  w.value(value);
  w.byte(0x2e); // STOP
  return w.finish();
}

const BATCH = 1000; // items per MARK…APPENDS/SETITEMS/ADDITEMS, as Python writes them

class PickleWriter {
  private buf = new Uint8Array(1 << 12);
  private view = new DataView(this.buf.buffer);
  private len = 0;
  private readonly open = new Set<object>(); // containers being written, to refuse cycles
  private readonly enc = new TextEncoder();

  constructor(private readonly protocol: 2 | 3 | 4) {}

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  value(v: PickleValue): void {
    if (v === null) return this.byte(0x4e); // NONE
    switch (typeof v) {
      case 'boolean':
        return this.byte(v ? 0x88 : 0x89);
      case 'number':
        return Number.isInteger(v) ? this.int(v) : this.float(v);
      case 'bigint':
        return this.int(v);
      case 'string':
        return this.string(v);
      default:
        break;
    }
    if (v instanceof Uint8Array) return this.bytes(v);
    if (this.open.has(v)) throw new UserError('writePickle: cyclic value (a container that contains itself)');
    this.open.add(v);
    if (Array.isArray(v)) this.list(v);
    else if (v instanceof PyTuple) this.tuple(v);
    else if (v instanceof PyDefaultDict) this.defaultDict(v);
    else if (v instanceof Map) this.dict(v); // PyDict, or a plain Map built by a caller
    else if (v instanceof Set) this.set(v);
    else throw new UserError(`writePickle: not a plain value (${Object.prototype.toString.call(v)})`);
    this.open.delete(v);
  }

  private int(v: number | bigint): void {
    if (typeof v === 'number' && v >= -0x80000000 && v <= 0x7fffffff) return this.smallInt(v);
    const big = BigInt(v);
    if (big >= -0x80000000n && big <= 0x7fffffffn) return this.smallInt(Number(big));
    const le = signedLittleEndian(big);
    if (le.length < 256) {
      this.byte(0x8a); // LONG1
      this.byte(le.length);
    } else {
      this.byte(0x8b); // LONG4
      this.u32(le.length);
    }
    this.raw(le);
  }

  private smallInt(v: number): void {
    if (v >= 0 && v < 0x100) {
      this.byte(0x4b); // BININT1
      this.byte(v);
    } else if (v >= 0 && v < 0x10000) {
      this.byte(0x4d); // BININT2
      this.byte(v & 0xff);
      this.byte(v >>> 8);
    } else {
      this.byte(0x4a); // BININT
      this.u32(v >>> 0);
    }
  }

  private float(v: number): void {
    this.reserve(9);
    this.buf[this.len++] = 0x47; // BINFLOAT
    this.view.setFloat64(this.len, v, false);
    this.len += 8;
  }

  private string(s: string): void {
    // Encode straight into the buffer after room for the longest header (9 bytes), then slide the
    // body back once the real header length is known. Worst case is 3 UTF-8 bytes per UTF-16 unit.
    this.reserve(9 + s.length * 3);
    const { written } = this.enc.encodeInto(s, this.buf.subarray(this.len + 9));
    const at = this.len;
    if (this.protocol >= 4 && written < 256) {
      this.buf[at] = 0x8c; // SHORT_BINUNICODE
      this.buf[at + 1] = written;
      this.len += 2;
    } else if (written <= 0xffffffff) {
      this.buf[at] = 0x58; // BINUNICODE
      this.view.setUint32(at + 1, written, true);
      this.len += 5;
    } else {
      this.buf[at] = 0x8d; // BINUNICODE8 (protocol 4; unreachable in practice, no JS string is that long)
      this.view.setUint32(at + 1, written % 0x100000000, true);
      this.view.setUint32(at + 5, Math.floor(written / 0x100000000), true);
      this.len += 9;
    }
    this.buf.copyWithin(this.len, at + 9, at + 9 + written);
    this.len += written;
  }

  private bytes(b: Uint8Array): void {
    if (this.protocol < 3) throw new UserError('writePickle: bytes need protocol 3 or later');
    if (b.length < 256) {
      this.byte(0x43); // SHORT_BINBYTES
      this.byte(b.length);
    } else if (b.length <= 0xffffffff) {
      this.byte(0x42); // BINBYTES
      this.u32(b.length);
    } else {
      this.byte(0x8e); // BINBYTES8
      this.u64(b.length);
    }
    this.raw(b);
  }

  private list(items: PickleValue[]): void {
    this.byte(0x5d); // EMPTY_LIST
    this.batched(items, 1, 0x65); // APPENDS
  }

  private tuple(t: PyTuple): void {
    const n = t.items.length;
    if (n === 0) return this.byte(0x29); // EMPTY_TUPLE
    if (n <= 3) {
      for (const x of t.items) this.value(x);
      return this.byte(0x84 + n); // TUPLE1/2/3
    }
    this.byte(0x28); // MARK
    for (const x of t.items) this.value(x);
    this.byte(0x74); // TUPLE
  }

  private dict(d: Map<PickleValue, PickleValue>): void {
    this.byte(0x7d); // EMPTY_DICT
    this.setItems(d);
  }

  private defaultDict(d: PyDefaultDict): void {
    this.global('collections', 'defaultdict');
    if (d.factory === null) this.byte(0x4e);
    else this.global('builtins', d.factory);
    this.byte(0x85); // TUPLE1
    this.byte(0x52); // REDUCE
    this.setItems(d);
  }

  private set(s: Set<PickleValue>): void {
    if (this.protocol >= 4) {
      this.byte(0x8f); // EMPTY_SET
      return this.batched([...s], 1, 0x90); // ADDITEMS
    }
    // Protocol < 4 has no set opcodes: set([items]) via REDUCE, as Python writes it.
    this.global('builtins', 'set');
    this.list([...s]);
    this.byte(0x85); // TUPLE1
    this.byte(0x52); // REDUCE
  }

  private setItems(d: Map<PickleValue, PickleValue>): void {
    const flat: PickleValue[] = [];
    for (const [k, v] of d) flat.push(k, v);
    this.batched(flat, 2, 0x75); // SETITEMS
  }

  /** MARK, up to BATCH elements of `stride` values, the closing opcode; repeated. */
  private batched(flat: PickleValue[], stride: number, closer: number): void {
    const step = BATCH * stride;
    for (let i = 0; i < flat.length; i += step) {
      this.byte(0x28); // MARK
      const end = Math.min(flat.length, i + step);
      for (let j = i; j < end; j++) this.value(flat[j]!);
      this.byte(closer);
    }
  }

  private global(module: string, name: string): void {
    if (this.protocol >= 4) {
      this.string(module);
      this.string(name);
      this.byte(0x93); // STACK_GLOBAL
      return;
    }
    // Python 3 writes builtins as __builtin__ for protocol < 3 (fix_imports).
    const mod = this.protocol < 3 && module === 'builtins' ? '__builtin__' : module;
    this.byte(0x63); // GLOBAL
    this.raw(this.enc.encode(`${mod}\n${name}\n`));
  }

  private u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.len, v, true);
    this.len += 4;
  }

  private u64(v: number): void {
    this.u32(v % 0x100000000);
    this.u32(Math.floor(v / 0x100000000));
  }

  private raw(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }
}

/** Minimal little-endian two's complement bytes of v (what Python's encode_long produces). */
function signedLittleEndian(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  const negative = v < 0n;
  // Bytes needed: enough bits for |v| plus a sign bit.
  const bits = (negative ? -v - 1n : v).toString(2).length + 1;
  const n = Math.ceil(bits / 8);
  let u = negative ? (1n << BigInt(8 * n)) + v : v;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  return out;
}
