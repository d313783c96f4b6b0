import fs from 'node:fs';
import path from 'node:path';

/** The TOYBOX schema exactly as its Django migrations create it (copied from shared/toybox/schema.sql). */
export const TOYBOX_SCHEMA_FILE = path.join(__dirname, 'fixtures', 'toybox-schema.sql');

/**
 * The dump empties search_path for its own session; we restore it so the
 * connection (or, on PGlite, every connection) keeps resolving `public`.
 */
export function toyboxSchemaSql(): string {
  return `${fs.readFileSync(TOYBOX_SCHEMA_FILE, 'utf8')}\nSET search_path TO "$user", public;\n`;
}

export const TOYBOX_PROBE_SQL = "SELECT to_regclass('public.users') IS NOT NULL AS present";
