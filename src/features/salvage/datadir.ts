import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import { BadSource } from './errors';
import type { Throwaway } from './throwaway';

/** The major version a data directory was made by, or a clear error when it is not one. */
export function dataDirVersion(dir: string): string {
  const file = path.join(dir, 'PG_VERSION');
  if (!fs.existsSync(file)) throw new BadSource(`${dir}: not a PostgreSQL data directory (no PG_VERSION)`);
  const version = fs.readFileSync(file, 'utf8').trim();
  if (!/^\d+$/.test(version)) throw new BadSource(`${dir}: PG_VERSION holds "${version.slice(0, 20)}", not a PostgreSQL major version`);
  for (const part of ['global/pg_control', 'base']) {
    if (!fs.existsSync(path.join(dir, part))) throw new BadSource(`${dir}: incomplete PostgreSQL data directory (${part} is missing)`);
  }
  return version;
}

/** Identity of a data directory's state: where it is and its control file (changes with every checkpoint). */
export function dataDirFingerprint(dir: string): string {
  const control = fs.readFileSync(path.join(dir, 'global', 'pg_control'));
  return `datadir:${dir}:${crypto.createHash('sha256').update(control).digest('hex')}`;
}

/** The database on the throwaway server that holds TOYBOX's tables (or the one asked for). */
export async function pickToyboxDatabase(server: Throwaway, wanted?: string): Promise<string> {
  const connect = async (database: string) => {
    const c = new pg.Client({ host: server.socketDir, user: server.superuser, database, port: 5432 });
    await c.connect();
    return c;
  };
  const admin = await connect('template1');
  let names: string[];
  try {
    names = (await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname')).rows.map((r) => r.datname);
  } finally {
    await admin.end();
  }
  if (wanted) {
    if (!names.includes(wanted)) throw new BadSource(`no database "${wanted}" in this data directory (found: ${names.join(', ')})`);
    return wanted;
  }
  const withToybox: string[] = [];
  for (const name of names) {
    const c = await connect(name);
    try {
      const { rows } = await c.query<{ ok: boolean }>("SELECT to_regclass('public.users') IS NOT NULL AND to_regclass('public.submissions') IS NOT NULL AS ok");
      if (rows[0]?.ok) withToybox.push(name);
    } finally {
      await c.end();
    }
  }
  if (withToybox.length !== 1) {
    throw new BadSource(
      withToybox.length ? `several databases hold TOYBOX tables (${withToybox.join(', ')}): choose one with --database` : `no database here holds TOYBOX's tables (found: ${names.join(', ')})`,
    );
  }
  return withToybox[0]!;
}
