import fs from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import type { AppContext } from '../app-context';
import { translator, type Lang } from '../i18n';
import { EMAILS, type EmailName } from './definitions';
import { renderEmail, EMAIL_VIEWS } from './render';
import type { SendResult } from './mailer';
import { logger } from '../logger';

export interface EmailToSend {
  to: string | string[];
  lang: Lang;
  locals: Record<string, unknown>;
  /** Words after the definition's subject (an alert's title); bilingual e-mails give both languages. */
  subjectDetail?: { ja: string; en: string } | string;
  /** Values the subject's locale text interpolates (`{state}`, `{title}`). */
  subjectVars?: Record<string, string | number>;
  /** Extra headers (List-Unsubscribe for mail people subscribed to). */
  headers?: Record<string, string>;
  /** A fixed Message-ID (`<...@domain>`), identical on every attempt of the same message (src/mail/send-queue.ts). */
  messageId?: string;
}

/** The subject of a definition's e-mail: its locale key, Japanese first and English after a slash when bilingual. */
export function emailSubject(name: EmailName, lang: Lang, detail?: EmailToSend['subjectDetail'], vars?: EmailToSend['subjectVars']): string {
  const def = EMAILS[name];
  if (def.subject === 'campaign') throw new Error(`e-mail ${name}: the subject is the campaign's own`);
  const part = (l: Lang) => {
    const d = typeof detail === 'string' ? detail : detail?.[l];
    return [translator(l)(def.subject, vars), d].filter(Boolean).join(' ');
  };
  if (!def.bilingual) return part(lang);
  const en = typeof detail === 'string' || !detail ? '' : detail.en;
  return `${part('ja')} / ${en || translator('en')(def.subject, vars)}`;
}

/**
 * Renders one of src/mail/definitions.ts's e-mails (template and subject from its definition) and sends it
 * now. Features call this from a queue job's handler, so a failed send is retried by the queue.
 */
export async function sendEmail(ctx: AppContext, name: EmailName, mail: EmailToSend): Promise<SendResult> {
  if (EMAILS[name].delivery !== 'queue') throw new Error(`e-mail ${name} is sent directly: use sendEmailNow`);
  return render(ctx, name, mail);
}

/** Waits before the 2nd and 3rd attempt of a direct e-mail (a restarting SMTP relay, a dropped connection). */
export const DIRECT_RETRY_DELAYS_MS = [1000, 5000] as const;

/**
 * The one exception to "sent from a queue job": an alert (definitions with `delivery: 'direct'`) is sent at
 * once, without PostgreSQL, and retried here in process (up to 3 attempts, 1 s then 5 s apart), since the
 * queue cannot retry what must leave while the database is down. Throws the last error.
 */
export async function sendEmailNow(ctx: AppContext, name: EmailName, mail: EmailToSend, delaysMs: readonly number[] = DIRECT_RETRY_DELAYS_MS): Promise<SendResult> {
  if (EMAILS[name].delivery !== 'direct') throw new Error(`e-mail ${name} goes through the queue: use sendEmail from its job`);
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await render(ctx, name, mail);
    } catch (err) {
      const wait = delaysMs[attempt];
      if (wait === undefined) throw err;
      logger.warn({ err, email: name, attempt: attempt + 1 }, 'alert e-mail failed; trying again');
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

async function render(ctx: AppContext, name: EmailName, mail: EmailToSend): Promise<SendResult> {
  const def = EMAILS[name];
  const lang = def.bilingual ? 'ja' : mail.lang;
  const { html, text } = await renderEmail(def.template, lang, mail.locals);
  return ctx.mailer.send({ to: mail.to, subject: emailSubject(name, lang, mail.subjectDetail, mail.subjectVars), html, text, ...(mail.headers ? { headers: mail.headers } : {}), ...(mail.messageId ? { messageId: mail.messageId } : {}) });
}

const compiled = new Map<EmailName, { html: ejs.TemplateFunction; text: ejs.TemplateFunction }>();

/** A definition's two templates compiled once per process, for senders that render thousands of messages (campaigns). */
export function compiledEmail(name: EmailName): { html: ejs.TemplateFunction; text: ejs.TemplateFunction } {
  let c = compiled.get(name);
  if (!c) {
    const file = (part: 'html' | 'text') => fs.readFileSync(path.join(EMAIL_VIEWS, `${EMAILS[name].template}.${part}.ejs`), 'utf8');
    c = { html: ejs.compile(file('html')), text: ejs.compile(file('text'), { escape: (s: unknown) => String(s ?? '') }) };
    compiled.set(name, c);
  }
  return c;
}
