import fs from 'node:fs';
import { ensurePrivateDirSync } from '../files/private';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { toyboxSchemaSql, TOYBOX_PROBE_SQL } from '../toybox/schema';

export interface EmbeddedDatabase {
  url: string;
  dataDir: string;
  /** Null when this process borrowed the database another process (the server) already holds open. */
  db: PGlite | null;
  stop(): Promise<void>;
}

const LOCK_FILE = 'portal-socket.json';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A PGlite data directory can be open in one process only. When the server
 * already holds it, other processes (the CLI) connect to the server's socket
 * instead of opening the files a second time.
 */
function runningOwner(dir: string): string | null {
  try {
    const { pid, url } = JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as { pid: number; url: string };
    return pid !== process.pid && isAlive(pid) ? url : null;
  } catch {
    return null;
  }
}

/** Extended-query messages (Parse, Bind, Describe, Execute, Close, Flush, CopyData) that a later Sync completes. */
const MID_BATCH = new Set([0x50, 0x42, 0x44, 0x45, 0x43, 0x48, 0x64]);

/**
 * pglite-socket queues each wire message on its own, so with several
 * connections one client's Parse/Bind/Execute/Sync can interleave with
 * another's on PGlite's single backend: the unnamed statement is swapped and
 * a query answers with another's rows (a session read came back empty and
 * signed admins out; a page failed with 500). Its queue already keeps one
 * connection's messages together while a transaction is open; this view of
 * the database says "in a transaction" from a Parse until its Sync too.
 */
function keepBatchesTogether(db: PGlite): PGlite {
  let midBatch = false;
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'isInTransaction') return () => midBatch || target.isInTransaction();
      if (prop === 'execProtocolRawStream') {
        return (message: Uint8Array, opts: Parameters<PGlite['execProtocolRawStream']>[1]) => {
          midBatch = MID_BATCH.has(message[0] ?? 0);
          return target.execProtocolRawStream(message, opts);
        };
      }
      if (prop === 'exec') {
        // The queue's ROLLBACK for a client that left mid-batch ends the batch too.
        return (sql: string) => {
          midBatch = false;
          return target.exec(sql);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Zero-setup default: PGlite persisted under DATA_DIR, served over the
 * PostgreSQL wire protocol so that pg, knex and connect-pg-simple run the same
 * code paths as against a real server.
 */
export async function startEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  const dir = path.join(dataDir, 'pglite');
  ensurePrivateDirSync(dir);
  const borrowed = runningOwner(dataDir);
  if (borrowed) return { url: borrowed, dataDir: dir, db: null, stop: async () => undefined };

  const db = await PGlite.create(dir);
  const probe = await db.query<{ present: boolean }>(TOYBOX_PROBE_SQL);
  if (!probe.rows[0]?.present) await db.exec(toyboxSchemaSql());
  // Room for the server's pools (knex, sessions, pg-boss: about 10) and for CLI processes
  // borrowing the database meanwhile; beyond the limit a new connection is cut, which the
  // CLI saw as "Connection terminated unexpectedly". Queries are serialised anyway.
  const server = new PGLiteSocketServer({ db: keepBatchesTogether(db), host: '127.0.0.1', port: 0, maxConnections: 64 });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
  const lockPath = path.join(dataDir, LOCK_FILE);
  try {
    fs.writeFileSync(lockPath, JSON.stringify({ pid: process.pid, url }), { mode: 0o600 });
  } catch (err) {
    fs.rmSync(lockPath, { force: true });
    await server.stop();
    await db.close();
    throw err;
  }
  return {
    url,
    dataDir: dir,
    db,
    async stop() {
      fs.rmSync(lockPath, { force: true });
      await server.stop();
      await db.close();
    },
  };
}
