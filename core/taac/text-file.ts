// Plain file output for the writers of raw folders (synth, import): a buffered append-only text file
// that counts the bytes it has written, so line offsets (seq_offsets.pkl) can be recorded while it
// streams, and a one-shot byte file (the pickles).
import { closeSync, openSync, writeSync } from 'node:fs';

export class TextFile {
  private readonly fd: number;
  private pending: string[] = [];
  private pendingChars = 0;
  /** UTF-8 bytes written so far (the file offset of the next write) */
  bytes = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  write(text: string): void {
    this.pending.push(text);
    this.pendingChars += text.length;
    this.bytes += Buffer.byteLength(text);
    if (this.pendingChars >= 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.pendingChars > 0) writeSync(this.fd, this.pending.join(''));
    this.pending = [];
    this.pendingChars = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Writes `bytes` to `path` in one call (the caller makes the folder atomic). */
export function writeBytes(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'w');
  writeSync(fd, bytes);
  closeSync(fd);
}
