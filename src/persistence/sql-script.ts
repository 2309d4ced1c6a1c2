/** A statement as TypeORM builds it: SQL with `?` placeholders (SQLite) and their values, in order. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * A value as an SQLite literal, stored as binding it would store it (node-sqlite3's rules): text quoted with `'`
 * doubled, NUL characters as `char(0)` (the script is a C string), a number other than a 32-bit integer as a double
 * with 17 significant digits (SQLite reads back the very same double; the shortest form is off by one ulp for some),
 * NaN as NULL, infinities as ±9e999, bytes as a blob. Anything else (TypeORM has turned dates into text) is refused:
 * never guessed into a string.
 */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  switch (typeof value) {
    case 'string':
      // Most values have nothing to escape: looking costs a third of replacing (one of the commit's top frames).
      if (!value.includes("'") && !value.includes('\u0000')) return `'${value}'`;
      return `'${value.replaceAll("'", "''").replaceAll('\u0000', "'||char(0)||'")}'`;
    case 'number':
      if (Number.isNaN(value)) return 'NULL';
      if (!Number.isFinite(value)) return value > 0 ? '9e999' : '-9e999';
      // node-sqlite3 binds a 32-bit integer as an integer, any other number as a double.
      return (value | 0) === value ? String(value) : asDouble(value.toPrecision(17));
    case 'boolean':
      return value ? '1' : '0';
  }
  if (Buffer.isBuffer(value)) return `X'${value.toString('hex')}'`;
  throw new TypeError(`cannot write ${Object.prototype.toString.call(value)} as an SQL value`);
}

/** A number's digits as SQLite reads a double: with a point or an exponent (`12345678901234567` would be an integer). */
const asDouble = (digits: string) => (/[.e]/.test(digits) ? digits : `${digits}.0`);

/** Statements as one SQLite script. Their values are inlined already (`row-statements.ts`): a script binds none. */
export function scriptOf(statements: Statement[]): string {
  return statements
    .map(({ sql, params }) => {
      if (params.length) throw new TypeError(`a script takes no bound values (${params.length} given): ${sql.slice(0, 200)}`);
      return sql;
    })
    .join(';\n');
}
