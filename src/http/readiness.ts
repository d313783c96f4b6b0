import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { pingDatabase } from '../db';
import { pendingMigrations } from '../db/migrate';

export interface CheckResult {
  ok: boolean;
  /** Shown in /readyz when not ok: what is wrong, in plain words. */
  reason?: string;
  /** A check that is not ok but does not make the portal unready (for example a stale notice). */
  warnOnly?: boolean;
}

export type Check = () => Promise<CheckResult>;

/** Named checks behind /readyz; features add their own (for example the notice snapshot's freshness). */
export class ReadinessChecks {
  private readonly checks = new Map<string, Check>();

  add(name: string, check: Check): void {
    this.checks.set(name, check);
  }

  async run(): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          return [name, (await check()) as CheckResult] as const;
        } catch (err) {
          return [name, { ok: false, reason: (err as Error).message } as CheckResult] as const;
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    return { ready: entries.every(([, r]) => r.ok || r.warnOnly), checks };
  }
}

/** Writes and removes a probe file: the incident began with a filesystem that turned read-only. */
export async function checkWritable(dir: string): Promise<CheckResult> {
  const probe = path.join(dir, `.write-probe-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  try {
    // removed even when the write fails half-way (a full disk creates the file, then refuses the bytes)
    await fs.promises.writeFile(probe, 'ok', { mode: 0o600 }).finally(() => fs.promises.rm(probe, { force: true }));
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}

export function coreChecks(knex: Knex, dataDir: string): ReadinessChecks {
  const checks = new ReadinessChecks();
  let migrationsCurrent = false;
  checks.add('database', async () =>
    (await pingDatabase(knex)) ? { ok: true } : { ok: false, reason: 'database is unreachable' },
  );
  checks.add('migrations', async () => {
    // Once current, stays current for this process: only a newer deploy adds migrations.
    if (migrationsCurrent) return { ok: true };
    const pending = await pendingMigrations(knex);
    migrationsCurrent = pending.length === 0;
    return migrationsCurrent ? { ok: true } : { ok: false, reason: `pending migrations: ${pending.join(', ')}` };
  });
  checks.add('data_dir', () => checkWritable(dataDir));
  return checks;
}
