// Runs fuzz cases in a worker thread under a per-case watchdog. A reader stuck in a synchronous loop
// cannot be interrupted in-process, so the cases run in a worker that the test thread terminates
// when one case takes longer than the bound; the report names that case.
//
// A case module exports `runFuzzCase(index, data): Promise<CaseOutcome>`; it must not define tests
// at import time when `!isMainThread` (the worker imports it too).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { UserError } from '../../core/stage/errors.ts';

export type CaseOutcome =
  | { kind: 'ok'; note?: string }
  /** a UserError (or a per-line `error` field) with its message */
  | { kind: 'user-error'; message: string }
  /** anything else escaping: RangeError, TypeError, a non-Error throw… — always a bug */
  | { kind: 'crash'; message: string };

export interface CaseResult {
  index: number;
  outcome: CaseOutcome;
}

interface WorkerInput {
  watchdogModule: string; // URL of the case module
  indices: number[];
  data: unknown;
}

type WorkerMessage = { index: number; outcome: CaseOutcome } | { done: true };

/** Wraps a case body: UserError → 'user-error', other throws → 'crash' with the stack's first lines. */
export async function classify(body: () => Promise<string | void> | string | void): Promise<CaseOutcome> {
  try {
    const note = await body();
    return note === undefined ? { kind: 'ok' } : { kind: 'ok', note };
  } catch (e) {
    if (e instanceof UserError) return { kind: 'user-error', message: e.message };
    const stack = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
    return { kind: 'crash', message: stack.split('\n').slice(0, 6).join('\n') };
  }
}

/**
 * Runs cases `0..count-1` of `caseModule` in a worker. Resolves with every result, or rejects naming
 * the case that exceeded `caseTimeoutMs` (the worker is terminated) or killed the worker.
 */
export async function runCasesWithWatchdog(caseModule: string, count: number, data: unknown, caseTimeoutMs: number): Promise<CaseResult[]> {
  // Workers do not inherit tsx's loader; register it first, then import the case module.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot =
    `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); ` +
    `return import(${JSON.stringify(import.meta.url)}); }).then((w) => w.serveCases());`;
  const input: WorkerInput = { watchdogModule: caseModule, indices: Array.from({ length: count }, (_, i) => i), data };
  const worker = new Worker(boot, { eval: true, workerData: input });
  const results: CaseResult[] = [];
  try {
    return await new Promise<CaseResult[]>((resolve, reject) => {
      let timer: NodeJS.Timeout;
      const arm = (): void => {
        clearTimeout(timer);
        const next = results.length;
        timer = setTimeout(() => reject(new Error(`case ${next} did not finish within ${caseTimeoutMs} ms (hang?)`)), caseTimeoutMs);
      };
      arm();
      worker.on('message', (m: WorkerMessage) => {
        if ('done' in m) {
          clearTimeout(timer);
          resolve(results);
          return;
        }
        results.push(m);
        arm();
      });
      worker.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`worker died at case ${results.length}: ${e instanceof Error ? e.message : String(e)}`));
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`worker exited (code ${code}) at case ${results.length}`));
      });
    });
  } finally {
    await worker.terminate();
  }
}

/** Outcome tally for the test log, e.g. "ok 140, user-error 60". */
export function tallyOutcomes(results: readonly CaseResult[]): string {
  const n = new Map<string, number>();
  for (const r of results) n.set(r.outcome.kind, (n.get(r.outcome.kind) ?? 0) + 1);
  return [...n].map(([k, v]) => `${k} ${v}`).join(', ');
}

/** Worker side: imports the case module and runs its cases in order, one message per case. */
export async function serveCases(): Promise<void> {
  if (isMainThread || parentPort === null) throw new Error('serveCases runs only in a worker');
  const { watchdogModule, indices, data } = workerData as WorkerInput;
  const mod = (await import(watchdogModule)) as { runFuzzCase: (index: number, data: unknown) => Promise<CaseOutcome> };
  for (const index of indices) {
    // runFuzzCase classifies its own throws; anything escaping it is a crash of the harness or reader
    const outcome = await mod.runFuzzCase(index, data).catch((e: unknown) => classify(() => Promise.reject(e)));
    parentPort.postMessage({ index, outcome } satisfies WorkerMessage);
  }
  parentPort.postMessage({ done: true } satisfies WorkerMessage);
}
