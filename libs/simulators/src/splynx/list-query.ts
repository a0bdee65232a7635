/**
 * A Splynx list query as PHP's `http_build_query` writes it (../shared/reference/upstream-apis.md section 1):
 * `main_attributes[f]=v` (meaning `=`), `main_attributes[f][0]=<op>&main_attributes[f][1]=v` (`[2]` the upper bound of
 * BETWEEN, `[1][0]=a&[1][1]=b` the list of IN), every filter ANDed; `order[id]`, `limit`, `offset`.
 */

export const OPERATORS = ['=', '!=', '<>', '>', '>=', '<', '<=', 'BETWEEN', 'IN', 'LIKE'] as const;
export type Operator = (typeof OPERATORS)[number];
/** Documented Splynx operators the simulator does not evaluate: a 400 that says so, rather than a guess. */
const UNSUPPORTED = ['IS', 'REGEXP', 'FIND_IN_SET'];

export interface Condition {
  field: string;
  op: Operator;
  operands: string[];
}

export interface ListQuery {
  conditions: Condition[];
  descending: boolean;
  /** null: no limit. */
  limit: number | null;
  offset: number;
}

/** The query cannot be answered as asked: the simulator answers 400 BAD_REQUEST with this message. */
export class BadListQuery extends Error {}

const MAIN_ATTRIBUTE = /^main_attributes\[([^[\]]+)\]((?:\[[^[\]]*\])*)$/;

export function parseListQuery(query: URLSearchParams): ListQuery {
  const byField = new Map<string, Array<[path: string, value: string]>>();
  let descending = false;
  for (const [key, value] of query) {
    if (key.startsWith('main_attributes')) {
      const m = MAIN_ATTRIBUTE.exec(key);
      if (!m) throw new BadListQuery(`Malformed filter parameter ${key}`);
      byField.set(m[1], [...(byField.get(m[1]) ?? []), [m[2], value]]);
    } else if (key.startsWith('additional_attributes')) {
      // Ignoring a filter would answer the wrong records; saying so is the honest answer.
      throw new BadListQuery('additional_attributes filters are not supported by the simulator');
    } else if (key.startsWith('order')) {
      if (key !== 'order[id]') throw new BadListQuery(`The simulator orders by id only, not ${key}`);
      const direction = value.toUpperCase();
      if (direction !== 'ASC' && direction !== 'DESC')
        throw new BadListQuery(`Order must be ASC or DESC, not ${value}`);
      descending = direction === 'DESC';
    }
  }
  return {
    conditions: [...byField].map(([field, parts]) => conditionOf(field, parts)),
    descending,
    limit: query.has('limit') ? Math.max(0, Number(query.get('limit')) || 0) : null,
    offset: Math.max(0, Number(query.get('offset') ?? 0) || 0),
  };
}

/** One field's parameters, e.g. `[['[0]', '>='], ['[1]', '2024-01-01 00:00:00']]`, as a condition. */
function conditionOf(field: string, parts: Array<[string, string]>): Condition {
  const name = `main_attributes[${field}]`;
  const scalar = parts.filter(([path]) => path === '');
  if (scalar.length) {
    if (scalar.length !== parts.length) throw new BadListQuery(`${name} is both a value and an operator form`);
    return { field, op: '=', operands: [scalar[scalar.length - 1][1]] };
  }
  const value = (path: string) => parts.find(([p]) => p === path)?.[1];
  const raw = value('[0]');
  if (raw === undefined) throw new BadListQuery(`${name} has no operator in [0]`);
  const op = OPERATORS.find((o) => o === raw.trim().toUpperCase());
  if (UNSUPPORTED.includes(raw.trim().toUpperCase()))
    throw new BadListQuery(`Operator ${raw.trim().toUpperCase()} in ${name} is not supported by the simulator`);
  if (!op) throw new BadListQuery(`Unknown operator "${raw}" in ${name}`);
  const stray = parts.find(([path]) => !/^\[[012]\]$|^\[1\]\[\d*\]$/.test(path));
  if (stray) throw new BadListQuery(`Unexpected parameter ${name}${stray[0]}`);
  if (op === 'IN') {
    const list = parts.filter(([path]) => path.startsWith('[1][')).map(([, v]) => v);
    const single = value('[1]');
    const operands = list.length ? list : single !== undefined ? [single] : [];
    if (!operands.length) throw new BadListQuery(`${name} IN needs a list in [1]`);
    return { field, op, operands };
  }
  const first = value('[1]');
  if (first === undefined) throw new BadListQuery(`${name} ${op} needs a value in [1]`);
  if (op !== 'BETWEEN') return { field, op, operands: [first] };
  const second = value('[2]');
  if (second === undefined) throw new BadListQuery(`${name} BETWEEN needs an upper bound in [2]`);
  return { field, op, operands: [first, second] };
}

/**
 * How a condition reads a field of customer `id`. `read` answers a number where the field compares as one (id and
 * the dates as wall seconds) and text otherwise; `parse` turns an operand into the same kind, or throws BadListQuery;
 * `text` is the field as the record shows it, for LIKE.
 */
export interface FieldReader {
  read(id: number): number | string;
  parse(operand: string): number | string;
  text(id: number): string;
}

/** Numbers compare as numbers; text that is numeric on both sides too (partner_id '10' > '9'), else as strings. */
function compare(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = Number(a);
  const y = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** SQL LIKE: `%` any run, `_` one character, case-insensitive as MySQL's default collations. */
function likePattern(pattern: string): RegExp {
  const body = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  return new RegExp(`^${body}$`, 'is');
}

export function compileCondition(c: Condition, field: FieldReader): (id: number) => boolean {
  if (c.op === 'LIKE') {
    const pattern = likePattern(c.operands[0]);
    return (id) => pattern.test(field.text(id));
  }
  const [a, b] = c.operands.map((operand) => field.parse(operand));
  switch (c.op) {
    case '=':
      return (id) => compare(field.read(id), a) === 0;
    case '!=':
    case '<>':
      return (id) => compare(field.read(id), a) !== 0;
    case '>':
      return (id) => compare(field.read(id), a) > 0;
    case '>=':
      return (id) => compare(field.read(id), a) >= 0;
    case '<':
      return (id) => compare(field.read(id), a) < 0;
    case '<=':
      return (id) => compare(field.read(id), a) <= 0;
    case 'BETWEEN':
      return (id) => {
        const v = field.read(id);
        return compare(v, a) >= 0 && compare(v, b) <= 0;
      };
    case 'IN': {
      const list = c.operands.map((operand) => field.parse(operand));
      return (id) => {
        const v = field.read(id);
        return list.some((item) => compare(v, item) === 0);
      };
    }
  }
}
