import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Config } from '../config';
import { logger } from '../logger';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './embedded';

// timestamptz come back as Date (pg default); bigint ids as strings would leak
// into templates and JSON inconsistently, so ids that fit are parsed as numbers.
pg.types.setTypeParser(20, (v: string) => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
});

export interface Database {
  knex: Knex;
  /** Connection URL, for code that needs a dedicated client (LISTEN, COPY, pg_dump). */
  url: string;
  embedded: EmbeddedDatabase | null;
  timeouts: DbTimeouts;
  close(): Promise<void>;
}

function timeoutsFrom(config: Partial<Pick<Config, 'DB_CONNECT_TIMEOUT_MS' | 'DB_STATEMENT_TIMEOUT_MS'>>, embedded: boolean): DbTimeouts {
  return {
    connectMs: config.DB_CONNECT_TIMEOUT_MS ?? DEFAULT_DB_TIMEOUTS.connectMs,
    statementMs: config.DB_STATEMENT_TIMEOUT_MS ?? DEFAULT_DB_TIMEOUTS.statementMs,
    embedded,
  };
}

/** How long the portal waits for PostgreSQL before a page gives up with 503 (see DB_* in the README). */
export interface DbTimeouts {
  /** Opening a connection, and waiting for one from the pool. */
  connectMs: number;
  /** One statement: the server cancels it (statement_timeout), and the client stops waiting a little later. */
  statementMs: number;
  /** PGlite's socket server does not take startup parameters: only the client-side timeout applies. */
  embedded?: boolean;
}

export const DEFAULT_DB_TIMEOUTS: DbTimeouts = { connectMs: 5000, statementMs: 10_000 };

/**
 * node-postgres settings for every pool the web process uses. A hung server
 * (the socket open, nothing coming back) is only noticed by the client-side
 * query_timeout; statement_timeout makes the server stop the work too.
 */
export function pgConnectionConfig(url: string, t: DbTimeouts = DEFAULT_DB_TIMEOUTS): pg.ClientConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: t.connectMs,
    query_timeout: t.statementMs + 1000,
    ...(t.embedded ? {} : { statement_timeout: t.statementMs }),
    keepAlive: true,
  };
}

export function createKnex(url: string, poolMax = 10, timeouts: DbTimeouts = DEFAULT_DB_TIMEOUTS): Knex {
  return knexFactory({
    client: 'pg',
    connection: pgConnectionConfig(url, timeouts) as Knex.PgConnectionConfig,
    pool: { min: 0, max: poolMax, idleTimeoutMillis: 10_000 },
    acquireConnectionTimeout: timeouts.connectMs,
    // knex prints to the console by default; outages are reported by /readyz, details at debug level
    log: {
      warn: (m: unknown) => logger.debug({ knex: m }, 'knex warning'),
      error: (m: unknown) => logger.debug({ knex: m }, 'knex error'),
      deprecate: () => undefined,
      debug: () => undefined,
    },
  });
}

/** Opens DATABASE_URL, or the embedded PGlite database when it is unset. */
export async function openDatabase(config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'> & Partial<Pick<Config, 'DB_CONNECT_TIMEOUT_MS' | 'DB_STATEMENT_TIMEOUT_MS'>>): Promise<Database> {
  const embedded = config.DATABASE_URL ? null : await startEmbeddedDatabase(config.DATA_DIR);
  const url = config.DATABASE_URL ?? embedded!.url;
  const timeouts = timeoutsFrom(config, embedded !== null);
  const knex = createKnex(url, embedded ? 5 : 10, timeouts);
  return {
    knex,
    url,
    embedded,
    timeouts,
    async close() {
      await knex.destroy();
      if (embedded) await embedded.stop();
    },
  };
}

/** True when the database answers a trivial query within the timeout. */
export async function pingDatabase(knex: Knex, timeoutMs = 2000): Promise<boolean> {
  try {
    await Promise.race([
      knex.raw('select 1'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
    ]);
    return true;
  } catch {
    return false;
  }
}
