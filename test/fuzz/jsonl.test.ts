// Fuzz core/taac/jsonl.ts (parseJsonLines, readJsonLines) and ingest's per-line checks with seeded
// mutations of the real seq_line0.jsonl, synthetic seq.jsonl lines and a synthetic creative_emb part.
// Every case must end within the watchdog bound with each line either a value or a one-line `error`
// field; the chunked file reader must agree with the in-memory parser line for line; ingest's
// record check (parseLine) may only throw LineError, and readMmEmbeddings only UserError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { parseJsonLines, readJsonLines, type JsonLine } from '../../core/taac/jsonl.ts';
import { readIndexer, type IndexerInfo } from '../../core/taac/indexer.ts';
import { readMmEmbeddings } from '../../stages/ingest/mm-emb.ts';
import { LineError, parseLine, seqRules } from '../../stages/ingest/records.ts';
import { writeSyntheticDataset } from '../../stages/synth/write.ts';
import { describeMutations, fuzzCases, fuzzSeed, mutateCase } from './mutate.ts';
import { classify, runCasesWithWatchdog, tallyOutcomes, type CaseOutcome, type CaseResult } from './watchdog.ts';

const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/tencentgr_1k_sample/', import.meta.url));
const SEED = fuzzSeed(20250602);
const CASE_TIMEOUT_MS = 2000;

type SourceKind = 'seq' | 'emb';

interface JsonlFuzzData {
  seed: number;
  sources: { file: string; kind: SourceKind; indexer: string }[];
}

/** Per-worker cache: the real indexer takes ~0.1 s to read and every seq case needs its limits. */
const indexers = new Map<string, IndexerInfo>();
function indexerFor(file: string): IndexerInfo {
  let ix = indexers.get(file);
  if (ix === undefined) indexers.set(file, (ix = readIndexer(file)));
  return ix;
}

/** The reader's contract, independent of the input: consecutive lines, rising offsets, value xor error. */
function checkLines(lines: JsonLine[], size: number): string | null {
  let prev = -1;
  for (let k = 0; k < lines.length; k++) {
    const l = lines[k]!;
    if (l.line !== k + 1) return `line ${k + 1} numbered ${l.line}`;
    if (!(l.offset > prev && l.offset <= size)) return `line ${l.line} offset ${l.offset} out of order`;
    prev = l.offset;
    if ((l.error === undefined) === !('value' in l)) return `line ${l.line} has neither or both of value and error`;
    if (l.error !== undefined && (l.error === '' || /[\x00-\x1f\x7f]/.test(l.error))) return `line ${l.line} error is not one line: ${JSON.stringify(l.error)}`;
  }
  return null;
}

async function collect(file: string, chunkBytes: number): Promise<JsonLine[]> {
  const out: JsonLine[] = [];
  for await (const l of readJsonLines(file, { chunkBytes })) out.push(l);
  return out;
}

/** Worker side: mutate one source; parse it in memory and in chunks; then run ingest's check on it. */
export async function runFuzzCase(index: number, raw: unknown): Promise<CaseOutcome> {
  const data = raw as JsonlFuzzData;
  const src = data.sources[index % data.sources.length]!;
  const { bytes, mutations } = mutateCase(readFileSync(src.file), data.seed, index);
  const label = `${src.file.split('/').pop()} [${describeMutations(mutations)}]`;
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-jsonl-'));
  try {
    const outcome = await classify(async () => {
      const lines = [...parseJsonLines(bytes)];
      const bad = checkLines(lines, bytes.length);
      if (bad !== null) throw new Error(`parseJsonLines: ${bad}`);
      const file = join(dir, 'case.jsonl');
      writeFileSync(file, bytes);
      const chunkBytes = [61, 256, 4093][index % 3]!; // small chunks: lines and UTF-8 characters span reads
      if (!isDeepStrictEqual(await collect(file, chunkBytes), lines)) throw new Error(`readJsonLines(chunkBytes ${chunkBytes}) disagrees with parseJsonLines`);
      const errors = lines.filter((l) => l.error !== undefined).length;
      if (src.kind === 'seq') return checkSeqLines(lines, indexerFor(src.indexer), errors);
      return checkEmbPart(dir, bytes, indexerFor(src.indexer), errors);
    });
    return outcome.kind === 'crash' ? { kind: 'crash', message: `${label}: ${outcome.message}` } : outcome;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ingest's record check: a parsed line is accepted or refused with a one-line LineError. */
function checkSeqLines(lines: JsonLine[], ix: IndexerInfo, jsonErrors: number): string {
  const limits = { userCount: ix.userCount, itemCount: ix.itemCount, vocab: ix.vocab };
  let refused = 0;
  for (const l of lines) {
    if (l.error !== undefined) continue;
    try {
      parseLine(l.value, seqRules(limits, { item: new Set() }));
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      if (e.message === '' || e.message.includes('\n')) throw new Error(`LineError is not one line: ${JSON.stringify(e.message)}`);
      refused++;
    }
  }
  return `${lines.length} lines, ${jsonErrors} JSON errors, ${refused} refused records`;
}

/** ingest's creative_emb reader on the mutated part: vectors, counted bad lines, or a UserError. */
async function checkEmbPart(dir: string, bytes: Uint8Array, ix: IndexerInfo, jsonErrors: number): Promise<string> {
  const folder = join(dir, 'raw', 'creative_emb', 'emb_81_32');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'part-00000'), bytes);
  let badLines = 0;
  const table = await readMmEmbeddings(join(dir, 'raw'), '81', ix.itemCount, ix.itemIdxByCid, (_file, _line, reason) => {
    if (reason === '' || reason.includes('\n')) throw new Error(`bad-line reason is not one line: ${JSON.stringify(reason)}`);
    badLines++;
  });
  if (table.values.length !== (ix.itemCount + 1) * table.dim) throw new Error(`vector table has ${table.values.length} values for dim ${table.dim}`);
  return `${jsonErrors} JSON errors, ${badLines} bad lines, ${table.stats.vectors} vectors`;
}

