// Writes the negatives folder (layout in core/artifacts/artifacts.ts) into `dir`; bytes depend only on the inputs.
import { writeFileSync } from 'node:fs';
import { flat, makeTable, writeArrowFile, writeParquetFile } from '../../core/artifacts/arrow-io.ts';
import { negativePoolsParquetPath, negativePoolsPath, negativesManifestPath, type NegativesManifest } from '../../core/artifacts/artifacts.ts';
import { stableJson } from '../../core/stage/atomic.ts';
import type { Pools } from './buckets.ts';

export function writeNegatives(dir: string, pools: Pools, manifest: NegativesManifest): void {
  const table = makeTable({ item: flat(pools.item), bucket: flat(pools.bucket), exposures: flat(pools.exposures) });
  writeArrowFile(negativePoolsPath(dir), table);
  writeParquetFile(negativePoolsParquetPath(dir), table);
  // the folder as a whole is renamed into place by writeDirAtomic, so plain writes suffice here
  writeFileSync(negativesManifestPath(dir), stableJson(manifest));
}
