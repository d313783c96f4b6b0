import pg from 'pg';
import { adminDatabaseUrl } from './database';

/** Fails fast, with the fix, when the PostgreSQL the tests need is not answering. */
export default async function globalSetup(): Promise<void> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    throw new Error(`Tests need PostgreSQL at ${adminDatabaseUrl()} (TEST_DATABASE_URL): ${(err as Error).message}. Run .ci/run, which starts it.`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