function assertNoCrash(results: CaseResult[], count: number, seed: number): void {
  assert.equal(results.length, count, 'every case reported');
  const crashes = results.filter((r) => r.outcome.kind === 'crash');
  assert.deepEqual(crashes.map((r) => `case ${r.index} (seed ${seed}): ${r.outcome.kind === 'crash' ? r.outcome.message : ''}`), []);
}

if (isMainThread) {
  test('mutated real seq_line0.jsonl: per-line values or errors, chunked = in-memory, no crash or hang', { timeout: 120_000 }, async (t) => {
    const line0 = join(FIXTURES, 'seq_line0.jsonl');
    if (!existsSync(line0)) {
      t.skip(`real fixtures absent (${FIXTURES})`);
      return;
    }
    const sources: JsonlFuzzData['sources'] = [{ file: line0, kind: 'seq', indexer: join(FIXTURES, 'indexer.pkl') }];
    const count = fuzzCases(100);
    const results = await runCasesWithWatchdog(import.meta.url, count, { seed: SEED, sources } satisfies JsonlFuzzData, CASE_TIMEOUT_MS);
    assertNoCrash(results, count, SEED);
    t.diagnostic(`${count} cases (seed ${SEED}): ${tallyOutcomes(results)}`);
    // the unmutated line parses and passes the record check, so the fuzz exercises both outcomes
    const clean = [...parseJsonLines(readFileSync(line0) as Uint8Array)];
    assert.equal(clean.length, 1);
    assert.equal(clean[0]!.error, undefined);
  });

  test('mutated synthetic seq.jsonl lines and creative_emb part: no crash or hang', { timeout: 120_000 }, async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'fuzz-jsonl-src-'));
    try {
      const raw = join(root, 'raw');
      mkdirSync(raw);
      writeSyntheticDataset(raw, {
        seed: 11, synth_users: 12, synth_items: 40, synth_topics: 3, synth_days: 10,
        synth_min_len: 11, synth_max_len: 20, synth_predict_users: 0, synth_mm_large_dim: 8,
    synth_len_power: 0.5, synth_user_profiles: true, synth_all_clicks: false, synth_oracle: true,
      });
      // a few whole lines keep each case small; the emb part as written
      const seqLines = readFileSync(join(raw, 'seq.jsonl'), 'utf8').split('\n').slice(0, 4).join('\n') + '\n';
      writeFileSync(join(root, 'seq4.jsonl'), seqLines);
      const indexer = join(raw, 'indexer.pkl');
      const sources: JsonlFuzzData['sources'] = [
        { file: join(root, 'seq4.jsonl'), kind: 'seq', indexer },
        { file: join(raw, 'creative_emb', 'emb_81_32', 'part-00000'), kind: 'emb', indexer },
      ];
      const count = fuzzCases(200);
      const results = await runCasesWithWatchdog(import.meta.url, count, { seed: SEED + 1, sources } satisfies JsonlFuzzData, CASE_TIMEOUT_MS);
      assertNoCrash(results, count, SEED + 1);
      t.diagnostic(`${count} cases (seed ${SEED + 1}): ${tallyOutcomes(results)}`);
      // both outcomes occur: some mutated inputs are refused somewhere, some read cleanly
      assert.ok(results.some((r) => r.outcome.kind === 'user-error' || (r.outcome.kind === 'ok' && / [1-9]\d* (JSON errors|refused|bad lines)/.test(r.outcome.note ?? ''))));
      assert.ok(results.some((r) => r.outcome.kind === 'ok' && /^\d+ lines, 0 JSON errors, 0 refused|^0 JSON errors, 0 bad lines/.test(r.outcome.note ?? '')));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}
