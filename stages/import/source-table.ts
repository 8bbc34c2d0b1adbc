// One interface over the tabular inputs import reads: CSV / TSV (header row), RecBole atomic files
// (tab-separated, `name:type` header) and Parquet. Rows come as text cells in file order, each with the
// number errors name: the line for text files, the 1-based row for Parquet.
import { readFileSync } from 'node:fs';
import { DataType, tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { inputError } from '../../core/stage/errors.ts';
import { parseHeader, type Column } from './columns.ts';
import { firstLineOf, readDelimited, sniffDelimiter } from './delimited.ts';

export interface SourceRow {
  line: number;
  cells: string[];
}

export interface SourceTable {
  file: string;
  format: 'csv' | 'tsv' | 'recbole' | 'parquet';
  columns: Column[];
  /** the header's line (text files) or 0 (Parquet: the schema) */
  headerLine: number;
  rows(): Iterable<SourceRow>;
}

export function isParquet(file: string): boolean {
  return /\.parquet$/i.test(file);
}

/** Opens `file` by its kind; `delimiter` overrides sniffing for text files. */
export function openSourceTable(file: string, delimiter?: string): SourceTable {
  return isParquet(file) ? openParquet(file) : openDelimited(file, delimiter);
}

function openDelimited(file: string, delimiterFlag?: string): SourceTable {
  const delimiter = delimiterFlag ?? sniffDelimiter(file, firstLineOf(file));
  const rows = readDelimited(file, delimiter);
  const first = rows.next();
  if (first.done) throw inputError(file, null, 'empty file (no header row)');
  const header = first.value;
  const columns = parseHeader(file, header.line, header.fields);
  const format = columns.some((c) => c.type !== null) ? 'recbole' : delimiter === '\t' ? 'tsv' : 'csv';
  const width = columns.length;
  let started = false;
  return {
    file,
    format,
    columns,
    headerLine: header.line,
    *rows() {
      if (started) throw new Error(`${file}: rows() can be read once`);
      started = true;
      for (const { line, fields } of rows) {
        if (fields.length !== width) {
          const hint = width === 1 && format === 'csv' ? ' (wrong delimiter? give --delimiter)' : '';
          throw inputError(file, line, `${fields.length} field(s), but the header has ${width}${hint}`);
        }
        yield { line, cells: fields };
      }
    },
  };
}

function openParquet(file: string): SourceTable {
  let table;
  try {
    table = tableFromIPC(readParquet(new Uint8Array(readFileSync(file))).intoIPCStream());
  } catch (e) {
    throw inputError(file, null, `not a readable Parquet file (${e instanceof Error ? e.message : String(e)})`);
  }
  const columns = parseHeader(file, 0, table.schema.fields.map((f) => f.name));
  const getters = table.schema.fields.map((f) => {
    const v = table.getChild(f.name)!;
    // apache-arrow returns timestamps and dates as epoch milliseconds, whatever the stored unit
    const isTime = DataType.isTimestamp(f.type) || DataType.isDate(f.type);
    return (r: number): string => {
      const x: unknown = v.get(r);
      if (x === null || x === undefined) return '';
      if (isTime) return String(Math.floor(Number(x) / 1000));
      return typeof x === 'string' ? x : String(x);
    };
  });
  return {
    file,
    format: 'parquet',
    columns,
    headerLine: 0,
    *rows() {
      for (let r = 0; r < table.numRows; r++) yield { line: r + 1, cells: getters.map((g) => g(r)) };
    },
  };
}
