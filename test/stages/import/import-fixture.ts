// Shared by the import tests: write small input files into a temp folder and import them in-process
// (writeDirAtomic + importInteractions, exactly what stages/import/main.ts does). Not a test file itself.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDirAtomic } from '../../../core/stage/atomic.ts';
import { importInteractions, type ImportOptions, type ImportSummary } from '../../../stages/import/import.ts';

export function tempDir(prefix = 'import-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `files` ({name: text}) into a fresh temp folder and returns it. */
export function inputFolder(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

export async function runImport(input: string, outDir: string, opts: Partial<ImportOptions> = {}): Promise<ImportSummary> {
  const full: ImportOptions = { roles: {}, actionMap: null, ...opts };
  return writeDirAtomic(outDir, (tmp) => importInteractions(input, tmp, full));
}
