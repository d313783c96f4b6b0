import crypto from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { parser } from 'stream-json';
import { z } from 'zod';
import { trustedKeys, verifyBytes, SIGNING_ALGORITHM, type TrustedKey, type SigningKeyConfig } from '../auth/archive-signing';
import { DataJsonCheck, type JsonToken } from './data-check';
import { MANIFEST_FILE, SIGNATURE_FILE, toyboxHostOf, type ArchiveSubject } from './format';

/**
 * Checks an export archive without extracting it: every entry is streamed
 * through SHA-256 (and data.json through a streaming JSON parser), nothing is
 * written anywhere. Hostile archives (too many entries, too large, bomb-like
 * compression ratios, unsafe or non-UTF-8 names, duplicates, encryption) are
 * refused before their data is read. Pure: no Express, no database.
 */

export interface VerifyLimits {
  maxEntries: number;
  /** Sum of the entries' uncompressed sizes. */
  maxTotalBytes: number;
  /** Uncompressed / compressed, for entries over 1 MB (deflate tops out near 1,030:1; real exports stay far below 200). */
  maxRatio: number;
  /** manifest.json is held in memory to check its signature. */
  maxManifestBytes: number;
}

export const DEFAULT_LIMITS: VerifyLimits = {
  maxEntries: 200_000,
  maxTotalBytes: 16 * 1024 ** 3,
  maxRatio: 200,
  maxManifestBytes: 64 * 1024 ** 2,
};

export type ProblemCode =
  | 'unreadable'
  | 'refused'
  | 'unsigned'
  | 'bad_signature_file'
  | 'foreign_key'
  | 'bad_signature'
  | 'bad_manifest'
  | 'other_site'
  | 'file_missing'
  | 'file_changed'
  | 'unlisted_file'
  | 'bad_data';

export interface Problem {
  code: ProblemCode;
  message: string;
}

export interface VerifyResult {
  /** Signed by one of this site's keys, for this site, and every file and row as signed. */
  valid: boolean;
  /** The signature verified against one of this site's keys (the files may still differ). */
  signatureValid: boolean;
  keyId: string | null;
  site: string | null;
  exportedAt: string | null;
  /** Who the manifest says the archive is about (trust it only when `valid`). */
  subject: ArchiveSubject | null;
  problems: Problem[];
}

export interface VerifyOptions {
  keys: TrustedKey[];
  /** This portal's PUBLIC_URL. */
  site: string;
  /** TOYBOX_URL's host (global ids). */
  toyboxHost: string;
  limits?: Partial<VerifyLimits>;
}

