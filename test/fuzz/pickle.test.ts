// Fuzz core/taac/pickle/read.ts readPickle and ingest's pickle checks (readIndexer, readOffsets) with seeded
// mutations of the real indexer.pkl / seq_offsets.pkl and of synthetic pickles. Every case must end
// in a value or a one-line UserError naming the file, within the watchdog bound: never a hang,
// never a RangeError/TypeError escaping.
import { test } from 'node:test';
import { UserError } from '../../core/stage/errors.ts';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { PyDefaultDict, PyDict, type PickleValue } from '../../core/taac/pickle/values.ts';
import { readPickle } from '../../core/taac/pickle/read.ts';
import { writePickle } from '../../core/taac/pickle/write.ts';
import { readIndexer } from '../../core/taac/indexer.ts';
import { readOffsets } from '../../stages/ingest/offsets.ts';
import { describeMutations, fuzzCases, fuzzSeed, mutateCase } from './mutate.ts';
import { classify, runCasesWithWatchdog, tallyOutcomes, type CaseOutcome, type CaseResult } from './watchdog.ts';

const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/tencentgr_1k_sample/', import.meta.url));
const SEED = fuzzSeed(20250601);
const CASE_TIMEOUT_MS = 2000;

/** What the worker fuzzes: files to mutate, each with the ingest check that reads it. */
interface PickleFuzzData {
  seed: number;
  sources: { file: string; check: 'indexer' | 'offsets' }[];
}

/** A small indexer in the real layout (defaultdict under 'f', big creative ids, 'user_%08d' keys). */
function syntheticIndexer(): PickleValue {
  const f = new PyDefaultDict('dict');
  for (const fid of ['100', '103', '106', '112']) f.set(fid, new PyDict([1, 2, 3].map((v) => [Number(fid) * 1000 + v, v] as [PickleValue, PickleValue])));
  const items = new PyDict(Array.from({ length: 40 }, (_, k) => [20_000_000_000 + 7 * k, k + 1] as [PickleValue, PickleValue]));
  const users = new PyDict(Array.from({ length: 12 }, (_, k) => [`user_${String(k + 1).padStart(8, '0')}`, k + 1] as [PickleValue, PickleValue]));
  return new PyDict([['f', f], ['i', items], ['u', users], ['a', new PyDict([[1, 1], [0, 2]])]]);
}

/** Offsets past 2^31 so the LONG1 path is exercised, as in the real protocol-3 file. */
function syntheticOffsets(): PickleValue {
  return Array.from({ length: 60 }, (_, k) => k * 48_000_000);
}

function checkMessage(message: string, source: string): string | null {
  if (message.includes('\n')) return 'message spans several lines';
  if (!message.startsWith(`${source}`)) return `message does not name ${source}`;
  return null;
}

