// Python `json.dumps` bytes (", " and ": " separators, insertion-ordered keys) for the shapes synth
// writes. JSON.stringify cannot do this: it drops the spaces and moves integer-like keys ("112")
// to the front in numeric order, while the real files keep Python's insertion order.

/** A JSON value whose objects are ordered key/value lists, so key order is what was written. */
export type PyJson = null | number | string | PyJson[] | PyObject;
export class PyObject {
  constructor(readonly entries: readonly (readonly [string, PyJson])[]) {}
}

/** Serialises like Python's json.dumps with default separators (ASCII-only strings assumed). */
export function dumpsPy(v: PyJson): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(dumpsPy).join(', ') + ']';
  return '{' + v.entries.map(([k, x]) => JSON.stringify(k) + ': ' + dumpsPy(x)).join(', ') + '}';
}

function formatNumber(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`not JSON: ${x}`);
  return String(x);
}

/** A float rounded to 6 significant digits and printed in its shortest form: fixed bytes per value. */
export function formatFloat(x: number): string {
  const r = Number(x.toPrecision(6));
  return String(r === 0 ? 0 : r);
}
