import type { Knex } from 'knex';
import type pg from 'pg';
import type { Config } from './config';
import type { Mailer } from './mail/mailer';
import type { ReadinessChecks } from './http/readiness';

/** What every part of the portal is built from; tests build one per test database. */
export interface AppContext {
  config: Config;
  knex: Knex;
  /** Connection URL of the same database, for dedicated clients (LISTEN/NOTIFY, COPY, pg_dump). */
  databaseUrl: string;
  /** A small plain pg pool for libraries that want one (sessions). */
  pgPool: pg.Pool;
  mailer: Mailer;
  readiness: ReadinessChecks;
}