/** Worker side: case `index` mutates one source and runs readPickle, then the ingest check. */
export async function runFuzzCase(index: number, raw: unknown): Promise<CaseOutcome> {
  const data = raw as PickleFuzzData;
  const src = data.sources[index % data.sources.length]!;
  const { bytes, mutations } = mutateCase(readFileSync(src.file), data.seed, index);
  const label = `${src.file.split('/').pop()} [${describeMutations(mutations)}]`;
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-pickle-'));
  try {
    const file = join(dir, src.check === 'indexer' ? 'indexer.pkl' : 'seq_offsets.pkl');
    writeFileSync(file, bytes);
    const outcome = await classify(() => {
      readPickle(bytes, file);
      if (src.check === 'indexer') readIndexer(file);
      else readOffsets(file);
    });
    if (outcome.kind === 'user-error') {
      const bad = checkMessage(outcome.message, file);
      if (bad !== null) return { kind: 'crash', message: `${label}: ${bad}: ${outcome.message}` };
    }
    if (outcome.kind === 'crash') return { kind: 'crash', message: `${label}: ${outcome.message}` };
    return outcome;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertNoCrash(results: CaseResult[], count: number): void {
  assert.equal(results.length, count, 'every case reported');
  const crashes = results.filter((r) => r.outcome.kind === 'crash');
  assert.deepEqual(
    crashes.map((r) => `case ${r.index} (seed ${SEED}): ${r.outcome.kind === 'crash' ? r.outcome.message : ''}`),
    [],
    'no exception other than a one-line UserError naming the file',
  );
  // not vacuous: the mutations both break files and leave some readable
  assert.ok(results.some((r) => r.outcome.kind === 'user-error'), 'some mutated pickles are refused');
  assert.ok(results.some((r) => r.outcome.kind === 'ok'), 'some mutated pickles still read');
}

if (isMainThread) {
  test('mutated real indexer.pkl and seq_offsets.pkl: a value or a clear error, never a crash or hang', { timeout: 120_000 }, async (t) => {
    if (!existsSync(join(FIXTURES, 'indexer.pkl'))) {
      t.skip(`real fixtures absent (${FIXTURES})`);
      return;
    }
    // indexer.pkl is 1.6 MB (~0.1 s a read): one case in four, so the suite stays fast
    const sources: PickleFuzzData['sources'] = [
      { file: join(FIXTURES, 'indexer.pkl'), check: 'indexer' },
      { file: join(FIXTURES, 'seq_offsets.pkl'), check: 'offsets' },
      { file: join(FIXTURES, 'seq_offsets.pkl'), check: 'offsets' },
      { file: join(FIXTURES, 'seq_offsets.pkl'), check: 'offsets' },
    ];
    const count = fuzzCases(160);
    const results = await runCasesWithWatchdog(import.meta.url, count, { seed: SEED, sources } satisfies PickleFuzzData, CASE_TIMEOUT_MS);
    assertNoCrash(results, count);
    t.diagnostic(`${count} cases (seed ${SEED}): ${tallyOutcomes(results)}`);
  });

  test('mutated synthetic pickles (protocols 2–4): a value or a clear error, never a crash or hang', { timeout: 120_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'fuzz-pickle-src-'));
    try {
      const sources: PickleFuzzData['sources'] = [];
      for (const protocol of [2, 3, 4] as const) {
        const ix = join(dir, `indexer-p${protocol}.pkl`);
        writeFileSync(ix, writePickle(syntheticIndexer(), { protocol }));
        const off = join(dir, `offsets-p${protocol}.pkl`);
        writeFileSync(off, writePickle(syntheticOffsets(), { protocol }));
        sources.push({ file: ix, check: 'indexer' }, { file: off, check: 'offsets' });
      }
      // the unmutated sources pass both checks, so every refusal below comes from a mutation
      for (const s of sources) {
        if (s.check === 'indexer') assert.equal(readIndexer(s.file).itemCount, 40);
        else assert.equal(readOffsets(s.file)?.length, 60);
      }
      const count = fuzzCases(160);
      const results = await runCasesWithWatchdog(import.meta.url, count, { seed: SEED + 1, sources } satisfies PickleFuzzData, CASE_TIMEOUT_MS);
      assertNoCrash(results, count);
      t.diagnostic(`${count} cases (seed ${SEED + 1}): ${tallyOutcomes(results)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Inputs the fuzzing found (or led to) that once escaped readPickle as RangeError or a two-line message.
  test('found by fuzzing: big tuples, out-of-range \\U escapes and newlines in global names', () => {
    const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
    const n = 300_000; // MARK, n × NONE, TUPLE, STOP: once overflowed the call stack in the plain-data check
    const tuple = new Uint8Array(n + 3).fill(0x4e);
    tuple[0] = 0x28;
    tuple[n + 1] = 0x74;
    tuple[n + 2] = 0x2e;
    const v = readPickle(tuple, 'big.pkl');
    assert.ok(v !== null && typeof v === 'object' && 'items' in v && v.items.length === n);
    assert.throws(() => readPickle(bytes('V\\U00110000\n.'), 'u.pkl'), (e: unknown) => e instanceof UserError && /u\.pkl: UNICODE argument has a \\U escape past U\+10FFFF/.test(e.message));
    // SHORT_BINUNICODE 'os\nx' + 'system' + STACK_GLOBAL: the refusal quotes the name on one line
    assert.throws(() => readPickle(bytes('\x80\x04\x8c\x04os\nx\x8c\x06system\x93.'), 'g.pkl'), (e: unknown) => e instanceof UserError && !e.message.includes('\n') && e.message.includes('refusing global os\\x0ax.system'));
  });
}
