// JSON Lines reader: one JSON value per '\n'-terminated line, with exact byte offsets, so callers
// can check seq_offsets.pkl (byte offsets of line starts) and report `file:line: …` errors.
//
// Conventions (identical for the file and the in-memory reader):
// - line numbers are 1-based; `offset` is the byte offset of the line start counted from the
//   file's first byte, so with a UTF-8 BOM (skipped) line 1 starts at offset 3;
// - a trailing '\r' is stripped (CRLF files); a final line without '\n' is still yielded, and a
//   file ending in '\n' has no extra empty line after it;
// - a bad line is yielded with `error` (never thrown): 'empty line', 'invalid UTF-8', or
//   JSON.parse's message. Only I/O failures throw (UserError).
import { open, type FileHandle } from 'node:fs/promises';
import { UserError } from '../stage/errors.ts';

export interface JsonLine {
  line: number; // 1-based
  offset: number; // byte offset of the line start
  value?: unknown;
  error?: string;
}

export interface ReadJsonLinesOptions {
  /** Bytes per fs read (default 4 MiB). A line longer than this grows the buffer. */
  chunkBytes?: number;
}

const DEFAULT_CHUNK_BYTES = 4 << 20;
const LF = 0x0a;
const CR = 0x0d;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function hasBom(b: Uint8Array, end: number): boolean {
  return end >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
}

/** Decodes bytes [start, end) (without the '\n') as one JSON line. */
function decodeLine(b: Uint8Array, start: number, end: number, line: number, offset: number): JsonLine {
  if (end > start && b[end - 1] === CR) end--;
  if (end === start) return { line, offset, error: 'empty line' };
  let text: string;
  try {
    text = utf8.decode(b.subarray(start, end));
  } catch {
    return { line, offset, error: 'invalid UTF-8' };
  }
  try {
    return { line, offset, value: JSON.parse(text) };
  } catch (e) {
    // JSON.parse quotes the input near the fault; escape control bytes (a lone '\r', NUL…) so
    // the error stays one printable line
    return { line, offset, error: (e as Error).message.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`) };
  }
}

/** The lines of an in-memory JSONL buffer. */
export function* parseJsonLines(bytes: Uint8Array): Generator<JsonLine> {
  let start = hasBom(bytes, bytes.length) ? 3 : 0;
  let line = 1;
  while (start < bytes.length) {
    let nl = bytes.indexOf(LF, start);
    if (nl < 0) nl = bytes.length;
    yield decodeLine(bytes, start, nl, line++, start);
    start = nl + 1;
  }
}

/**
 * The lines of a JSONL file, read in chunks. Lines may span chunks; only complete lines are
 * decoded, so multi-byte characters split across reads are never seen half.
 */
export async function* readJsonLines(file: string, opts: ReadJsonLinesOptions = {}): AsyncGenerator<JsonLine> {
  const chunkBytes = Math.max(1, Math.floor(opts.chunkBytes ?? DEFAULT_CHUNK_BYTES));
  const fh = await openOrThrow(file);
  try {
    let buf = new Uint8Array(chunkBytes);
    let base = 0; // file offset of buf[0]
    let start = 0; // start of the current (incomplete) line in buf
    let filled = 0; // bytes of buf holding data
    let scanned = 0; // no '\n' in buf[start, scanned)
    let line = 1;
    let bomChecked = false;
    for (;;) {
      if (filled === buf.length) {
        // Keep only the unfinished line; grow when it alone fills the buffer.
        if (start > 0) {
          buf.copyWithin(0, start, filled);
          base += start;
          filled -= start;
          scanned -= start;
          start = 0;
        }
        if (filled === buf.length) {
          const grown = new Uint8Array(buf.length * 2);
          grown.set(buf);
          buf = grown;
        }
      }
      const got = await readOrThrow(fh, file, buf, filled, Math.min(chunkBytes, buf.length - filled));
      filled += got;
      const eof = got === 0;
      if (!bomChecked) {
        if (filled < 3 && !eof) continue;
        if (hasBom(buf, filled)) start = scanned = 3;
        bomChecked = true;
      }
      const data = buf.subarray(0, filled);
      for (;;) {
        const nl = data.indexOf(LF, scanned);
        if (nl < 0) break;
        yield decodeLine(buf, start, nl, line++, base + start);
        start = scanned = nl + 1;
      }
      scanned = filled;
      if (eof) {
        if (start < filled) yield decodeLine(buf, start, filled, line, base + start);
        return;
      }
    }
  } finally {
    await fh.close();
  }
}

async function openOrThrow(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r');
  } catch (e) {
    throw ioError(file, e);
  }
}

async function readOrThrow(fh: FileHandle, file: string, buf: Uint8Array, at: number, n: number): Promise<number> {
  try {
    return (await fh.read(buf, at, n, null)).bytesRead;
  } catch (e) {
    throw ioError(file, e);
  }
}

function ioError(file: string, e: unknown): UserError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UserError(`${file}: not found`);
  if (code === 'EISDIR') return new UserError(`${file}: is a directory`);
  return new UserError(`${file}: cannot read (${code ?? String(e)})`);
}
