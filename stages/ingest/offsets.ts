// seq_offsets.pkl cross-check (SPEC §3): a list of byte offsets by LINE index. When the file is
// present, its length must equal seq.jsonl's line count and offset[k] must be where line k starts;
// otherwise readers that seek by offset would read the wrong user. Checked while streaming.
import { existsSync, readFileSync } from 'node:fs';
import { readPickle } from '../../core/taac/pickle/read.ts';
import { inputError } from '../../core/stage/errors.ts';

/** Reads seq_offsets.pkl as numbers, or null when the file is absent (it is optional). */
export function readOffsets(file: string): Float64Array | null {
  if (!existsSync(file)) return null;
  const v = readPickle(readFileSync(file), file);
  if (!Array.isArray(v)) throw inputError(file, null, 'expected a list of byte offsets');
  const out = new Float64Array(v.length);
  for (let k = 0; k < v.length; k++) {
    const x = v[k];
    if ((typeof x !== 'number' && typeof x !== 'bigint') || x < 0) throw inputError(file, null, `offset[${k}] must be an int >= 0, got ${String(x)}`);
    out[k] = Number(x);
  }
  return out;
}

/** Compares the offsets list against line starts as they stream by; reports the first mismatch. */
export class OffsetCheck {
  private firstBad: string | null = null;
  private lines = 0;

  constructor(
    private readonly offsets: Float64Array,
    private readonly file: string,
    private readonly seqFile: string,
  ) {}

  /** Line `index` (0-based) of seq.jsonl starts at byte `start`. */
  see(index: number, start: number): void {
    this.lines = index + 1;
    if (this.firstBad !== null || index >= this.offsets.length) return;
    // Python's f.tell() counts a UTF-8 BOM as part of line 0, which readJsonLines skips (start 3)
    const ok = this.offsets[index] === start || (index === 0 && this.offsets[0] === 0);
    if (!ok) {
      this.firstBad = `offset[${index}] = ${this.offsets[index]} but line ${index + 1} of ${this.seqFile} starts at byte ${start}`;
    }
  }

  /** Throws naming the first bad index, or the length mismatch. */
  finish(): void {
    if (this.offsets.length !== this.lines) {
      const at = Math.min(this.offsets.length, this.lines);
      throw inputError(this.file, null, `${this.offsets.length} offsets but ${this.seqFile} has ${this.lines} lines (first unmatched index ${at})${this.firstBad ? `; also ${this.firstBad}` : ''}`);
    }
    if (this.firstBad !== null) throw inputError(this.file, null, this.firstBad);
  }
}
