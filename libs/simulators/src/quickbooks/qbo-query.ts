import { QBO_NAME_LISTS, QboEntity, QboEntityName, QboFault, entityName, text } from './qbo-model';

type Literal = string | number | boolean;
type Operator = '=' | '<' | '>' | '<=' | '>=' | 'IN' | 'LIKE';

export interface QboCondition {
  field: string;
  op: Operator;
  values: Literal[];
}

export interface QboQuery {
  entity: QboEntityName;
  count: boolean;
  /** Selected fields, or null for `*`. */
  fields: string[] | null;
  where: QboCondition[];
  orderBy: Array<{ field: string; desc: boolean }>;
  /** 1-based. */
  startPosition: number;
  maxResults: number;
}

/** Intuit's page size when a query names none, and the most one page may hold. */
export const QBO_DEFAULT_MAX_RESULTS = 100;
export const QBO_MAX_RESULTS = 1000;

type Token = { kind: 'word' | 'string' | 'number' | 'symbol'; text: string; value?: Literal; at: number };

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === "'") {
      let text = '';
      i++;
      for (;;) {
        if (i >= sql.length)
          throw QboFault.queryParser(`Lexical error: unterminated string starting at column ${at + 1}.`);
        const ch = sql[i];
        if (ch === '\\' && i + 1 < sql.length) {
          text += sql[i + 1];
          i += 2;
        } else if (ch === "'") {
          i++;
          break;
        } else {
          text += ch;
          i++;
        }
      }
      tokens.push({ kind: 'string', text, value: text, at });
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const m = /^-?\d+(\.\d+)?/.exec(sql.slice(i));
      if (!m) throw QboFault.queryParser(`Lexical error at column ${at + 1}.`);
      tokens.push({ kind: 'number', text: m[0], value: Number(m[0]), at });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(sql.slice(i))!;
      tokens.push({ kind: 'word', text: m[0], at });
      i += m[0].length;
    } else {
      const two = sql.slice(i, i + 2);
      const symbol = ['<=', '>='].includes(two) ? two : c;
      if (!['*', '(', ')', ',', '=', '<', '>', '<=', '>='].includes(symbol))
        throw QboFault.queryParser(`Lexical error at line 1, column ${at + 1}. Encountered: "${c}".`);
      tokens.push({ kind: 'symbol', text: symbol, at });
      i += symbol.length;
    }
  }
  return tokens;
}

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly sql: string,
  ) {}

  parse(): QboQuery {
    this.keyword('SELECT');
    let count = false;
    let fields: string[] | null = null;
    if (this.peekKeyword('COUNT')) {
      this.i++;
      this.symbol('(');
      this.symbol('*');
      this.symbol(')');
      count = true;
    } else if (this.peekSymbol('*')) this.i++;
    else {
      fields = [this.word()];
      while (this.peekSymbol(',')) {
        this.i++;
        fields.push(this.word());
      }
    }
    this.keyword('FROM');
    const rawEntity = this.word();
    const entity = entityName(rawEntity);
    if (!entity) throw QboFault.queryParser(`Invalid entity "${rawEntity}": it is not queryable.`);
    const query: QboQuery = {
      entity,
      count,
      fields,
      where: [],
      orderBy: [],
      startPosition: 1,
      maxResults: QBO_DEFAULT_MAX_RESULTS,
    };
    if (this.peekKeyword('WHERE')) {
      this.i++;
      query.where.push(this.condition());
      while (this.peekKeyword('AND')) {
        this.i++;
        query.where.push(this.condition());
      }
    }
    if (this.peekKeyword('ORDERBY') || this.peekKeyword('ORDER')) {
      if (this.peekKeyword('ORDER')) {
        this.i++;
        this.keyword('BY');
      } else this.i++;
      do {
        if (query.orderBy.length) this.i++;
        const field = this.word();
        let desc = false;
        if (this.peekKeyword('DESC') || this.peekKeyword('ASC'))
          desc = this.tokens[this.i++].text.toUpperCase() === 'DESC';
        query.orderBy.push({ field, desc });
      } while (this.peekSymbol(','));
    }
    if (this.peekKeyword('STARTPOSITION')) {
      this.i++;
      query.startPosition = this.positiveInt('STARTPOSITION');
    }
    if (this.peekKeyword('MAXRESULTS')) {
      this.i++;
      query.maxResults = Math.min(this.positiveInt('MAXRESULTS'), QBO_MAX_RESULTS);
    }
    if (this.i < this.tokens.length) this.fail(`Encountered "${this.tokens[this.i].text}"`);
    return query;
  }

  private condition(): QboCondition {
    const field = this.word();
    const t = this.tokens[this.i];
    if (t?.kind === 'symbol' && ['=', '<', '>', '<=', '>='].includes(t.text)) {
      this.i++;
      return { field, op: t.text as Operator, values: [this.literal()] };
    }
    if (this.peekKeyword('LIKE')) {
      this.i++;
      const value = this.literal();
      if (typeof value !== 'string') this.fail('LIKE needs a quoted string');
      return { field, op: 'LIKE', values: [value] };
    }
    if (this.peekKeyword('IN')) {
      this.i++;
      this.symbol('(');
      const values = [this.literal()];
      while (this.peekSymbol(',')) {
        this.i++;
        values.push(this.literal());
      }
      this.symbol(')');
      return { field, op: 'IN', values };
    }
    return this.fail(`Expected an operator (=, <, >, <=, >=, IN, LIKE) after "${field}"`);
  }

  private literal(): Literal {
    const t = this.tokens[this.i];
    if (t?.kind === 'string' || t?.kind === 'number') {
      this.i++;
      return t.value!;
    }
    if (t?.kind === 'word' && /^(true|false)$/i.test(t.text)) {
      this.i++;
      return t.text.toLowerCase() === 'true';
    }
    return this.fail('Expected a value (a quoted string, a number, true or false)');
  }

  private positiveInt(what: string): number {
    const t = this.tokens[this.i];
    if (t?.kind !== 'number' || !Number.isInteger(t.value) || (t.value as number) < 1)
      this.fail(`${what} needs a positive whole number`);
    this.i++;
    return t.value as number;
  }

  private word(): string {
    const t = this.tokens[this.i];
    if (t?.kind !== 'word') this.fail('Expected a name');
    this.i++;
    return t.text;
  }

  private keyword(k: string): void {
    if (!this.peekKeyword(k)) this.fail(`Expected ${k}`);
    this.i++;
  }

  private symbol(s: string): void {
    if (!this.peekSymbol(s)) this.fail(`Expected "${s}"`);
    this.i++;
  }

  private peekKeyword(k: string): boolean {
    const t = this.tokens[this.i];
    return t?.kind === 'word' && t.text.toUpperCase() === k;
  }

  private peekSymbol(s: string): boolean {
    const t = this.tokens[this.i];
    return t?.kind === 'symbol' && t.text === s;
  }

  private fail(what: string): never {
    const t = this.tokens[this.i];
    const where = t ? `at line 1, column ${t.at + 1}` : 'at the end of the query';
    throw QboFault.queryParser(`${what} ${where}: ${this.sql}`);
  }
}

