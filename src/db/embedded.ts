import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { toyboxSchemaSql, TOYBOX_PROBE_SQL } from '../toybox/schema';

export interface EmbeddedDatabase {
  url: string;
  dataDir: string;
  db: PGlite;
  stop(): Promise<void>;
}

/**
 * Zero-setup default: PGlite persisted under DATA_DIR, served over the
 * PostgreSQL wire protocol so that pg, knex and connect-pg-simple run the same
 * code paths as against a real server.
 */
export async function startEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  const dir = path.join(dataDir, 'pglite');
  fs.mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const probe = await db.query<{ present: boolean }>(TOYBOX_PROBE_SQL);
  if (!probe.rows[0]?.present) await db.exec(toyboxSchemaSql());
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 10 });
  await server.start();
  const address = server.getServerConn();
  const url = `postgres://postgres@${address}/postgres?sslmode=disable`;
  return {
    url,
    dataDir: dir,
    db,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