const digestSchema = z.object({ path: z.string(), size: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
const manifestSchema = z.object({
  format_version: z.number().int(),
  exported_at: z.string(),
  site: z.string(),
  toybox_site: z.string(),
  subject: z.object({ user_id: z.number().int(), display_id: z.string(), global_id: z.string(), email_sha256: z.string().nullable() }),
  algorithm: z.string(),
  key_id: z.string(),
  files: z.array(digestSchema),
});
const signatureSchema = z.object({ algorithm: z.string(), key_id: z.string(), signature: z.string() });

class Refused extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The entry's name as text, or why it is refused (never used as a path on disk, but still held to the rules). */
export function entryName(entry: yauzl.Entry): string {
  const raw = entry.fileName as unknown as Buffer;
  let name: string;
  try {
    name = utf8.decode(raw);
  } catch {
    throw new Refused(`an entry name is not valid UTF-8 (bytes ${raw.subarray(0, 40).toString('hex')})`);
  }
  const shown = JSON.stringify(name.slice(0, 200));
  const unsafe = yauzl.validateFileName(name);
  if (unsafe) throw new Refused(`unsafe entry name ${shown}: ${unsafe}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new Refused(`entry name ${shown} contains control characters`);
  if (name.split('/').some((s) => s === '.')) throw new Refused(`unsafe entry name ${shown}`);
  return name;
}

interface Read {
  size: number;
  sha256: string;
}

async function readEntry(stream: Readable, onChunk: ((chunk: Buffer) => Promise<void> | void) | null): Promise<Read> {
  const hash = crypto.createHash('sha256');
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    if (onChunk) await onChunk(chunk);
  }
  return { size, sha256: hash.digest('hex') };
}

/** Feeds data.json through stream-json's tokenizer into the row checks, with back-pressure. */
export function dataJsonFeeder(check: DataJsonCheck): { write: (chunk: Buffer) => Promise<void>; end: () => Promise<string | null> } {
  const p = parser({ packValues: true, packKeys: true, streamValues: false, streamKeys: false });
  let error: string | null = null;
  p.on('data', (t: JsonToken) => {
    try {
      check.token(t);
    } catch (err) {
      error = (err as Error).message;
    }
  });
  const ended = new Promise<void>((resolve) => {
    p.on('end', () => resolve());
    p.on('error', (err: Error) => {
      error = err.message;
      resolve();
    });
  });
  return {
    async write(chunk) {
      if (error) return;
      if (!p.write(chunk)) await Promise.race([once(p, 'drain'), ended]);
    },
    async end() {
      p.end();
      await ended;
      return error;
    },
  };
}

interface Collected {
  files: Map<string, Read>;
  manifest: Buffer | null;
  signature: Buffer | null;
  data: DataJsonCheck | null;
  dataError: string | null;
}

async function collect(zip: yauzl.ZipFile, opts: VerifyOptions, limits: VerifyLimits): Promise<Collected> {
  if (zip.entryCount > limits.maxEntries) throw new Refused(`the archive has ${zip.entryCount} entries; at most ${limits.maxEntries} are accepted`);
  const out: Collected = { files: new Map(), manifest: null, signature: null, data: null, dataError: null };
  let total = 0;
  for await (const entry of zip.eachEntry()) {
    const name = entryName(entry);
    if (name.endsWith('/')) continue;
    if (out.files.has(name)) throw new Refused(`the entry ${JSON.stringify(name)} appears twice`);
    if (entry.isEncrypted()) throw new Refused(`the entry ${JSON.stringify(name)} is encrypted`);
    // Unix mode in the high 16 bits of the external attributes (made by Unix): S_IFLNK is a symbolic link.
    if (((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000) throw new Refused(`the entry ${JSON.stringify(name)} is a symbolic link`);
    total += entry.uncompressedSize;
    if (total > limits.maxTotalBytes) throw new Refused(`the archive unpacks to more than ${limits.maxTotalBytes} bytes (ZIP bomb?)`);
    const ratio = entry.uncompressedSize / Math.max(1, entry.compressedSize);
    if (entry.uncompressedSize > 1024 ** 2 && ratio > limits.maxRatio) {
      throw new Refused(`the entry ${JSON.stringify(name)} expands ${Math.round(ratio)}:1 (${entry.uncompressedSize} bytes; ZIP bomb?)`);
    }
    const keep = name === MANIFEST_FILE || name === SIGNATURE_FILE;
    if (keep && entry.uncompressedSize > (name === MANIFEST_FILE ? limits.maxManifestBytes : 64 * 1024)) {
      throw new Refused(`${name} is implausibly large (${entry.uncompressedSize} bytes)`);
    }
    const stream = await zip.openReadStreamPromise(entry);
    if (keep) {
      const parts: Buffer[] = [];
      out.files.set(name, await readEntry(stream, (c) => void parts.push(c)));
      out[name === MANIFEST_FILE ? 'manifest' : 'signature'] = Buffer.concat(parts);
    } else if (name === 'data.json') {
      out.data = new DataJsonCheck(opts.toyboxHost);
      const feed = dataJsonFeeder(out.data);
      out.files.set(name, await readEntry(stream, feed.write));
      out.dataError = await feed.end();
    } else {
      out.files.set(name, await readEntry(stream, null));
    }
  }
  return out;
}

function parseJson<T>(bytes: Buffer, schema: z.ZodType<T>): T | null {
  try {
    const r = schema.safeParse(JSON.parse(bytes.toString('utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

function checkSignature(c: Collected, opts: VerifyOptions, add: (code: ProblemCode, message: string) => void): { keyId: string | null; ok: boolean } {
  if (!c.signature) {
    add('unsigned', `${SIGNATURE_FILE} is missing: the archive is not signed`);
    return { keyId: null, ok: false };
  }
  const sig = parseJson(c.signature, signatureSchema);
  if (!sig || sig.algorithm !== SIGNING_ALGORITHM) {
    add('bad_signature_file', `${SIGNATURE_FILE} is not an ${SIGNING_ALGORITHM} signature document`);
    return { keyId: sig?.key_id ?? null, ok: false };
  }
  const key = opts.keys.find((k) => k.keyId === sig.key_id);
  if (!key) {
    add('foreign_key', `signed with key ${sig.key_id}, which is not one of this site's keys (${opts.site}/.well-known/toybox-export-key)`);
    return { keyId: sig.key_id, ok: false };
  }
  if (!c.manifest || !verifyBytes(key.publicKey, c.manifest, sig.signature)) {
    add('bad_signature', `the signature does not match ${MANIFEST_FILE}: it was changed after signing, or the signature is forged`);
    return { keyId: sig.key_id, ok: false };
  }
  return { keyId: sig.key_id, ok: true };
}

/** Verifies one archive against the given keys; see VerifyResult. */
export async function verifyArchive(file: string, opts: VerifyOptions): Promise<VerifyResult> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const problems: Problem[] = [];
  const add = (code: ProblemCode, message: string) => problems.push({ code, message });
  const result = (extra: Partial<VerifyResult> = {}): VerifyResult => ({
    valid: false,
    signatureValid: false,
    keyId: null,
    site: null,
    exportedAt: null,
    subject: null,
    ...extra,
    problems,
  });

  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { decodeStrings: false, validateEntrySizes: true, autoClose: false, strictFileNames: false });
  } catch (err) {
    add('unreadable', `not a readable ZIP archive: ${(err as Error).message}`);
    return result();
  }
  let c: Collected;
  try {
    c = await collect(zip, opts, limits);
  } catch (err) {
    add(err instanceof Refused ? 'refused' : 'unreadable', err instanceof Refused ? `refused: ${err.message}` : `the archive is damaged: ${(err as Error).message}`);
    return result();
  } finally {
    zip.close();
  }

  const sig = checkSignature(c, opts, add);
  const manifest = c.manifest ? parseJson(c.manifest, manifestSchema) : null;
  if (!manifest) {
    add('bad_manifest', `${MANIFEST_FILE} is missing or not in this portal's format`);
    return result({ keyId: sig.keyId, signatureValid: sig.ok });
  }
  if (manifest.key_id !== sig.keyId && sig.keyId) add('bad_manifest', `${MANIFEST_FILE} names key ${manifest.key_id} but ${SIGNATURE_FILE} key ${sig.keyId}`);
  if (manifest.site !== opts.site) add('other_site', `made by ${manifest.site}, not by this site (${opts.site})`);
  checkFiles(c, manifest.files, add);
  checkData(c, manifest, add);
  return result({
    valid: problems.length === 0,
    signatureValid: sig.ok,
    keyId: sig.keyId,
    site: manifest.site,
    exportedAt: manifest.exported_at,
    subject: manifest.subject,
  });
}

