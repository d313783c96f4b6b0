import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import type { Config } from '../config';
import { writeFileAtomic } from '../files/atomic-write';
import { ensurePrivateDir } from '../files/private';

export type MailMessage = Mail.Options;

export interface SendResult {
  messageId: string;
  accepted: string[];
  rejected: string[];
  /** Where the message went: the SMTP server, or the capture outbox file. */
  outboxFile?: string;
}

/** The only nodemailer user. Everything that sends mail goes through one of these. */
export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  send(message: MailMessage): Promise<SendResult>;
  close(): void;
}

export function outboxDir(dataDir: string): string {
  return path.join(dataDir, 'outbox');
}

function dkimOptions(config: Config) {
  if (!config.DKIM_DOMAIN || !config.DKIM_SELECTOR || !config.DKIM_PRIVATE_KEY_FILE) return undefined;
  return {
    domainName: config.DKIM_DOMAIN,
    keySelector: config.DKIM_SELECTOR,
    privateKey: fs.readFileSync(config.DKIM_PRIVATE_KEY_FILE, 'utf8'),
  };
}

/** The SMTP transport options for SMTP_URL (also used by `doctor` to verify the server without sending). */
export function smtpTransportOptions(config: Config, opts: { pool?: boolean; maxConnections?: number } = {}) {
  const url = new URL(config.SMTP_URL!);
  return {
    pool: opts.pool ?? true,
    maxConnections: opts.maxConnections ?? 5,
    maxMessages: Infinity,
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
    secure: url.protocol === 'smtps:',
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    // smtp://localhost without TLS is for local relays and test sinks
    ignoreTLS: url.searchParams.get('tls') === 'off',
    tls: { rejectUnauthorized: url.searchParams.get('tls') !== 'insecure' },
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
  };
}

/**
 * SMTP_URL: a pooled SMTP transport. Without it, every message is written as
 * an .eml file to DATA_DIR/outbox (atomically), which the admin reads in the
 * captured-mail viewer (src/mail/captured/), so the embedded default shows the whole flow.
 */
export function createMailer(
  config: Config,
  opts: { pool?: boolean; maxConnections?: number; onWriteFailure?: (file: string, err: unknown) => Promise<void>; onWriteSuccess?: () => Promise<void> } = {},
): Mailer {
  const defaults = { from: config.MAIL_FROM };
  if (config.SMTP_URL) {
    const transport = nodemailer.createTransport(
      { ...smtpTransportOptions(config, opts), dkim: dkimOptions(config) },
      defaults,
    );
    return {
      kind: 'smtp',
      async send(message) {
        const info = await transport.sendMail(message);
        return {
          messageId: info.messageId,
          accepted: info.accepted.map(String),
          rejected: info.rejected.map(String),
        };
      },
      close: () => transport.close(),
    };
  }
  const dir = outboxDir(config.DATA_DIR);
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix', dkim: dkimOptions(config) }, defaults);
  return {
    kind: 'outbox',
    async send(message) {
      const info = (await transport.sendMail(message)) as unknown as { messageId: string; envelope: { to: string[] }; message: Buffer };
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${crypto.randomBytes(4).toString('hex')}.eml`;
      const file = path.join(dir, name);
      try {
        await ensurePrivateDir(dir);
        await writeFileAtomic(file, info.message); // 0600: a message can carry a sign-in link
      } catch (err) {
        // the temporary file is already gone; the caller sees the error (a campaign retries, a job fails)
        await opts.onWriteFailure?.(file, err);
        throw err;
      }
      await opts.onWriteSuccess?.();
      return { messageId: info.messageId, accepted: info.envelope.to, rejected: [], outboxFile: name };
    },
    close: () => undefined,
  };
}
