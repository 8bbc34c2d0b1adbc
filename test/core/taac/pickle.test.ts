import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PyDefaultDict, PyDict, PyTuple, type PickleValue } from '../../../core/taac/pickle/values.ts';
import { readPickle } from '../../../core/taac/pickle/read.ts';
import { writePickle } from '../../../core/taac/pickle/write.ts';
import { UserError } from '../../../core/stage/errors.ts';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/tencentgr_1k_sample/', import.meta.url));
const hasPython = spawnSync('python3', ['-c', 'import pickle'], { encoding: 'utf8' }).status === 0;

/** Hand-written pickle bytes: strings are latin-1 text, arrays are raw bytes. */
function bytesOf(...parts: (string | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'string') for (let i = 0; i < p.length; i++) out.push(p.charCodeAt(i) & 0xff);
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

const readFixture = (file: string): Uint8Array => new Uint8Array(readFileSync(file));
const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));

function assertRefused(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => readPickle(bytes, 'evil.pkl'), (e: unknown) => {
    assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
    assert.match(e.message, /^evil\.pkl: /);
    assert.match(e.message, pattern);
    return true;
  });
}

/** A language-neutral tagged form both Python and TS can produce (floats by their bits). */
type Canon = null | boolean | [string, ...unknown[]];
function canon(v: PickleValue): Canon {
  if (v === null || typeof v === 'boolean') return v;
  // A JS number cannot say whether Python had int or float: safe integers are 'int' on both sides.
  if (typeof v === 'number' && Number.isSafeInteger(v) && !Object.is(v, -0)) return ['int', String(v)];
  if (typeof v === 'number') {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return ['float', b.toString('hex')];
  }
  if (typeof v === 'bigint') return ['int', v.toString()];
  if (typeof v === 'string') return ['str', v];
  if (v instanceof Uint8Array) return ['bytes', Buffer.from(v).toString('hex')];
  if (Array.isArray(v)) return ['list', v.map(canon)];
  if (v instanceof PyTuple) return ['tuple', v.items.map(canon)];
  if (v instanceof PyDefaultDict) return ['defaultdict', v.factory, [...v].map(([k, x]) => [canon(k), canon(x)])];
  if (v instanceof Map) return ['dict', [...v].map(([k, x]) => [canon(k), canon(x)])];
  return ['set', [...v].map(canon)];
}

/** Sets compare unordered: sort their members' JSON on both sides before comparing. */
function sortSets(c: unknown): unknown {
  if (!Array.isArray(c)) return c;
  const out = c.map(sortSets);
  if (out[0] === 'set') out[1] = (out[1] as unknown[]).slice().sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return out;
}

const PY_CANON = `
import collections, json, pickle, struct, sys
def c(v):
    if v is None or isinstance(v, bool): return v
    if isinstance(v, int): return ['int', str(v)]
    if isinstance(v, float):
        if v.is_integer() and abs(v) <= 2**53 - 1 and str(v) != '-0.0': return ['int', str(int(v))]
        return ['float', struct.pack('>d', v).hex()]
    if isinstance(v, str): return ['str', v]
    if isinstance(v, (bytes, bytearray)): return ['bytes', bytes(v).hex()]
    if isinstance(v, list): return ['list', [c(x) for x in v]]
    if isinstance(v, tuple): return ['tuple', [c(x) for x in v]]
    if isinstance(v, collections.defaultdict):
        f = v.default_factory
        return ['defaultdict', f.__name__ if f else None, [[c(k), c(x)] for k, x in v.items()]]
    if isinstance(v, dict): return ['dict', [[c(k), c(x)] for k, x in v.items()]]
    if isinstance(v, (set, frozenset)): return ['set', [c(x) for x in v]]
    raise TypeError(type(v))
`;

const BIG_INTS: (number | bigint)[] = [
  0, 1, -1, 255, 256, 65535, 65536, -129, -(2 ** 40), 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32,
  Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 64n, -(2n ** 70n),
  2n ** 63n - 1n, -(2n ** 63n), 2n ** 2100n + 12345n, -(2n ** 2100n),
];

function sampleValue(): PickleValue {
  const f = new PyDefaultDict('dict', [
    ['112', new PyDict([[14, 1], [80, 2]])],
    ['106', new PyDict()],
  ]);
  return new PyDict([
    ['f', f],
    ['ints', BIG_INTS.slice()],
    ['floats', [1.5, -0.25, Math.PI, -1e-300, 1.5e-7, Infinity, -Infinity]], // integer-valued numbers are written as ints
    ['text', ['', 'héllo', '用户特征', 'emoji 𝄞 ✓', 'x'.repeat(300)]],
    ['bytes', [new Uint8Array([0, 1, 255]), new Uint8Array(300).fill(7)]],
    ['tuple', new PyTuple([1, new PyTuple([]), new PyTuple([2, 3]), new PyTuple(['a', 'b', 'c', 'd'])])],
    ['set', new Set<PickleValue>([1, 'two', 2n ** 64n])],
    ['lists', [[], [null, true, false], Array.from({ length: 2500 }, (_, i) => i * 7)]],
    ['dd_list', new PyDefaultDict('list', [[1, [1, 2]]])],
    ['dd_none', new PyDefaultDict(null)],
    [new PyTuple([1, 'k']), 'tuple key'],
    [-(2n ** 70n), 'bigint key'],
    [7, new Map([[1, 2]]) as PyDict], // a plain Map is written as a dict too
  ]);
}