function checkFiles(c: Collected, listed: Array<z.infer<typeof digestSchema>>, add: (code: ProblemCode, message: string) => void): void {
  const named = new Set<string>([MANIFEST_FILE, SIGNATURE_FILE]);
  for (const f of listed) {
    named.add(f.path);
    const got = c.files.get(f.path);
    if (!got) add('file_missing', `${f.path} is listed in the manifest but not in the archive`);
    else if (got.sha256 !== f.sha256 || got.size !== f.size) add('file_changed', `${f.path} differs from the manifest (changed after export)`);
  }
  for (const name of c.files.keys()) if (!named.has(name)) add('unlisted_file', `${name} is not listed in the manifest (added after export)`);
}

function checkData(c: Collected, manifest: z.infer<typeof manifestSchema>, add: (code: ProblemCode, message: string) => void): void {
  if (!c.data) return add('bad_data', 'data.json is missing');
  if (c.dataError) return add('bad_data', `data.json is not valid JSON: ${c.dataError}`);
  for (const p of c.data.finish()) add('bad_data', p);
  const u = c.data.user;
  if (u && (u.id !== manifest.subject.user_id || u.display_id !== manifest.subject.display_id)) {
    add('bad_data', `data.json is about user ${String(u.id)} (${String(u.display_id)}), the manifest about ${manifest.subject.user_id}`);
  }
  const listed = new Map(manifest.files.map((f) => [f.path, f.sha256]));
  for (const [p, sha] of c.data.mediaHashes) {
    if (listed.get(p) !== sha) add('bad_data', `data.json names ${p} with SHA-256 ${sha.slice(0, 12)}…, the manifest with ${listed.get(p)?.slice(0, 12) ?? 'nothing'}`);
  }
}

export interface ArchiveSiteConfig extends SigningKeyConfig {
  PUBLIC_URL: string;
  TOYBOX_URL: string;
}

/** Verifies an archive against this site's own keys (current and earlier). */
export async function verifyWithSiteKeys(config: ArchiveSiteConfig, file: string, limits?: Partial<VerifyLimits>): Promise<VerifyResult> {
  return verifyArchive(file, { keys: await trustedKeys(config), site: config.PUBLIC_URL, toyboxHost: toyboxHostOf(config.TOYBOX_URL), limits });
}

/**
 * What an archive proves for a restore into `user`'s account (RECOVERY.md
 * section 3): a valid archive of this site about this very account is proof
 * level 1; anything else (foreign, unsigned, edited, someone else's) is not
 * proof and goes to staff with the reason.
 */
export function archiveProof(result: VerifyResult, user: { id: number }): { level: 1 } | { level: null; reason: string } {
  if (!result.valid) return { level: null, reason: result.problems[0]?.message ?? 'not valid' };
  if (result.subject?.user_id !== user.id) return { level: null, reason: `the archive belongs to account ${result.subject?.user_id ?? '?'}, not ${user.id}` };
  return { level: 1 };
}
