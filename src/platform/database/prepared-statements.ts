import type pg from 'pg';

/**
 * Server-side prepared statements for every parameterised query of the service's pool. A statement sent
 * unnamed is parsed, analysed and planned again on every call; named, each connection does that once and
 * then only binds and executes it. On the order intake that cut PostgreSQL's CPU per order by about 40%
 * (BENCHMARKS.md). PostgreSQL itself re-plans a prepared statement when a table it reads changes.
 *
 * The names are shared by the process (the same text, the same name on every connection). A process builds a
 * bounded set of texts, but a library's SQL may vary with its arguments: past `MAX_NAMED` distinct texts the
 * rest run unnamed, so a connection never holds more than that many plans.
 */
export const MAX_NAMED = 1_000;

const names = new Map<string, string>();

const PLANNED_PER_CALL = '/* planned per call */ ';

/**
 * A statement left unnamed, so that PostgreSQL plans it for each call's arguments. For a lookup of a batch's
 * keys joined to a table that grows (`join unnest($1) ... on key`): a named statement gets a generic plan
 * after five calls, made with the table's statistics of that moment, and on a table that was new then (a new
 * database, a server with autovacuum off) that plan is a hash join over a sequential scan, kept while the table
 * grows to millions of rows. Planned per call, it looks each key up in the index.
 */
export function plannedPerCall(text: string): string {
  return PLANNED_PER_CALL + text;
}

/** The statement's name, or undefined when it is to run unnamed (no parameters, planned per call, or the set is full). */
export function statementName(text: string): string | undefined {
  if (text.startsWith(PLANNED_PER_CALL)) return undefined;
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED) names.set(text, (name = `crossdock_${names.size}`));
  return name;
}

/**
 * A prepared statement that no longer fits the table it reads (a migration of another instance changed a
 * column its result returns): the connection is to be dropped, so that the next one prepares it afresh.
 */
export function isStalePlan(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === '0A000' && typeof message === 'string' && message.startsWith('cached plan must not change result type');
}

const NAMED = Symbol('crossdock.namedStatements');

/**
 * Every connection of the pool sends its parameterised queries as named statements: each is set up when it is
 * handed out, so that the connections the pool opened before (MikroORM's, at start and for the migrations) are
 * not left sending every statement to be parsed and planned anew.
 */
export function prepareStatements(pool: pg.Pool): pg.Pool {
  pool.on('acquire', nameStatements);
  return pool;
}

function nameStatements(client: pg.PoolClient): void {
  const tagged = client as pg.PoolClient & { [NAMED]?: true };
  if (tagged[NAMED]) return;
  tagged[NAMED] = true;
  // Statements sent together (`together`) go out at once instead of each waiting for the one before.
  (client as pg.PoolClient & { pipeline: boolean }).pipeline = true;
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (config: unknown, values?: unknown, callback?: unknown) => {
    if (typeof config === 'string' && Array.isArray(values)) {
      const name = statementName(config);
      if (name !== undefined) return callback === undefined ? query({ name, text: config, values }) : query({ name, text: config, values }, callback);
    }
    return query(config, values, callback);
  };
}
