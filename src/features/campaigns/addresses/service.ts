import path from 'node:path';
import fs from 'node:fs';
import type { Knex } from 'knex';
import { normaliseAddress, normaliseDisplayId, type RejectReason } from './normalise';
import {
  decodeInput,
  detectFormat,
  readTable,
  guessMapping,
  tableCandidates,
  listCandidates,
  maillogCandidates,
  mboxCandidates,
  messageCandidate,
  type Candidate,
  type ImportFormat,
  type InputEncoding,
  type Mapping,
} from './parse';
import { upsertAddresses, type AddressRow } from './repo';

// Reads and bookkeeping the admin pages need, passed through so routes never reach the repository.
export { countAddresses as countKnownAddresses, insertImportRun, updateImportRun, findImportRun, recentImportRuns } from './repo';

export interface Rejected {
  line: number;
  file?: string;
  value: string;
  reason: RejectReason;
}

export interface ImportResult {
  total: number;
  imported: number;
  merged: number;
  unchanged: number;
  rejected: Rejected[];
}

export type Progress = (done: number, total: number) => void;

const CHUNK = 2000;

function langOf(v: string | null | undefined): 'ja' | 'en' {
  return v && /^(en|eng|english|英語)/i.test(v.normalize('NFKC').trim()) ? 'en' : 'ja';
}

/**
 * Normalises, validates and merges candidates, then writes them in chunks.
 * merged = rows that joined an address seen earlier in the file or already
 * known; unchanged = known addresses this import added nothing to.
 */
export async function importCandidates(knex: Knex, candidates: Candidate[], sourceLabel: string, onProgress?: Progress): Promise<ImportResult> {
  const rejected: Rejected[] = [];
  const byKey = new Map<string, AddressRow>();
  let inFileDuplicates = 0;
  for (const c of candidates) {
    const n = normaliseAddress(c.raw);
    if (!n.ok) {
      rejected.push({ line: c.line, ...(c.file ? { file: c.file } : {}), value: c.raw.slice(0, 200), reason: n.reason });
      continue;
    }
    const displayId = normaliseDisplayId(c.displayId);
    const name = c.name?.normalize('NFKC').trim() || (c.displayId && !displayId ? c.displayId.trim() : null);
    const source = c.source?.trim() || sourceLabel;
    const seen = byKey.get(n.key);
    if (seen) {
      inFileDuplicates++;
      seen.display_id ??= displayId;
      seen.name ??= name;
      if (!seen.sources.includes(source)) seen.sources.push(source);
      continue;
    }
    byKey.set(n.key, { email: n.email, email_key: n.key, display_id: displayId, name, lang: langOf(c.lang), sources: [source] });
  }
  const rows = [...byKey.values()];
  for (const r of rows) r.sources.sort();
  let inserted = 0;
  let updated = 0;
  onProgress?.(0, rows.length);
  for (let i = 0; i < rows.length; i += CHUNK) {
    const r = await upsertAddresses(knex, rows.slice(i, i + CHUNK));
    inserted += r.inserted;
    updated += r.updated;
    onProgress?.(Math.min(i + CHUNK, rows.length), rows.length);
  }
  return {
    total: candidates.length,
    imported: inserted,
    merged: inFileDuplicates + (rows.length - inserted),
    unchanged: rows.length - inserted - updated,
    rejected,
  };
}

export interface ImportOptions {
  format?: ImportFormat;
  encoding?: InputEncoding;
  column?: string;
  mapping?: Mapping;
  source?: string;
}

/** Turns a file's bytes into candidates according to its format (given or detected). */
export async function candidatesFromBuffer(buf: Buffer, filename: string, opts: ImportOptions = {}): Promise<{ format: ImportFormat; candidates: Candidate[] }> {
  const text = decodeInput(buf, opts.encoding);
  const format = opts.format ?? detectFormat(filename, text);
  switch (format) {
    case 'csv': {
      const table = readTable(text);
      return { format, candidates: tableCandidates(table, opts.mapping ?? guessMapping(table, opts.column)) };
    }
    case 'list':
      return { format, candidates: listCandidates(text) };
    case 'maillog':
      return { format, candidates: maillogCandidates(text) };
    case 'mbox':
      return { format, candidates: await mboxCandidates(text) };
  }
}

/** A folder of .eml files: one candidate per message, named by file. */
/** A folder given to `addresses import` that holds no mail: refused rather than imported as zero rows. */
export class NotAMailFolder extends Error {
  constructor(readonly dir: string) {
    super(`${dir} is not a mail folder: expected a Maildir (with cur/ and new/) or a folder of .eml files`);
  }
}

const isDir = async (p: string) => (await fs.promises.stat(p).catch(() => null))?.isDirectory() ?? false;

/** The message files of a Maildir (cur/ and new/) or of a folder of .eml files; NotAMailFolder for anything else. */
async function mailFolderFiles(dir: string): Promise<Array<{ file: string; label: string }>> {
  if ((await isDir(path.join(dir, 'cur'))) && (await isDir(path.join(dir, 'new')))) {
    const out: Array<{ file: string; label: string }> = [];
    for (const sub of ['cur', 'new']) {
      for (const f of (await fs.promises.readdir(path.join(dir, sub))).filter((n) => !n.startsWith('.')).sort()) {
        out.push({ file: path.join(dir, sub, f), label: `${sub}/${f}` });
      }
    }
    return out;
  }
  const emls = (await fs.promises.readdir(dir)).filter((f) => f.toLowerCase().endsWith('.eml')).sort();
  if (emls.length === 0) throw new NotAMailFolder(dir);
  return emls.map((f) => ({ file: path.join(dir, f), label: f }));
}

async function candidatesFromFolder(dir: string): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const { file, label } of await mailFolderFiles(dir)) out.push(await messageCandidate(await fs.promises.readFile(file), 1, label));
  return out;
}

/** Imports a file or a folder of .eml files from disk (the CLI's entry). */
export async function importAddressFile(knex: Knex, file: string, opts: ImportOptions = {}, onProgress?: Progress): Promise<ImportResult & { format: ImportFormat }> {
  const stat = await fs.promises.stat(file);
  const label = opts.source ?? path.basename(file);
  if (stat.isDirectory()) {
    const candidates = await candidatesFromFolder(file);
    return { format: 'mbox', ...(await importCandidates(knex, candidates, `mbox:${label}`, onProgress)) };
  }
  const { format, candidates } = await candidatesFromBuffer(await fs.promises.readFile(file), file, opts);
  return { format, ...(await importCandidates(knex, candidates, opts.source ?? `${format}:${label}`, onProgress)) };
}
