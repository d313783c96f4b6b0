import type { Knex } from 'knex';
import { recordAudit } from '../../../audit/service';
import { normaliseAddress } from '../addresses/normalise';
import { suppressAddress } from '../addresses/suppressions';
import { deleteSuppression, findAddress, findSuppression, lockSuppression, searchAddressKeys, selectBounces, selectMessages, type AddressMatch } from './repo';

const MAX_MATCHES = 50;

/** What the address browser shows for one address: everything the portal knows about it. */
export async function describeAddress(db: Knex, key: string) {
  const [address, messages, bounces, suppression] = await Promise.all([findAddress(db, key), selectMessages(db, key), selectBounces(db, key), findSuppression(db, key)]);
  return { key, address: address ?? null, messages, bounces, suppression: suppression ?? null, clicks: messages.filter((m) => m.clicked_at).length };
}

export type AddressDetail = Awaited<ReturnType<typeof describeAddress>>;

/**
 * Searches by a whole address (normalised as on import, so full-width or
 * upper-case input finds it) or by a fragment of one. A whole address known
 * anywhere opens at once.
 */
export async function searchAddresses(db: Knex, query: string): Promise<{ matches: AddressMatch[]; detail: AddressDetail | null }> {
  const q = query.trim();
  if (!q) return { matches: [], detail: null };
  const n = normaliseAddress(q);
  const fragment = n.ok ? n.key : q.normalize('NFKC').toLowerCase();
  const matches = await searchAddressKeys(db, fragment, MAX_MATCHES);
  const exact = n.ok ? matches.find((m) => m.email_key === n.key) : matches.length === 1 ? matches[0] : undefined;
  return { matches, detail: exact ? await describeAddress(db, exact.email_key) : null };
}

/** Suppresses by hand (reason manual), audited in the same transaction; false when it already was. */
export async function suppressByAdmin(db: Knex, key: string, actor: string, note: string | null): Promise<boolean> {
  return db.transaction(async (trx) => {
    const added = await suppressAddress(trx, key, 'manual', note ? `${note} (${actor})` : `by ${actor}`);
    if (added) await recordAudit(trx, actor, 'campaigns.address_suppress', `address:${key}`, { note });
    return added;
  });
}

/**
 * Lifts a suppression (an admin decided the person wants mail again),
 * audited with the reason it had. Recipients already skipped stay skipped:
 * only future campaigns include the address again.
 */
export async function unsuppressByAdmin(db: Knex, key: string, actor: string): Promise<boolean> {
  return db.transaction(async (trx) => {
    const row = await lockSuppression(trx, key);
    if (!row) return false;
    await deleteSuppression(trx, key);
    await recordAudit(trx, actor, 'campaigns.address_unsuppress', `address:${key}`, { was: row.reason, since: row.created_at.toISOString() });
    return true;
  });
}
