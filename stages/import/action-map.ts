// --action-map: how a row's cells become an action type (0 exposure, 1 click, 2 conversion) or are
// dropped. Rules are tried in order, the first that matches wins:
//   rating>=4:1,else:0      a comparison on a named column (>=, >, <=, <, =, ==, !=)
//   >=4:1                   the same on the action column (--action or a recognised spelling)
//   view:0,click:1,buy:2    a bare value: equality with the action column
//   else:drop               `else` matches every row; `drop` leaves the row out
// Numbers compare as numbers, anything else as exact text (only = and != for text).
import { UserError } from '../../core/stage/errors.ts';

export type ActionValue = 0 | 1 | 2 | 'drop';
type Op = '>=' | '>' | '<=' | '<' | '=' | '!=';

interface Rule {
  text: string;
  column: string | null; // null = the action column; ignored for `else`
  op: Op | 'else';
  literal: string;
  value: ActionValue;
}

export interface ActionMap {
  rules: Rule[];
}

const COMPARISON = /^\s*([^<>=!]*?)\s*(>=|<=|!=|==|=|>|<)\s*(.*?)\s*$/;
const isNumber = (s: string): boolean => s.trim() !== '' && Number.isFinite(Number(s));

export function parseActionMap(spec: string): ActionMap {
  const rules = spec.split(',').map((text): Rule => {
    const colon = text.lastIndexOf(':');
    if (colon < 0) throw new UserError(`--action-map: rule ${JSON.stringify(text)} has no ':VALUE' (e.g. rating>=4:1)`);
    const cond = text.slice(0, colon).trim();
    const valueText = text.slice(colon + 1).trim();
    const value = valueText === 'drop' ? 'drop' : (['0', '1', '2'].includes(valueText) ? Number(valueText) : null) as ActionValue | null;
    if (value === null) throw new UserError(`--action-map: rule ${JSON.stringify(text)}: value must be 0, 1, 2 or drop, got ${JSON.stringify(valueText)}`);
    if (cond === 'else') return { text, column: null, op: 'else', literal: '', value };
    const m = COMPARISON.exec(cond);
    if (!m) {
      if (cond === '') throw new UserError(`--action-map: rule ${JSON.stringify(text)} has an empty condition`);
      return { text, column: null, op: '=', literal: cond, value };
    }
    const op = (m[2] === '==' ? '=' : m[2]) as Op;
    const literal = m[3]!;
    if (literal === '') throw new UserError(`--action-map: rule ${JSON.stringify(text)} compares with nothing`);
    if (op !== '=' && op !== '!=' && !isNumber(literal)) {
      throw new UserError(`--action-map: rule ${JSON.stringify(text)}: ${op} needs a number, got ${JSON.stringify(literal)}`);
    }
    return { text, column: m[1] === '' ? null : m[1]!, op, literal, value };
  });
  return { rules };
}

/** Column names the rules read (null = the action column). */
export function columnsRead(map: ActionMap): (string | null)[] {
  return [...new Set(map.rules.filter((r) => r.op !== 'else').map((r) => r.column))];
}

/** The action for one row; `cell(column)` reads a cell, null = the action column. Null: no rule matched. */
export function mapAction(map: ActionMap, cell: (column: string | null) => string): ActionValue | null {
  for (const r of map.rules) {
    if (r.op === 'else' || matches(r, cell(r.column))) return r.value;
  }
  return null;
}

function matches(r: Rule, text: string): boolean {
  const v = text.trim();
  if (isNumber(r.literal) && isNumber(v)) {
    const a = Number(v);
    const b = Number(r.literal);
    switch (r.op) {
      case '>=': return a >= b;
      case '>': return a > b;
      case '<=': return a <= b;
      case '<': return a < b;
      case '=': return a === b;
      case '!=': return a !== b;
      case 'else': return true;
      default: {
        const never: never = r.op;
        return never;
      }
    }
  }
  if (r.op === '=') return v === r.literal;
  if (r.op === '!=') return v !== r.literal;
  return false; // a number comparison on a cell that is not a number
}
