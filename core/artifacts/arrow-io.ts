// Arrow IPC and Parquet I/O over typed arrays. Tables are built zero-copy from typed arrays
// (builders and row objects are 5–50× slower); Parquet copies go through parquet-wasm (ZSTD,
// dictionary off: most columns are high-cardinality ids).
import { readFileSync } from 'node:fs';
import {
  Field, FixedSizeList, Float32, Int32, List, Table, makeData, makeVector, tableFromIPC, tableToIPC, Vector,
  type Data, type DataType,
} from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { writeFileAtomic } from '../stage/atomic.ts';

export type TypedArray = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | Float32Array | Float64Array;
import { UserError } from '../stage/errors.ts';

/** A column as typed arrays: flat values, lists (offsets + values), or fixed-size float vectors. */
export type ColumnData =
  | { kind: 'flat'; values: TypedArray }
  | { kind: 'list'; offsets: Int32Array; values: Int32Array }
  | { kind: 'vector'; dim: number; values: Float32Array };

export function flat(values: TypedArray): ColumnData {
  return { kind: 'flat', values };
}

function toData(col: ColumnData): Data<DataType> {
  switch (col.kind) {
    case 'flat':
      return makeVector(col.values).data[0]!;
    case 'list': {
      const child = makeData({ type: new Int32(), data: col.values });
      const type = new List(new Field('item', new Int32(), false));
      return makeData({ type, length: col.offsets.length - 1, nullCount: 0, valueOffsets: col.offsets, child });
    }
    case 'vector': {
      const child = makeData({ type: new Float32(), data: col.values });
      const type = new FixedSizeList(col.dim, new Field('item', new Float32(), false));
      return makeData({ type, length: col.values.length / col.dim, nullCount: 0, child });
    }
    default: {
      const never: never = col;
      return never;
    }
  }
}

/** Builds an Arrow table from named columns (insertion order = column order). */
export function makeTable(columns: Record<string, ColumnData>): Table {
  const vectors: Record<string, Vector> = {};
  // Two columns sharing one typed array produce an IPC file apache-arrow cannot read back
  // ("Expected to read N bytes for message body"), so a repeated array is copied.
  const seen = new Set<ArrayBufferLike>();
  for (const [name, col] of Object.entries(columns)) {
    const buffer = col.values.buffer;
    const own = seen.has(buffer) ? { ...col, values: col.values.slice() } as ColumnData : col;
    seen.add(buffer);
    vectors[name] = new Vector([toData(own)]);
  }
  return new Table(vectors);
}

export function writeArrowFile(path: string, table: Table): void {
  writeFileAtomic(path, tableToIPC(table, 'file'));
}

export function readArrowFile(path: string): Table {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new UserError(`${path}: not found`);
  }
  try {
    return tableFromIPC(bytes);
  } catch (e) {
    throw new UserError(`${path}: not a valid Arrow IPC file (${(e as Error).message})`);
  }
}

/** Writes a ZSTD Parquet copy of `table` for other tools (pyarrow, DuckDB, Spark). */
export function writeParquetFile(path: string, table: Table): void {
  const wasmTable = WasmTable.fromIPCStream(tableToIPC(table, 'stream'));
  const props = new WriterPropertiesBuilder()
    .setCompression(Compression.ZSTD)
    .setDictionaryEnabled(false)
    .setCreatedBy('hstu-taac-pipeline')
    .build();
  writeFileAtomic(path, writeParquet(wasmTable, props));
}

/** The values of a flat column as one typed array (copies only when the table has several batches). */
export function columnValues<T extends TypedArray>(table: Table, name: string): T {
  const child = table.getChild(name);
  if (!child) throw new UserError(`missing column '${name}' (have: ${table.schema.fields.map((f) => f.name).join(', ')})`);
  if (child.data.length === 1) {
    // IPC buffers are padded to 8 bytes: cut the view to the column's own rows.
    const d = child.data[0]!;
    return (d.values as T).subarray(d.offset, d.offset + d.length) as T;
  }
  return child.toArray() as T;
}

/** A list<int32> column as offsets + values (single-batch tables, as this project writes). */
export function listColumn(table: Table, name: string): { offsets: Int32Array; values: Int32Array } {
  const child = table.getChild(name);
  if (!child) throw new UserError(`missing column '${name}'`);
  if (child.data.length !== 1) throw new UserError(`column '${name}': expected one record batch`);
  const d = child.data[0]!;
  const offsets = (d.valueOffsets as Int32Array).subarray(d.offset, d.offset + d.length + 1);
  const c = d.children[0]!;
  return { offsets, values: (c.values as Int32Array).subarray(c.offset, c.offset + offsets[offsets.length - 1]!) };
}

/** A fixed-size-list<float32> column as a flat Float32Array of length rows × dim. */
export function vectorColumn(table: Table, name: string): { dim: number; values: Float32Array } {
  const child = table.getChild(name);
  if (!child) throw new UserError(`missing column '${name}'`);
  if (child.data.length !== 1) throw new UserError(`column '${name}': expected one record batch`);
  const d = child.data[0]!;
  const dim = (d.type as FixedSizeList).listSize;
  return { dim, values: (d.children[0]!.values as Float32Array).subarray(d.offset * dim, (d.offset + d.length) * dim) };
}