/** Parses Intuit's query language (keywords case-insensitive; strings in single quotes, `\'` escapes a quote). */
export function parseQboQuery(sql: string): QboQuery {
  if (!sql || !sql.trim()) throw QboFault.queryParser('The query is empty.');
  return new Parser(tokenize(sql), sql.trim()).parse();
}

/**
 * A field by dotted path, case-insensitively; a ref (`{value, name}`) compares by its value. A path through an array
 * (`AttachableRef.EntityRef.value`, `Line.Amount`) gives every element's value, and a condition holds when one does.
 */
function fieldValues(row: unknown, path: string[]): unknown[] {
  if (Array.isArray(row)) return row.flatMap((r) => fieldValues(r, path));
  if (path.length === 0) {
    if (row && typeof row === 'object' && 'value' in row) return [row.value];
    return [row];
  }
  if (!row || typeof row !== 'object') return [undefined];
  const obj = row as Record<string, unknown>;
  const key = Object.keys(obj).find((k) => k.toLowerCase() === path[0].toLowerCase());
  return fieldValues(key === undefined ? undefined : obj[key], path.slice(1));
}

function fieldValue(row: Record<string, unknown>, path: string): unknown {
  return fieldValues(row, path.split('.'))[0];
}

const DATE = /^\d{4}-\d{2}-\d{2}/;

