import pg from 'pg';
import type { Knex } from 'knex';

// Advisory lock namespace for salvage runs; the second key is the source id.
const LOCK_CLASS = 0x5a1e;

export class SourceBusy extends Error {}

export interface SourceLock {
  release(): Promise<void>;
}

/**
 * Holds a session advisory lock on its own connection for as long as a run
 * lasts. A killed run's connection dies with it, so the lock frees itself and
 * a 'running' row without a holder reads as interrupted, never stuck.
 */
export async function lockSource(databaseUrl: string, sourceId: number): Promise<SourceLock> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [LOCK_CLASS, sourceId]);
  if (!rows[0]?.ok) {
    await client.end();
    throw new SourceBusy(`source ${sourceId} is being read by another run`);
  }
  return {
    release: async () => {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, sourceId]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/** Source ids some live run holds right now. */
export async function lockedSourceIds(knex: Knex): Promise<Set<number>> {
  const { rows } = await knex.raw<{ rows: Array<{ objid: number }> }>("SELECT objid::bigint AS objid FROM pg_locks WHERE locktype = 'advisory' AND classid = ? AND objsubid = 2 AND granted", [LOCK_CLASS]);
  return new Set(rows.map((r) => Number(r.objid)));
}
