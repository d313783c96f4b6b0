import url from 'node:url';

export type Normalised = { ok: true; email: string; key: string } | { ok: false; reason: RejectReason };
export type RejectReason = 'empty' | 'no_at' | 'bad_local' | 'bad_domain' | 'placeholder' | 'too_long';

/** TOYBOX stored `<display_id>@toybox.local` for users without e-mail: never a real mailbox. */
export const PLACEHOLDER_DOMAIN = 'toybox.local';

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Trims, applies NFKC (full-width `＠` and letters from Japanese input become
 * ASCII), strips `mailto:` and angle brackets, lower-cases the domain and
 * converts an IDN domain to its ASCII (punycode) form. The key used to merge
 * duplicates is the whole address lower-cased.
 */
export function normaliseAddress(input: string): Normalised {
  let s = input.normalize('NFKC').trim();
  s = s.replace(/^mailto:/i, '').replace(/^<(.*)>$/, '$1').trim();
  if (!s) return { ok: false, reason: 'empty' };
  const at = s.lastIndexOf('@');
  if (at < 0) return { ok: false, reason: 'no_at' };
  const local = s.slice(0, at);
  const rawDomain = s.slice(at + 1).replace(/\.$/, '').toLowerCase();
  if (!local || local.length > 64 || !LOCAL_PART.test(local)) return { ok: false, reason: 'bad_local' };
  const domain = url.domainToASCII(rawDomain);
  if (!domain || !domain.includes('.') || !domain.split('.').every((l) => DOMAIN_LABEL.test(l)) || /^\d+$/.test(domain.split('.').pop()!)) {
    return { ok: false, reason: 'bad_domain' };
  }
  if (domain === PLACEHOLDER_DOMAIN || domain.endsWith(`.${PLACEHOLDER_DOMAIN}`)) return { ok: false, reason: 'placeholder' };
  const email = `${local}@${domain}`;
  if (email.length > 254) return { ok: false, reason: 'too_long' };
  return { ok: true, email, key: email.toLowerCase() };
}

/** The key an address is merged and suppressed by, or null when it is not a valid address. */
export function addressKey(input: string): string | null {
  const n = normaliseAddress(input);
  return n.ok ? n.key : null;
}

const DISPLAY_ID = /^[a-z0-9_]{3,30}$/;

/** TOYBOX display ids are lower-case `[a-z0-9_]`, 3-30 characters; anything else is kept as a name instead. */
export function normaliseDisplayId(input: string | undefined | null): string | null {
  if (!input) return null;
  const s = input.normalize('NFKC').trim().replace(/^@/, '').toLowerCase();
  return DISPLAY_ID.test(s) ? s : null;
}