/** -1 / 0 / 1, or null when the two cannot be compared. Dates by instant, numbers by value, strings case-insensitively. */
function compare(actual: unknown, expected: Literal): number | null {
  if (actual === undefined || actual === null) return null;
  if (typeof expected === 'boolean') return actual === expected || text(actual) === String(expected) ? 0 : null;
  if (typeof expected === 'number' || typeof actual === 'number') {
    const a = Number(actual);
    const b = Number(expected);
    if (Number.isNaN(a) || Number.isNaN(b)) return null;
    return Math.sign(a - b);
  }
  const a = text(actual);
  if (DATE.test(a) && DATE.test(expected)) {
    const x = Date.parse(a);
    const y = Date.parse(expected);
    if (!Number.isNaN(x) && !Number.isNaN(y)) return Math.sign(x - y);
  }
  const la = a.toLowerCase();
  const lb = expected.toLowerCase();
  return la < lb ? -1 : la > lb ? 1 : 0;
}

function matches(row: Record<string, unknown>, c: QboCondition): boolean {
  return fieldValues(row, c.field.split('.')).some((actual) => holds(actual, c));
}

function holds(actual: unknown, c: QboCondition): boolean {
  switch (c.op) {
    case '=':
      return compare(actual, c.values[0]) === 0;
    case '<':
      return compare(actual, c.values[0]) === -1;
    case '>':
      return compare(actual, c.values[0]) === 1;
    case '<=':
      return [-1, 0].includes(compare(actual, c.values[0]) as number);
    case '>=':
      return [1, 0].includes(compare(actual, c.values[0]) as number);
    case 'IN':
      return c.values.some((v) => compare(actual, v) === 0);
    case 'LIKE': {
      if (actual === undefined || actual === null) return false;
      const pattern = String(c.values[0])
        .split('%')
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*');
      return new RegExp(`^${pattern}$`, 'is').test(text(actual));
    }
  }
}

/**
 * Runs a parsed query over an entity's rows as `QueryResponse`: the page (`startPosition`, `maxResults` = the count
 * returned), `totalCount` for COUNT(*), `{}` when nothing matches. Name lists leave inactive rows out unless the query
 * filters on `Active`, as QuickBooks does.
 */
export function runQboQuery(query: QboQuery, rows: QboEntity[]): Record<string, unknown> {
  const askedActive = query.where.some((c) => c.field.toLowerCase() === 'active');
  let found = rows.filter(
    (r) =>
      (askedActive || !QBO_NAME_LISTS.includes(query.entity) || r.Active !== false) &&
      query.where.every((c) => matches(r, c)),
  );
  if (query.count) return { totalCount: found.length };
  const order = query.orderBy.length ? query.orderBy : [{ field: 'Id', desc: false }];
  found = [...found].sort((a, b) => {
    for (const o of order) {
      const x = fieldValue(a, o.field);
      const y = fieldValue(b, o.field);
      let c: number;
      if (x === y) c = 0;
      else if (x === undefined || x === null) c = -1;
      else if (y === undefined || y === null) c = 1;
      else if (o.field.toLowerCase() === 'id') c = Math.sign(Number(x) - Number(y));
      else c = compare(x, typeof y === 'number' || typeof y === 'boolean' ? y : text(y)) ?? 0;
      if (c !== 0) return o.desc ? -c : c;
    }
    return 0;
  });
  const page = found.slice(query.startPosition - 1, query.startPosition - 1 + query.maxResults);
  if (page.length === 0) return {};
  const shaped = query.fields
    ? page.map((r) => {
        const out: Record<string, unknown> = { domain: 'QBO', sparse: true };
        for (const f of query.fields!) {
          const key = Object.keys(r).find((k) => k.toLowerCase() === f.toLowerCase());
          if (key) out[key] = r[key];
        }
        return out;
      })
    : page;
  return { [query.entity]: shaped, startPosition: query.startPosition, maxResults: page.length };
}
