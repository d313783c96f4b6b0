import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { addressKey } from '../addresses/normalise';
import { splitMbox, decodeInput } from '../addresses/parse';
import { suppressAddress } from '../addresses/suppressions';
import { verifyLink } from '../links/signed-links';

export type BounceKind = 'hard' | 'soft' | 'complaint';

export interface BounceEvent {
  email: string;
  kind: BounceKind;
  status?: string | null;
  reason?: string | null;
  /** Makes a redelivered webhook or a re-imported report count once. */
  dedupeKey?: string | null;
  source: string;
}

/**
 * Records a bounce: hard bounces and complaints suppress the address for
 * good; soft bounces are counted on the recipient rows already sent to.
 * Returns false for an event seen before or an invalid address.
 */
export async function recordBounce(knex: Knex, ev: BounceEvent): Promise<'recorded' | 'duplicate' | 'invalid'> {
  const key = addressKey(ev.email);
  if (!key) return 'invalid';
  return knex.transaction(async (trx) => {
    const ins = await trx.raw<{ rowCount: number }>(
      `INSERT INTO portal.bounce_events (email_key, kind, status_code, reason, source, dedupe_key) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (dedupe_key) DO NOTHING`,
      [key, ev.kind, ev.status ?? null, ev.reason?.slice(0, 500) ?? null, ev.source, ev.dedupeKey ?? null],
    );
    if (ins.rowCount === 0) return 'duplicate';
    if (ev.kind === 'soft') {
      await trx('portal.campaign_recipients').where({ email_key: key, status: 'sent' }).increment('soft_bounces', 1);
    } else {
      await trx('portal.campaign_recipients').where({ email_key: key, status: 'sent' }).whereNull('hard_bounced_at').update({ hard_bounced_at: trx.fn.now() });
      await suppressAddress(trx, key, ev.kind === 'hard' ? 'hard_bounce' : 'complaint', `${ev.status ?? ''} ${ev.reason ?? ''}`.trim() || null);
    }
    return 'recorded';
  });
}

export interface DsnRecipient {
  recipient: string;
  action: string;
  status: string;
  diagnostic: string | null;
}

/** The per-recipient fields of an RFC 3464 message/delivery-status part. */
export function parseDeliveryStatus(raw: string): DsnRecipient[] {
  const text = raw.replace(/\r\n/g, '\n').replace(/\n[ \t]+/g, ' ');
  const out: DsnRecipient[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'im').exec(block)?.[1]?.trim() ?? null;
    const final = field('Final-Recipient') ?? field('Original-Recipient');
    const action = field('Action');
    if (!final || !action) continue;
    out.push({
      recipient: final.replace(/^rfc822\s*;\s*/i, '').replace(/^<|>$/g, ''),
      action: action.toLowerCase(),
      status: field('Status') ?? '',
      diagnostic: field('Diagnostic-Code'),
    });
  }
  return out;
}

/** failed + 5.x.x is hard; delayed, or failed with a 4.x.x status, is soft; delivered/relayed/expanded are not bounces. */
export function classifyDsn(r: DsnRecipient): BounceKind | null {
  if (r.action === 'failed') return r.status.startsWith('4') ? 'soft' : 'hard';
  if (r.action === 'delayed') return 'soft';
  return null;
}

export interface BounceImportResult {
  reports: number;
  hard: number;
  soft: number;
  duplicates: number;
  unsubscribes: number;
  unreadable: number;
}

/**
 * A reply to the List-Unsubscribe mailto: carries `unsubscribe <token>` in
 * its subject; the token is checked like the https one, so a forged
 * request cannot unsubscribe anyone else.
 */
async function mailtoUnsubscribe(knex: Knex, raw: string, secret: string): Promise<boolean> {
  const subject = /^Subject:\s*(.*)$/im.exec(raw)?.[1] ?? '';
  const token = /unsubscribe\s+([0-9a-z]+\.[0-9a-z]+\.[0-9a-z]+\.[A-Za-z0-9_-]{22})/i.exec(subject)?.[1];
  const claims = token ? verifyLink(secret, 'u', token) : null;
  if (!claims) return false;
  const r = await knex('portal.campaign_recipients').where({ id: claims.recipientId, campaign_id: claims.campaignId }).first('email_key');
  if (!r) return false;
  await knex.transaction(async (trx) => {
    await trx('portal.campaign_recipients').where({ id: claims.recipientId }).whereNull('unsubscribed_at').update({ unsubscribed_at: trx.fn.now() });
    await suppressAddress(trx, r.email_key, 'unsubscribed', 'mailto request', claims.campaignId);
  });
  return true;
}

/** Imports every delivery-status report (and mailto: unsubscribe request) of an mbox; importing the same file twice counts nothing twice. */
export async function importBounceMbox(knex: Knex, buf: Buffer, filename: string, secret?: string): Promise<BounceImportResult> {
  const result: BounceImportResult = { reports: 0, hard: 0, soft: 0, duplicates: 0, unsubscribes: 0, unreadable: 0 };
  for (const msg of splitMbox(decodeInput(buf, 'utf-8'))) {
    const recipients = parseDeliveryStatus(msg.raw);
    if (!recipients.length) {
      if (secret && (await mailtoUnsubscribe(knex, msg.raw, secret))) {
        result.unsubscribes++;
        continue;
      }
      result.unreadable++;
      continue;
    }
    result.reports++;
    const msgId = /^Message-ID:\s*(\S+)/im.exec(msg.raw)?.[1] ?? crypto.createHash('sha256').update(msg.raw).digest('hex').slice(0, 32);
    for (const r of recipients) {
      const kind = classifyDsn(r);
      if (!kind) continue;
      const outcome = await recordBounce(knex, {
        email: r.recipient,
        kind,
        status: r.status,
        reason: r.diagnostic,
        source: `dsn:${filename}`,
        dedupeKey: `dsn:${msgId}:${r.recipient.toLowerCase()}`,
      });
      if (outcome === 'duplicate') result.duplicates++;
      else if (outcome === 'recorded') result[kind === 'soft' ? 'soft' : 'hard']++;
    }
  }
  return result;
}
