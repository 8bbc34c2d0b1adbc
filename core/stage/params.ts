// Typed params: params.yaml (or --params FILE) is read whole and every key checked against
// PARAM_TYPES; an unknown key, a missing key or a wrong type is an error naming the key.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { UserError } from './errors.ts';
import { PARAM_TYPES, type ParamKey, type Params, type ParamType } from './params-schema.ts';

export type { ParamKey, Params };

/** `v` as a value of `key`'s type; `source` names where it came from in the error (params, a config.json, argv). */
function checkValue(key: string, type: ParamType, v: unknown, source = 'params'): unknown {
  const bad = (want: string): never => {
    throw new UserError(`${source}: '${key}' must be ${want}, got ${JSON.stringify(v)}`);
  };
  const inRange = (n: number, t: { min?: number; max?: number }): void => {
    if (t.min !== undefined && n < t.min) bad(`>= ${t.min}`);
    if (t.max !== undefined && n > t.max) bad(`<= ${t.max}`);
  };
  switch (type.kind) {
    case 'int':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) bad('an integer');
      inRange(v as number, type);
      return v;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) bad('a number');
      inRange(v as number, type);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') bad('true or false');
      return v;
    case 'string':
      if (v === null) return '';
      if (typeof v !== 'string') bad('a string');
      return v;
    case 'enum':
      if (typeof v !== 'string' || !type.values.includes(v)) bad(`one of ${type.values.join(' | ')}`);
      return v;
    case 'int[]':
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isSafeInteger(x))) bad('a list of integers');
      return v;
    case 'number[]':
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) bad('a list of numbers');
      return v;
    case 'string[]':
      if (!Array.isArray(v)) bad('a list of strings');
      // YAML reads [81] as numbers; feature ids are strings in the data, so accept both.
      return (v as unknown[]).map((x) => (typeof x === 'number' && Number.isSafeInteger(x) ? String(x) : typeof x === 'string' ? x : bad('a list of strings')));
    default: {
      const never: never = type;
      return never;
    }
  }
}

/**
 * One value parsed as params.yaml's `key` is — the same check, the same typed result — for a knob that
 * arrives another way: a choice saved in a model's config.json, a backend named on a bench's command line.
 */
export function parseParam<K extends ParamKey>(key: K, value: unknown, source: string): Params[K] {
  return checkValue(key, PARAM_TYPES[key], value, source) as Params[K];
}

/** Validates a parsed params object: every key known, every known key present and well-typed. */
export function validateParams(raw: unknown, source: string): Params {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${source}: expected a mapping of params`);
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(key in PARAM_TYPES)) throw new UserError(`${source}: unknown param '${key}'`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, type] of Object.entries(PARAM_TYPES) as [string, ParamType][]) {
    if (!(key in obj)) throw new UserError(`${source}: missing param '${key}'`);
    out[key] = checkValue(key, type, obj[key]);
  }
  return out as Params;
}

/** Reads and validates the params file; returns only the keys a stage declared it reads. */
export function loadParams<K extends ParamKey>(keys: readonly K[], file = paramsFileFromArgv()): Pick<Params, K> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`params file not found: ${file}`);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new UserError(`${file}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const all = validateParams(raw, file);
  const picked = {} as Pick<Params, K>;
  for (const k of keys) picked[k] = all[k];
  return picked;
}

function paramsFileFromArgv(): string {
  const i = process.argv.indexOf('--params');
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : 'params.yaml';
}