test('real indexer.pkl: top-level f/i/u/a with the documented sizes', (t) => {
  const file = join(FIXTURES, 'indexer.pkl');
  if (!existsSync(file)) return t.skip(`fixture ${file} absent`);
  const top = readPickle(readFixture(file), 'indexer.pkl');
  assert.ok(top instanceof PyDict);
  assert.deepEqual([...top.keys()], ['f', 'i', 'u', 'a']);
  const f = top.get('f');
  assert.ok(f instanceof PyDefaultDict);
  assert.equal(f.factory, 'dict');
  assert.equal(f.size, 22);
  for (const [fid, values] of f) {
    assert.match(String(fid), /^\d+$/);
    assert.ok(values instanceof PyDict);
  }
  const u = top.get('u');
  const i = top.get('i');
  assert.ok(u instanceof PyDict && i instanceof PyDict);
  assert.equal(u.size, 865);
  assert.equal(i.size, 58_734);
  for (const [k, v] of u) {
    assert.match(String(k), /^user_\d{8}$/);
    assert.equal(typeof v, 'number');
  }
  // Item raw ids are ints; dense re-ids run 1..size.
  const reids = new Set([...i.values()]);
  assert.equal(reids.size, i.size);
  for (const k of i.keys()) assert.equal(typeof k === 'number' || typeof k === 'bigint', true);
  assert.deepEqual([...(top.get('a') as PyDict)], [[1, 1], [0, 2]]);
});

test('real seq_offsets.pkl: 865 strictly ascending offsets starting 0, 18809, 38087', (t) => {
  const file = join(FIXTURES, 'seq_offsets.pkl');
  if (!existsSync(file)) return t.skip(`fixture ${file} absent`);
  const offsets = readPickle(readFixture(file), 'seq_offsets.pkl');
  assert.ok(Array.isArray(offsets));
  assert.equal(offsets.length, 865);
  assert.deepEqual(offsets.slice(0, 3), [0, 18809, 38087]);
  for (let k = 1; k < offsets.length; k++) assert.ok((offsets[k] as number) > (offsets[k - 1] as number), `offset ${k}`);
});

