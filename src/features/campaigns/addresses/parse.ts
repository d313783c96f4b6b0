import path from 'node:path';
import iconv from 'iconv-lite';
import { parse as parseCsv } from 'csv-parse/sync';
import { simpleParser } from 'mailparser';

export type ImportFormat = 'csv' | 'list' | 'maillog' | 'mbox';
export type InputEncoding = 'utf-8' | 'shift_jis';

/** One address-bearing row of an input file, before normalisation. */
export interface Candidate {
  line: number;
  file?: string;
  raw: string;
  displayId?: string | null;
  name?: string | null;
  source?: string | null;
  lang?: string | null;
}

export interface Table {
  header: string[] | null;
  records: Array<{ line: number; cells: string[] }>;
}

/** Which column holds what (0-based); only `address` is required. */
export interface Mapping {
  address: number;
  displayId?: number | null;
  name?: number | null;
  source?: number | null;
  lang?: number | null;
}

/**
 * Decodes an upload: a UTF-8 BOM wins; an explicit encoding is obeyed
 * (Shift_JIS is read as CP932, what Japanese Excel actually writes);
 * otherwise UTF-8 when the bytes are valid UTF-8, else CP932.
 */
export function decodeInput(buf: Buffer, encoding?: InputEncoding): string {
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.subarray(3).toString('utf8');
  if (encoding === 'shift_jis') return iconv.decode(buf, 'cp932');
  if (encoding === 'utf-8') return buf.toString('utf8');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return iconv.decode(buf, 'cp932');
  }
}

/** Picks a format from the file name, then from the content. */
export function detectFormat(filename: string, text: string): ImportFormat {
  const ext = path.extname(filename).toLowerCase();
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  if (ext === '.mbox' || ext === '.eml') return 'mbox';
  const head = text.slice(0, 4096);
  if (/^From \S+.*\n[\w-]+:/m.test(head) || /^(Return-Path|Received|From|Message-ID):/im.test(head.split('\n')[0] ?? '')) return 'mbox';
  if (/\bto=<[^>]*>/.test(head)) return 'maillog';
  const first = head.split(/\r?\n/)[0] ?? '';
  if (first.includes('\t') || first.includes(',') || first.includes(';')) return 'csv';
  return 'list';
}

