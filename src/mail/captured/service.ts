import fs from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { outboxDir } from '../mailer';
import { formatJst } from '../../i18n/tokyo-time';

/*
 * Captured mail: with no SMTP_URL the mailer writes every message as an .eml
 * file to DATA_DIR/outbox instead of sending it (src/mail/mailer.ts). These
 * read them back for the admin's viewer; nothing here writes.
 */

/** The mailer's file names (src/mail/mailer.ts); anything else in the folder (a half-written temporary file) is not a message. */
const CAPTURED_NAME = /^[\w.-]+\.eml$/;
/** How many of the newest messages the list shows. */
const LIST_LIMIT = 200;
/** The list reads only each file's head: enough for its headers. */
const HEAD_BYTES = 8192;
/** The headers the message page shows, in this order. */
const SHOWN_HEADERS = ['from', 'to', 'subject', 'date', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post', 'list-id'];

export interface CapturedSummary {
  name: string;
  to: string;
  subject: string;
  date: Date | null;
}

export interface CapturedMessage {
  name: string;
  subject: string;
  headers: Array<[string, string]>;
  text: string;
  html: string | null;
}

/** The newest captured messages first (file names start with their time), and how many there are in all. */
export async function listCapturedMail(dataDir: string): Promise<{ items: CapturedSummary[]; total: number }> {
  const dir = outboxDir(dataDir);
  const files = (await fs.promises.readdir(dir).catch(() => [] as string[])).filter((f) => CAPTURED_NAME.test(f)).sort().reverse();
  const items = await Promise.all(
    files.slice(0, LIST_LIMIT).map(async (name) => {
      const head = (await fs.promises.readFile(path.join(dir, name))).subarray(0, HEAD_BYTES);
      const parsed = await simpleParser(head, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
      return { name, to: parsed.to ? [parsed.to].flat().map((a) => a.text).join(', ') : '', subject: parsed.subject ?? '', date: parsed.date ?? null };
    }),
  );
  return { items, total: files.length };
}

/** One captured message by its file name (already checked to be a plain .eml name); null when there is no such file. */
export async function readCapturedMail(dataDir: string, name: string): Promise<CapturedMessage | null> {
  const raw = await fs.promises.readFile(path.join(outboxDir(dataDir), name)).catch(() => null);
  if (!raw) return null;
  const mail = await simpleParser(raw);
  const headers = SHOWN_HEADERS.map((h): [string, string] => [h, mail.headerLines.find((l) => l.key === h)?.line.replace(/^[^:]+:\s*/, '') ?? '']);
  // The raw Date header is what mail clients read; the Japan time beside it is for the admin.
  if (mail.date) headers.find((h) => h[0] === 'date')![1] += ` (${formatJst(mail.date)})`;
  return { name, subject: mail.subject ?? '', headers, text: mail.text ?? '', html: mail.html || null };
}
