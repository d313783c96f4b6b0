import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';

export const PORTAL_SCHEMA = 'portal';
const MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'migrations');

interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down?(knex: Knex): Promise<void>;
}

/**
 * Reads migrations/ directly so the same files run under tsx, jest and the
 * compiled build; knex keeps its bookkeeping in schema `portal`, apart from
 * Django's django_migrations.
 */
class DirectoryMigrationSource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return fs
      .readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d{14}_[\w-]+\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .sort();
  }
  getMigrationName(file: string): string {
    return file.replace(/\.(ts|js)$/, '');
  }
  async getMigration(file: string): Promise<Knex.Migration> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(MIGRATIONS_DIR, file)) as MigrationModule;
    return { up: mod.up, down: mod.down ?? (async () => undefined) };
  }
}

const migrationConfig = (): Knex.MigratorConfig => ({
  migrationSource: new DirectoryMigrationSource(),
  schemaName: PORTAL_SCHEMA,
  tableName: 'knex_migrations',
});

export async function migrateLatest(knex: Knex): Promise<string[]> {
  await knex.raw(`CREATE SCHEMA IF NOT EXISTS ${PORTAL_SCHEMA}`);
  const [, applied] = (await knex.migrate.latest(migrationConfig())) as [number, string[]];
  return applied;
}

/** Names of migrations in migrations/ that the database has not run yet. */
export async function pendingMigrations(knex: Knex): Promise<string[]> {
  const [, pending] = (await knex.migrate.list(migrationConfig())) as [unknown[], Array<{ file: string } | string>];
  return pending.map((p) => (typeof p === 'string' ? p : p.file));
}
