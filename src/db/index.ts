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
  close(): Promise<void>;
}

export function createKnex(url: string, poolMax = 10): Knex {
  return knexFactory({
    client: 'pg',
    connection: url,
    pool: { min: 0, max: poolMax, idleTimeoutMillis: 10_000 },
    acquireConnectionTimeout: 10_000,
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
export async function openDatabase(config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'>): Promise<Database> {
  const embedded = config.DATABASE_URL ? null : await startEmbeddedDatabase(config.DATA_DIR);
  const url = config.DATABASE_URL ?? embedded!.url;
  const knex = createKnex(url, embedded ? 5 : 10);
  return {
    knex,
    url,
    embedded,
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
