import crypto from 'node:crypto';

/**
 * The shape of this portal's signed export archives that both the export
 * (which writes them) and the claims feature (which takes a person's own
 * archive back as proof) share. See docs/export.md ("Signature").
 */

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
export const DATA_FILE = 'data.json';

export interface ArchiveSubject {
  user_id: number;
  display_id: string;
  global_id: string;
  /** SHA-256 (hex) of the account's e-mail, trimmed and lower-cased; null without one. */
  email_sha256: string | null;
}

export function emailSha256(email: string | null | undefined): string | null {
  const e = email?.trim().toLowerCase();
  return e ? crypto.createHash('sha256').update(e).digest('hex') : null;
}

/** TOYBOX_URL's host, as global ids carry it. */
export function toyboxHostOf(toyboxUrl: string): string {
  return new URL(toyboxUrl).host.toLowerCase();
}

export interface GlobalId {
  host: string;
  era: 'new' | 'restored';
  table: string;
  /** Percent-decoded: the primary key (era new) or the old_id a restore had set (era restored). */
  id: string;
}

/** `toybox:<site host>:<era>:<table>:<id>`; the host may carry a port, so split on the last three colons. */
export function parseGlobalId(gid: string): GlobalId | null {
  const m = /^toybox:(.+):(new|restored):([a-z_]+):([^\s:]+)$/.exec(gid);
  if (!m) return null;
  let id: string;
  try {
    id = decodeURIComponent(m[4]!);
  } catch {
    return null;
  }
  return { host: m[1]!, era: m[2] as 'new' | 'restored', table: m[3]!, id };
}
