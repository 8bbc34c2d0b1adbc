// Seeded byte-level mutations for fuzzing the readers: bit flips, interesting bytes, truncations,
// insertions, deletions and duplicated ranges. Every case is reproducible from (seed, case index),
// so a failure report names exactly the input to rebuild.
import { Rng } from '../../core/random/rng.ts';

export type MutationKind = 'flip' | 'set' | 'truncate' | 'insert' | 'token' | 'delete' | 'duplicate';

export interface Mutation {
  kind: MutationKind;
  at: number; // byte offset the mutation applies at
  length: number; // bytes affected (inserted, removed, copied or changed)
}

export interface Mutated {
  bytes: Uint8Array;
  mutations: Mutation[];
}

const KINDS: readonly MutationKind[] = ['flip', 'set', 'truncate', 'insert', 'token', 'delete', 'duplicate'];

/** Boundary bytes readers trip on: NUL, '\n', quotes, brackets, sign bits, UTF-8 lead/continuation. */
const INTERESTING_BYTES = [0x00, 0x01, 0x0a, 0x0d, 0x22, 0x2c, 0x5b, 0x5d, 0x7b, 0x7d, 0x7f, 0x80, 0xbf, 0xc0, 0xe2, 0xff];

/** Short fragments that are meaningful to JSON or pickle (pickle opcodes: MARK, STOP, REDUCE, LONG1…). */
const TOKENS: readonly string[] = [
  'null', '-1', '0', '1e309', '-0', '9007199254740993', '99999999999999999999999', '"x"', '[]', '{}', '[', '{', ']', '}',
  ',', ':', '"', '\\u0000', '\ufeff', '\u00e9', '\n', '\r\n',
  '(', '.', 'R', 't', 'e', 'u', '\x94', '\x93', '\x8a\xff', '\x8b\xff\xff\xff\x7f', 'h\xff', 'j\xff\xff\xff\xff', 'X\xff\xff\xff\x00',
  'cos\nsystem\n', 'b', 'i', 'o',
];

function latin1Bytes(s: string): Uint8Array {
  // code points < 256 as single bytes (pickle opcodes); others via UTF-8 (JSON text)
  return /^[\x00-\xff]*$/.test(s) ? Uint8Array.from(s, (c) => c.charCodeAt(0)) : new TextEncoder().encode(s);
}

function splice(b: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length - remove + insert.length);
  out.set(b.subarray(0, at), 0);
  out.set(insert, at);
  out.set(b.subarray(at + remove), at + insert.length);
  return out;
}

/** A range length biased towards short runs (1..64 mostly), never past `max`. */
function runLength(rng: Rng, max: number): number {
  if (max <= 0) return 0;
  const cap = rng.next() < 0.9 ? Math.min(max, 64) : max;
  return 1 + rng.int(cap);
}

/** Applies one mutation of `kind` to `b` (b is not modified). */
export function applyMutation(b: Uint8Array, kind: MutationKind, rng: Rng): Mutated {
  const at = rng.int(b.length + 1);
  switch (kind) {
    case 'flip': {
      if (b.length === 0) return { bytes: b, mutations: [] };
      const i = Math.min(at, b.length - 1);
      const out = b.slice();
      out[i] = out[i]! ^ (1 << rng.int(8));
      return { bytes: out, mutations: [{ kind, at: i, length: 1 }] };
    }
    case 'set': {
      if (b.length === 0) return { bytes: b, mutations: [] };
      const i = Math.min(at, b.length - 1);
      const out = b.slice();
      out[i] = INTERESTING_BYTES[rng.int(INTERESTING_BYTES.length)]!;
      return { bytes: out, mutations: [{ kind, at: i, length: 1 }] };
    }
    case 'truncate':
      return { bytes: b.slice(0, at), mutations: [{ kind, at, length: b.length - at }] };
    case 'insert': {
      const n = runLength(rng, 16);
      const ins = Uint8Array.from({ length: n }, () => rng.int(256));
      return { bytes: splice(b, at, 0, ins), mutations: [{ kind, at, length: n }] };
    }
    case 'token': {
      const ins = latin1Bytes(TOKENS[rng.int(TOKENS.length)]!);
      // replace the token-sized run at `at` half of the time, else insert
      const remove = rng.next() < 0.5 ? Math.min(ins.length, b.length - at) : 0;
      return { bytes: splice(b, at, remove, ins), mutations: [{ kind, at, length: ins.length }] };
    }
    case 'delete': {
      const n = runLength(rng, b.length - at);
      return { bytes: splice(b, at, n, new Uint8Array(0)), mutations: [{ kind, at, length: n }] };
    }
    case 'duplicate': {
      if (b.length === 0) return { bytes: b, mutations: [] };
      const from = rng.int(b.length);
      const n = runLength(rng, b.length - from);
      return { bytes: splice(b, at, 0, b.slice(from, from + n)), mutations: [{ kind, at, length: n }] };
    }
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/** 1–3 random mutations of `b`, chosen by `rng`. */
export function mutate(b: Uint8Array, rng: Rng): Mutated {
  const count = 1 + rng.int(3);
  let bytes = b;
  const mutations: Mutation[] = [];
  for (let k = 0; k < count; k++) {
    const m = applyMutation(bytes, KINDS[rng.int(KINDS.length)]!, rng);
    bytes = m.bytes;
    mutations.push(...m.mutations);
  }
  return { bytes, mutations };
}

/** Case `index` of a fuzz run: its own RNG stream, so any case can be rebuilt alone. */
export function mutateCase(b: Uint8Array | Buffer, seed: number, index: number): Mutated {
  // Buffer is a Uint8Array at runtime; this repo's @types/node predates TS 5.7's generic Uint8Array
  return mutate(b as Uint8Array, new Rng(seed, index));
}

/** `kind@at+length` list, for failure messages. */
export function describeMutations(ms: readonly Mutation[]): string {
  return ms.map((m) => `${m.kind}@${m.at}+${m.length}`).join(' ');
}

/** Case count for a fuzz suite: FUZZ_CASES (env) scales every suite relative to its CI default. */
export function fuzzCases(ciDefault: number): number {
  const raw = process.env['FUZZ_CASES'];
  if (raw === undefined || raw === '') return ciDefault;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`FUZZ_CASES must be a positive integer, got ${raw}`);
  return n;
}

/** FUZZ_SEED (env) overrides the fixed CI seed, for exploring; failures print the seed to rerun. */
export function fuzzSeed(ciDefault: number): number {
  const raw = process.env['FUZZ_SEED'];
  return raw === undefined || raw === '' ? ciDefault : Number(raw) >>> 0;
}
