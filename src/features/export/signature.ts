import type pg from 'pg';
import { signBytes, SIGNING_ALGORITHM, type SigningKey } from '../../auth/archive-signing';
import type { Digest } from './streams';
import { FORMAT_VERSION } from './json-schema';
import { MANIFEST_FILE, emailSha256, type ArchiveSubject } from '../../archive/format';

/**
 * manifest.json and manifest.sig: what an archive holds and who wrote it.
 * The signature is Ed25519 over the exact bytes of manifest.json; the
 * manifest lists every other file's size and SHA-256, so one signature
 * covers every row and every media file. See docs/export.md ("Signature").
 */

export { MANIFEST_FILE, SIGNATURE_FILE, emailSha256, toyboxHostOf, type ArchiveSubject } from '../../archive/format';

export type ManifestFile = { path: string } & Digest;

export interface Manifest {
  format_version: number;
  exported_at: string;
  /** PUBLIC_URL of the portal that signed the archive. */
  site: string;
  /** The `<site host>` of every global id in data.json (TOYBOX_URL's host). */
  toybox_site: string;
  subject: ArchiveSubject;
  algorithm: string;
  key_id: string;
  note: string;
  files: ManifestFile[];
}

export interface SignatureDoc {
  algorithm: string;
  key_id: string;
  signed_file: string;
  /** base64 Ed25519 signature over manifest.json's bytes. */
  signature: string;
}

/** The global id of a live (post-incident) user row; see globalIdSql in src/toybox/personal-data.ts. */
export function userGlobalId(toyboxHost: string, userId: number): string {
  return `toybox:${toyboxHost}:new:users:${userId}`;
}

/** Who the archive is about, read in the export's own snapshot. */
export async function subjectOf(client: pg.Client, user: { id: number; display_id: string }, toyboxHost: string): Promise<ArchiveSubject> {
  const r = await client.query<{ email: string | null }>('SELECT email FROM public.users WHERE id = $1', [user.id]);
  return { user_id: user.id, display_id: user.display_id, global_id: userGlobalId(toyboxHost, user.id), email_sha256: emailSha256(r.rows[0]?.email) };
}

/** Builds manifest.json and signs its exact bytes (manifest.sig). */
export function signManifest(input: {
  exportedAt: string;
  subject: ArchiveSubject;
  files: ManifestFile[];
  signer: { site: string; key: SigningKey };
  toyboxHost: string;
}): { manifest: Buffer; signature: Buffer } {
  const doc: Manifest = {
    format_version: FORMAT_VERSION,
    exported_at: input.exportedAt,
    site: input.signer.site,
    toybox_site: input.toyboxHost,
    subject: input.subject,
    algorithm: SIGNING_ALGORITHM,
    key_id: input.signer.key.keyId,
    note:
      'Size and SHA-256 of every other file in this archive, signed in manifest.sig / このアーカイブ内の各ファイルの大きさと SHA-256（manifest.sig で署名）',
    files: input.files,
  };
  const manifest = Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
  const sig: SignatureDoc = {
    algorithm: SIGNING_ALGORITHM,
    key_id: input.signer.key.keyId,
    signed_file: MANIFEST_FILE,
    signature: signBytes(input.signer.key, manifest),
  };
  return { manifest, signature: Buffer.from(`${JSON.stringify(sig, null, 2)}\n`) };
}

