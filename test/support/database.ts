import crypto from 'node:crypto';
import pg from 'pg';
import { toyboxSchemaSql } from '../../src/toybox/schema';

export const TEST_DB_PREFIX = 'portal_test_';

export function adminDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function databaseUrlFor(name: string): string {
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh database with TOYBOX's real schema loaded, unique to the caller;
 * the suffix ties it to this jest run so global teardown can sweep leftovers.
 */
export async function createTestDatabase(opts: { toyboxSchema?: boolean } = {}): Promise<TestDatabase> {
  const name = `${TEST_DB_PREFIX}${crypto.randomBytes(4).toString('hex')}_${process.ppid}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = databaseUrlFor(name);
  if (opts.toyboxSchema !== false) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(toyboxSchemaSql());
    } finally {
      await client.end();
    }
  }
  return {
    name,
    url,
    drop: () => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}
