import type { AppContext } from '../../app-context';
import { lockSource } from './lock';
import { findOrCreateSource, markSource, type SourceKind, type SourceRow } from './repo';

/**
 * Runs `work` on the source identified by (kind, fingerprint) while holding its
 * lock: the row says 'running' only as long as a live run holds the lock, and
 * ends 'complete' or 'failed' with the error; never half-reported as complete.
 */
export async function withSource<T>(
  ctx: AppContext,
  kind: SourceKind,
  fingerprint: string,
  locator: string,
  work: (source: SourceRow) => Promise<{ result: T; details: Record<string, unknown>; warnings: string[]; schema_name?: string }>,
): Promise<{ source: SourceRow; result: T }> {
  const source = await findOrCreateSource(ctx.knex, kind, fingerprint, locator);
  const lock = await lockSource(ctx.databaseUrl, source.id);
  try {
    await markSource(ctx.knex, source.id, { status: 'running', error: null, locator, started: true });
    try {
      const out = await work(source);
      await markSource(ctx.knex, source.id, { status: 'complete', details: out.details, warnings: out.warnings.slice(0, 500), schema_name: out.schema_name, finished: true });
      return { source: { ...source, status: 'complete' }, result: out.result };
    } catch (err) {
      await markSource(ctx.knex, source.id, { status: 'failed', error: (err as Error).message.slice(0, 2000), finished: true }).catch(() => undefined);
      throw err;
    }
  } finally {
    await lock.release();
  }
}

