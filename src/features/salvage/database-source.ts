import fs from 'node:fs';
import type { AppContext } from '../../app-context';
import { sha256File } from '../../files/sha256';
import { BadSource } from './errors';
import { sniffFile } from './sniff';
import { dataDirFingerprint, dataDirVersion, pickToyboxDatabase } from './datadir';
import { restoreCustomDump, restorePlainDump, transferSchema, type PlainLoadReport } from './dump-loader';
import { serverBinaries, startCopiedServer, startFreshServer, type Throwaway } from './throwaway';
import { countSchemaTables, dropSalvageSchema, findOrCreateSource } from './repo';
import { withSource } from './service-core';

export interface DatabaseLoad {
  source_id: number;
  schema: string;
  format: 'custom_dump' | 'plain_dump' | 'pg_data_dir';
  table_counts: Record<string, number>;
  already_loaded: boolean;
  plain?: PlainLoadReport;
  database?: string;
  postgres_version?: string;
}

/** The major version of PostgreSQL a dump is restored with (the machine's, which production used: 15). */
const DUMP_RESTORE_MAJOR = '15';

interface Identified {
  format: DatabaseLoad['format'];
  fingerprint: string;
  restore(server: Throwaway): Promise<{ plain?: PlainLoadReport }>;
  major: string;
  start(bin: string): Promise<Throwaway>;
}

async function identify(source: string): Promise<Identified> {
  let st: fs.Stats;
  try {
    st = fs.statSync(source);
  } catch {
    throw new BadSource(`${source}: no such file or directory`);
  }
  if (st.isDirectory()) {
    const major = dataDirVersion(source);
    return { format: 'pg_data_dir', fingerprint: dataDirFingerprint(source), major, restore: async () => ({}), start: (bin) => startCopiedServer(bin, source) };
  }
  const sniffed = await sniffFile(source);
  if (!sniffed || (sniffed.type !== 'custom_dump' && sniffed.type !== 'plain_dump')) {
    throw new BadSource(`${source}: not a PostgreSQL dump (no PGDMP magic, no "-- PostgreSQL database dump" header) nor a data directory`);
  }
  const fingerprint = `sha256:${await sha256File(source)}`;
  const start = (bin: string) => startFreshServer(bin);
  if (sniffed.type === 'custom_dump') {
    return { format: 'custom_dump', fingerprint, major: DUMP_RESTORE_MAJOR, start, restore: async (server) => (await restoreCustomDump(source, sniffed.gzip, server), {}) };
  }
  return { format: 'plain_dump', fingerprint, major: DUMP_RESTORE_MAJOR, start, restore: async (server) => ({ plain: await restorePlainDump(source, sniffed.gzip, sniffed.encoding, server) }) };
}

/**
 * `salvage add-database`: loads a dump or an old data directory into its own
 * schema `salvage_<id>` of the portal's database (never TOYBOX's tables), via a
 * throwaway PostgreSQL server; records rows per table. The same source twice is
 * loaded once.
 */
export async function addDatabase(ctx: AppContext, sourcePath: string, opts: { database?: string } = {}): Promise<DatabaseLoad> {
  const real = fs.existsSync(sourcePath) ? fs.realpathSync(sourcePath) : sourcePath;
  const id = await identify(real);
  const existing = await findOrCreateSource(ctx.knex, 'database', id.fingerprint, real);
  if (existing.status === 'complete' && existing.schema_name) {
    return { ...(existing.details as Omit<DatabaseLoad, 'already_loaded'>), source_id: existing.id, schema: existing.schema_name, already_loaded: true };
  }
  const bin = await serverBinaries(ctx.config.SALVAGE_PG_BIN, id.major);
  const { result } = await withSource(ctx, 'database', id.fingerprint, real, async (src) => {
    const schema = `salvage_${src.id}`;
    await dropSalvageSchema(ctx.knex, schema); // what an earlier killed attempt may have left (the load is one transaction, so normally nothing)
    const server = await id.start(bin);
    let restored: { plain?: PlainLoadReport };
    let database = 'postgres';
    try {
      restored = await id.restore(server);
      if (id.format === 'pg_data_dir') database = await pickToyboxDatabase(server, opts.database);
      await transferSchema(server, database, schema, ctx.databaseUrl, ctx.config.PG_BIN);
    } finally {
      await server.stop();
    }
    const table_counts = await countSchemaTables(ctx.knex, schema);
    const load: DatabaseLoad = {
      source_id: src.id,
      schema,
      format: id.format,
      table_counts,
      already_loaded: false,
      ...(restored.plain ? { plain: restored.plain } : {}),
      ...(id.format === 'pg_data_dir' ? { database, postgres_version: id.major } : {}),
    };
    const warnings = restored.plain?.repairs.suspectLines.length ? [`mojibake left as it was on lines ${restored.plain.repairs.suspectLines.join(', ')} (not reversible)`] : [];
    return { result: load, details: { ...load }, warnings, schema_name: schema };
  });
  return result;
}
