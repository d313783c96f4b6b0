import pg from 'pg';
import { adminDatabaseUrl, TEST_DB_PREFIX } from './database';

/** Drops any test database a crashed run left behind (each test file drops its own normally). */
export default async function globalTeardown(): Promise<void> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1 || '%' AND datname LIKE '%' || $2`,
      [TEST_DB_PREFIX, `_${process.ppid}`],
    );
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