export function pickDelimiter(firstLine: string): string {
  if (firstLine.includes('\t')) return '\t';
  return (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
}

export const looksLikeAddress = (s: string) => /[@＠]/.test(s) && !/\s/.test(s.trim().normalize('NFKC'));

/** CSV or TSV with or without a header row; line numbers count physical lines (quoted newlines included). */
export function readTable(text: string): Table {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const rows = parseCsv(text, {
    delimiter: pickDelimiter(firstLine),
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    info: true,
    trim: true,
  }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  const records = rows.map((r) => ({ line: r.info.lines, cells: r.record }));
  const first = records[0];
  if (first && !first.cells.some(looksLikeAddress)) {
    return { header: first.cells, records: records.slice(1) };
  }
  return { header: null, records };
}

const HEADER_NAMES: Record<keyof Mapping, RegExp> = {
  address: /^(e-?mail|mail|email ?address|e-?mail ?address|address|メール|メールアドレス|ﾒｰﾙｱﾄﾞﾚｽ|電子メール|アドレス|連絡先)$/i,
  displayId: /^(display[ _-]?id|login|login[ _-]?id|user[ _-]?id|username|表示id|ユーザーid|ユーザid|ログインid|id)$/i,
  name: /^(name|display[ _-]?name|nickname|名前|氏名|表示名|ニックネーム|お名前)$/i,
  source: /^(source|origin|出典|取得元|ソース)$/i,
  lang: /^(lang|language|locale|言語)$/i,
};

function findHeader(header: string[], field: keyof Mapping): number | null {
  const i = header.findIndex((h) => HEADER_NAMES[field].test(h.normalize('NFKC').trim()));
  return i >= 0 ? i : null;
}

export class MappingError extends Error {}

/**
 * The address column: `column` (a header name or 1-based number) when given,
 * else a header named like an address column (Japanese or English), else the
 * column whose cells most often look like addresses.
 */
export function guessMapping(table: Table, column?: string): Mapping {
  const width = Math.max(0, ...table.records.slice(0, 200).map((r) => r.cells.length), table.header?.length ?? 0);
  let address: number | null = null;
  if (column) {
    if (/^\d+$/.test(column)) address = Number(column) - 1;
    else if (table.header) {
      const i = table.header.findIndex((h) => h.normalize('NFKC').trim().toLowerCase() === column.normalize('NFKC').trim().toLowerCase());
      address = i >= 0 ? i : null;
    }
    if (address === null || address < 0 || address >= width) throw new MappingError(`column "${column}" not found`);
  }
  if (address === null && table.header) address = findHeader(table.header, 'address');
  if (address === null) {
    const sample = table.records.slice(0, 200);
    let best = -1;
    let bestCount = 0;
    for (let c = 0; c < width; c++) {
      const n = sample.filter((r) => looksLikeAddress(r.cells[c] ?? '')).length;
      if (n > bestCount) [best, bestCount] = [c, n];
    }
    if (best < 0) throw new MappingError('no column looks like e-mail addresses');
    address = best;
  }
  const h = table.header;
  return {
    address,
    displayId: h ? findHeader(h, 'displayId') : null,
    name: h ? findHeader(h, 'name') : null,
    source: h ? findHeader(h, 'source') : null,
    lang: h ? findHeader(h, 'lang') : null,
  };
}

/** One table row as an address candidate, by the admin's column mapping (shared by the in-memory and streamed imports). */
export function candidateFrom(r: { line: number; cells: string[] }, m: Mapping): Candidate {
  const cell = (i: number | null | undefined) => (i === null || i === undefined ? null : (r.cells[i] ?? '').trim() || null);
  return { line: r.line, raw: r.cells[m.address] ?? '', displayId: cell(m.displayId), name: cell(m.name), source: cell(m.source), lang: cell(m.lang) };
}

export function tableCandidates(table: Table, m: Mapping): Candidate[] {
  return table.records.map((r) => candidateFrom(r, m));
}

/** One address per line; `Name <addr>` is accepted; blank lines and `#` comments are skipped. */
export function listCandidates(text: string): Candidate[] {
  const out: Candidate[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    const line = l.trim();
    if (!line || line.startsWith('#')) return;
    const angle = /<([^>]*)>/.exec(line);
    out.push({ line: i + 1, raw: angle ? angle[1]! : line, name: angle ? line.slice(0, angle.index).trim().replace(/^"|"$/g, '') || null : null });
  });
  return out;
}

/** Postfix/sendmail logs: every `to=<...>` recipient; other log lines are noise, not errors. */
export function maillogCandidates(text: string): Candidate[] {
  const out: Candidate[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    for (const m of l.matchAll(/\bto=<([^>]*)>/g)) if (m[1]) out.push({ line: i + 1, raw: m[1] });
  });
  return out;
}

const DISPLAY_ID_IN_BODY =
  /(?:display[ _-]?id|表示\s*ID|ユーザー\s*ID|ユーザID|ログイン\s*ID|TOYBOX\s*ID|ID)\s*[:：]\s*@?([A-Za-z0-9_]{3,30})/i;

/** Splits an mbox on its `From ` separator lines, keeping each message's first line number. */
export function splitMbox(text: string): Array<{ line: number; raw: string }> {
  const lines = text.split('\n');
  const out: Array<{ line: number; raw: string }> = [];
  let start = -1;
  for (let i = 0; i <= lines.length; i++) {
    if (i === lines.length || (lines[i]!.startsWith('From ') && (i === 0 || lines[i - 1]!.trim() === ''))) {
      if (start >= 0) out.push({ line: start + 1, raw: lines.slice(start + 1, i).join('\n').replace(/^>(>*From )/gm, '$1') });
      start = i;
    }
  }
  if (out.length === 0 && text.trim()) out.push({ line: 1, raw: text });
  return out;
}

/** A contact-form message: the sender (Reply-To, else From) and the display id the body names, if any. */
export async function messageCandidate(raw: string | Buffer, line: number, file?: string): Promise<Candidate> {
  const mail = await simpleParser(raw);
  const replyTo = mail.replyTo?.value[0];
  const from = mail.from?.value[0];
  const who = replyTo?.address ? replyTo : from;
  const body = `${mail.text ?? ''}`.normalize('NFKC');
  const id = DISPLAY_ID_IN_BODY.exec(body)?.[1] ?? null;
  return { line, file, raw: who?.address ?? '', name: who?.name || null, displayId: id };
}

export async function mboxCandidates(text: string): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const m of splitMbox(text)) out.push(await messageCandidate(m.raw, m.line));
  return out;
}
