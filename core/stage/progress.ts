// Throttled one-line progress on stderr: at most one line every `intervalMs`, the first one interval after
// the start (short work prints its summary only), plus a summary.
export class Progress {
  private readonly start = Date.now();
  private last = this.start;

  constructor(
    private readonly stage: string,
    private readonly intervalMs = 3000,
    private readonly write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  ) {}

  /** Calls `describe` and prints its line only when the interval has passed. */
  tick(describe: () => string): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.write(`[${this.stage}] ${describe()} (${((now - this.start) / 1000).toFixed(0)}s)`);
  }

  elapsedSeconds(): number {
    return (Date.now() - this.start) / 1000;
  }

  /** The one summary line at the end of a stage. */
  done(summary: string): void {
    this.write(`[${this.stage}] ${summary} in ${this.elapsedSeconds().toFixed(1)}s`);
  }
}
