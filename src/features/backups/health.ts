import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { AppContext } from '../../app-context';
import { pingDatabase } from '../../db';
import { recentWriteFailures, type WriteFailure } from '../../files/write-failures';
import { backupsInstalledAt, findLastGood, selectBackups, selectDrills, selectUnacknowledgedSuspects, type BackupRow, type DrillRow } from './repo';

export interface DirHealth {
  label: 'DATA_DIR' | 'BACKUP_DIR';
  path: string;
  writable: boolean;
  freeBytes: number | null;
  freeRatio: number | null;
}

export interface Health {
  databaseUp: boolean;
  dirs: DirHealth[];
  lastGoodDatabase?: BackupRow;
  lastGoodMedia?: BackupRow;
  lastDatabaseBackup?: BackupRow;
  lastMediaBackup?: BackupRow;
  lastDrill?: DrillRow;
  suspects: BackupRow[];
  installedAt: Date | null;
  /** The newest failed write per area in the last WRITE_FAILURE_WINDOW_MINUTES (disk full, I/O error). */
  writeFailures: Array<WriteFailure & { at: Date }>;
}

/** A failed write keeps its alert open this long after the last failure; a success does not clear it sooner. */
export const WRITE_FAILURE_WINDOW_MINUTES = 60;

/**
 * Writes and removes a probe file: the only honest test of a filesystem that
 * turns read-only under load (as the incident's did); permissions alone lie for root.
 */
export async function probeDir(label: DirHealth['label'], dir: string): Promise<DirHealth> {
  let writable = false;
  try {
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    const probe = path.join(dir, `.write-probe-${crypto.randomBytes(4).toString('hex')}`);
    // removed even when the write fails half-way (a full disk creates the file, then refuses the bytes)
    await fs.promises.writeFile(probe, 'ok', { mode: 0o600 }).finally(() => fs.promises.rm(probe, { force: true }));
    writable = true;
  } catch {
    writable = false;
  }
  let freeBytes: number | null = null;
  let freeRatio: number | null = null;
  try {
    const s = await fs.promises.statfs(dir);
    freeBytes = s.bavail * s.bsize;
    freeRatio = s.blocks > 0 ? s.bavail / s.blocks : null;
  } catch {
    // a missing directory has no free-space figure; writability already says it is unusable
  }
  return { label, path: dir, writable, freeBytes, freeRatio };
}

/** Everything the alerts and /metrics look at, read once. Database facts are skipped when it is down. */
export async function collectHealth(ctx: AppContext): Promise<Health> {
  const [databaseUp, dataDir, backupDir] = await Promise.all([
    pingDatabase(ctx.knex),
    probeDir('DATA_DIR', ctx.config.DATA_DIR),
    probeDir('BACKUP_DIR', ctx.config.BACKUP_DIR),
  ]);
  const health: Health = { databaseUp, dirs: [dataDir, backupDir], suspects: [], installedAt: null, writeFailures: [] };
  if (!databaseUp) return health;
  const [lastGoodDatabase, lastGoodMedia, lastDatabase, lastMedia, drills, suspects, installedAt, writeFailures] = await Promise.all([
    findLastGood(ctx.knex, 'database'),
    findLastGood(ctx.knex, 'media'),
    selectBackups(ctx.knex, { kind: 'database', limit: 5 }),
    selectBackups(ctx.knex, { kind: 'media', limit: 5 }),
    selectDrills(ctx.knex, 1),
    selectUnacknowledgedSuspects(ctx.knex),
    backupsInstalledAt(ctx.knex),
    recentWriteFailures(ctx.knex, WRITE_FAILURE_WINDOW_MINUTES),
  ]);
  return {
    ...health,
    lastGoodDatabase,
    lastGoodMedia,
    lastDatabaseBackup: lastDatabase.find((b) => b.status !== 'running'),
    lastMediaBackup: lastMedia.find((b) => b.status !== 'running'),
    lastDrill: drills[0],
    suspects,
    installedAt,
    writeFailures,
  };
}