test('refuses os.system (protocol 0 GLOBAL + REDUCE) and runs nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pickle-evil-'));
  try {
    const marker = join(dir, 'pwned');
    const evil = bytesOf(`cos\nsystem\n(S'touch ${marker}'\ntR.`);
    if (hasPython) {
      // Prove the payload is live: Python itself runs it (into a different marker file).
      const live = join(dir, 'python-ran');
      const r = spawnSync('python3', ['-c', 'import pickle,sys; pickle.loads(sys.stdin.buffer.read())'], {
        input: bytesOf(`cos\nsystem\n(S'touch ${live}'\ntR.`),
      });
      assert.equal(r.status, 0, String(r.stderr));
      assert.ok(existsSync(live), 'python should have executed the payload');
    }
    assertRefused(evil, /refusing global os\.system at offset 0/);
    assert.equal(existsSync(marker), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('refuses builtins.eval via STACK_GLOBAL, naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pickle-evil-'));
  try {
    const marker = join(dir, 'pwned');
    const code = `open(${JSON.stringify(marker)}, 'w')`;
    const evil = bytesOf([0x80, 4, 0x8c, 8], 'builtins', [0x8c, 4], 'eval', [0x93, 0x8c, code.length], code, [0x85, 0x52, 0x2e]);
    assertRefused(evil, /refusing global builtins\.eval/);
    assert.equal(existsSync(marker), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('refuses code-running opcodes, foreign globals and bare globals', () => {
  assertRefused(bytesOf('c__builtin__\neval\n.'), /refusing global __builtin__\.eval at offset 0/);
  assertRefused(bytesOf([0x80, 2], 'csubprocess\nPopen\n.'), /refusing global subprocess\.Popen at offset 2/);
  assertRefused(bytesOf([0x80, 2, 0x7d, 0x7d, 0x62, 0x2e]), /refusing opcode BUILD .*at offset 4/);
  assertRefused(bytesOf('(iposix\nsystem\n.'), /refusing opcode INST/);
  assertRefused(bytesOf([0x80, 2, 0x28, 0x6f, 0x2e]), /refusing opcode OBJ/);
  assertRefused(bytesOf('Pid\n.'), /refusing opcode PERSID/);
  assertRefused(bytesOf([0x80, 2, 0x82, 1, 0x2e]), /refusing opcode EXT1/);
  assertRefused(bytesOf([0x80, 4, 0xff, 0x2e]), /unknown opcode 0xff .*at offset 2/);
  // An allowed class pickled as a value is still code, not data.
  assertRefused(bytesOf([0x80, 4, 0x8c, 8], 'builtins', [0x8c, 4], 'dict', [0x93, 0x2e]), /bare global/);
  // REDUCE on something that is not an allowed global.
  assertRefused(bytesOf([0x80, 4, 0x4b, 1, 0x29, 0x52, 0x2e]), /REDUCE of a non-callable at offset 5/);
});

test('structural errors name the offset: underflow, memo, marks, trailing bytes, LONG4 limit', () => {
  assertRefused(bytesOf([0x80, 4, 0x61, 0x2e]), /stack underflow at offset 2/);
  assertRefused(bytesOf([0x80, 4, 0x65, 0x2e]), /no MARK at offset 2/);
  assertRefused(bytesOf([0x80, 4, 0x68, 3, 0x2e]), /bad memo index 3 at offset 2/);
  assertRefused(bytesOf([0x80, 4, 0x4e, 0x4e, 0x2e]), /2 values on the stack/);
  assertRefused(bytesOf([0x80, 4, 0x4e, 0x2e, 0x4e]), /1 trailing bytes after STOP/);
  assertRefused(bytesOf([0x80, 4, 0x8b, 0x01, 0x00, 0x20, 0x00, 0x2e]), /LONG4 of 2097153 bytes exceeds/);
  assertRefused(bytesOf([0x80, 9, 0x4e, 0x2e]), /unsupported pickle protocol 9/);
});

test('every strict prefix of a valid pickle is a UserError, never a crash or a value', () => {
  const whole = writePickle(sampleValue());
  assert.ok(whole.length > 1000);
  for (let n = 0; n < whole.length; n++) {
    assert.throws(() => readPickle(whole.subarray(0, n), 'cut.pkl'), (e: unknown) => e instanceof UserError && /^cut\.pkl: /.test(e.message), `prefix ${n}`);
  }
});

test('signed LONG1/LONG4 and text ints decode exactly', () => {
  const read = (...parts: (string | number[])[]): PickleValue => readPickle(bytesOf(...parts));
  assert.equal(read([0x80, 2, 0x8a, 2, 0x7f, 0xff, 0x2e]), -129);
  assert.equal(read([0x80, 2, 0x8a, 6, 0, 0, 0, 0, 0, 0xff, 0x2e]), -(2 ** 40));
  assert.equal(read([0x80, 2, 0x8a, 0, 0x2e]), 0);
  assert.equal(read([0x80, 2, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x2e]), 2n ** 64n);
  assert.equal(read([0x80, 2, 0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x2e]), -(2n ** 63n));
  assert.equal(read([0x80, 2, 0x8b, 1, 0, 0, 0, 0xff, 0x2e]), -1);
  assert.equal(read('I-42\n.'), -42);
  assert.equal(read('I01\n.'), true);
  assert.equal(read('L18446744073709551616L\n.'), 2n ** 64n);
  assert.equal(read('L9007199254740991L\n.'), Number.MAX_SAFE_INTEGER);
  assert.equal(read("S'a\\'b\\x41\\n'\n."), "a'bA\n");
  assert.equal(read('Vcaf\\u00e9 \\U0001d11e\n.'), 'café 𝄞');
});

for (const protocol of [2, 3, 4] as const) {
  test(`writer → reader round-trip, protocol ${protocol}`, () => {
    const value = sampleValue();
    if (protocol === 2) (value as PyDict).delete('bytes');
    const bytes = writePickle(value, { protocol });
    assert.deepEqual(bytes.subarray(0, 2), Uint8Array.from([0x80, protocol]));
    const back = readPickle(bytes);
    assert.deepEqual(sortSets(canon(back)), sortSets(canon(value)));
    const dd = (back as PyDict).get('f');
    assert.ok(dd instanceof PyDefaultDict && dd.factory === 'dict');
    // Deterministic and stable under a second trip.
    assert.deepEqual(writePickle(back, { protocol }), bytes);
    assert.deepEqual(writePickle(sampleValue(), { protocol: 4 }), writePickle(sampleValue(), { protocol: 4 }));
  });
}

test('ints: safe integers come back as numbers, beyond 2^53 as exact bigints', () => {
  const back = readPickle(writePickle(BIG_INTS.concat([2 ** 60, -(2 ** 60)]))) as PickleValue[];
  assert.deepEqual(back.slice(0, BIG_INTS.length), BIG_INTS);
  assert.equal(back[BIG_INTS.length], 2n ** 60n); // an integer-valued JS number is written as an int
  assert.equal(back[BIG_INTS.length + 1], -(2n ** 60n));
  assert.equal(readPickle(writePickle(1e300)), BigInt(1e300)); // integer-valued, so an exact int
  // A view into a larger buffer (as pooled Buffers are) reads from its own byteOffset.
  const inner = writePickle([-(2 ** 40), 1.5, 2n ** 64n]);
  const padded = new Uint8Array(inner.length + 13);
  padded.set(inner, 5);
  assert.deepEqual(readPickle(padded.subarray(5, 5 + inner.length)), [-(2 ** 40), 1.5, 2n ** 64n]);
  assert.equal(typeof readPickle(writePickle(2n ** 53n - 1n)), 'number');
  assert.equal(typeof readPickle(writePickle(2n ** 53n + 1n)), 'bigint');
});

test('writer refuses what pickle cannot hold faithfully', () => {
  assert.throws(() => writePickle(new Uint8Array([1]), { protocol: 2 }), UserError);
  const cyclic: PickleValue[] = [];
  cyclic.push(cyclic);
  assert.throws(() => writePickle(cyclic), /cyclic/);
  // Shared (acyclic) references are fine: written twice.
  const shared = [1, 2];
  assert.deepEqual(readPickle(writePickle([shared, shared])), [[1, 2], [1, 2]]);
});

test('python3 reads our pickles to the same value', (t) => {
  if (!hasPython) return t.skip('python3 not on PATH');
  for (const protocol of [2, 3, 4] as const) {
    const value = sampleValue();
    if (protocol === 2) (value as PyDict).delete('bytes');
    const r = spawnSync('python3', ['-c', `${PY_CANON}\njson.dump(c(pickle.loads(sys.stdin.buffer.read())), sys.stdout)`], {
      input: writePickle(value, { protocol }),
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(sortSets(JSON.parse(r.stdout)), sortSets(canon(value)), `protocol ${protocol}`);
  }
});

test('we read pickles written by python3 (protocols 0–5, big ints, shared refs)', (t) => {
  if (!hasPython) return t.skip('python3 not on PATH');
  const script = `${PY_CANON}
shared = [1, 2]
def value(p):
    v = {
        'ints': [0, -1, 255, 256, 65535, -129, 2**31, -2**31 - 1, 2**53 + 1, -2**53 - 1, 2**64, -2**70, 2**2000 + 7],
        'floats': [1.5, -0.0, 1e300, float('inf')],
        'text': ['', 'héllo', '用户特征 𝄞', 'quote\\'s "x"\\n\\\\'],
        'f': collections.defaultdict(dict, {'112': {14: 1, 80: 2}, '106': {}}),
        'dl': collections.defaultdict(list, {1: [1]}),
        'od': collections.OrderedDict([('b', 1), ('a', 2)]),
        'set': {1, 'two', 2**64}, 'fs': frozenset([3, 4]),
        'tuple': (1, (), (2, 3), ('a', 'b', 'c', 'd')),
        'shared': [shared, shared],
        'big': list(range(3000)),
        (1, 'k'): 'tuple key', True: None,
    }
    if p >= 3: v['bytes'] = [b'', b'\\x00\\xff', bytes(300)]
    if p >= 5: v['bytearray'] = bytearray(b'abc')
    if p < 4: del v['fs']  # frozenset before protocol 4 is a builtins.frozenset global, not allowed
    return v
json.dump([{'p': p, 'hex': pickle.dumps(value(p), protocol=p).hex(), 'canon': c(value(p))} for p in range(6)], sys.stdout)
`;
  const r = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const cases = JSON.parse(r.stdout) as { p: number; hex: string; canon: unknown }[];
  assert.equal(cases.length, 6);
  for (const { p, hex, canon: expected } of cases) {
    const got = readPickle(fromHex(hex), `python-p${p}.pkl`);
    assert.deepEqual(sortSets(canon(got)), sortSets(expected), `protocol ${p}`);
  }
});

test('python3 bytes (protocol 2) and frozenset (protocol 3) are refused by name, not mis-read', (t) => {
  if (!hasPython) return t.skip('python3 not on PATH');
  const dump = (expr: string): Uint8Array => {
    const r = spawnSync('python3', ['-c', `import pickle,sys; sys.stdout.write(pickle.dumps(${expr}).hex())`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return fromHex(r.stdout);
  };
  assertRefused(dump("b'x', protocol=2"), /refusing global _codecs\.encode/);
  assertRefused(dump('frozenset([1]), protocol=3'), /refusing global builtins\.frozenset/);
});
