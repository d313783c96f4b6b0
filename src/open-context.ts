import pg from 'pg';
import type { AppContext } from './app-context';
import type { Config } from './config';
import { openDatabase, pgConnectionConfig, type Database } from './db';
import { migrateLatest } from './db/migrate';
import { createMailer, type Mailer } from './mail/mailer';
import { coreChecks } from './http/readiness';
import { stopQueue } from './jobs/queue';
import { settleLocalTasks } from './jobs/runner';
import { stopWorkOwner } from './jobs/ownership';
import { DATA_DIR_MODE, ensurePrivateDirSync } from './files/private';
import { reportWriteFailure, reportWriteSuccess } from './files/write-failures';

export interface RunningContext extends AppContext {
  database: Database;
  close(): Promise<void>;
}

/**
 * Opens the database (embedded when DATABASE_URL is unset), runs the portal's
 * migrations (idempotent, locked against concurrent instances) and builds the
 * shared context. Server, CLI and tests all start here.
 */
export async function buildContext(config: Config, opts: { mailer?: Mailer; migrate?: boolean } = {}): Promise<RunningContext> {
  ensurePrivateDirSync(config.DATA_DIR, DATA_DIR_MODE); // see src/files/private.ts for why 0711
  const database = await openDatabase(config);
  try {
    if (opts.migrate !== false) await migrateLatest(database.knex);
  } catch (err) {
    await database.close();
    throw err;
  }
  const pgPool = new pg.Pool({ ...pgConnectionConfig(database.url, database.timeouts), max: 3, idleTimeoutMillis: 10_000 });
  pgPool.on('error', () => undefined); // a dropped idle connection is retried on next use; /readyz reports the outage
  const mailer = opts.mailer ?? createMailer(config, {
      onWriteFailure: (file, err) => reportWriteFailure(database.knex, 'outbox', file, err),
      onWriteSuccess: () => reportWriteSuccess(database.knex, 'outbox'),
    });
  const ctx: RunningContext = {
    config,
    knex: database.knex,
    databaseUrl: database.url,
    pgPool,
    mailer,
    readiness: coreChecks(database.knex, config.DATA_DIR),
    database,
    async close() {
      await settleLocalTasks(ctx); // an address import started by a request finishes and records its outcome
      await stopQueue(ctx);
      await stopWorkOwner(ctx);
      mailer.close();
      await pgPool.end();
      await database.close();
    },
  };
  return ctx;
}
