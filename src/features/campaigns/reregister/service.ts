import type { Knex } from 'knex';
import type { Config } from '../../../config';
import type { LinkClaims } from '../links/signed-links';
import { findRecipient, recordClick } from '../lifecycle/repo';
import { displayIdHeldForAnother, displayIdInUse } from './repo';
import { registerAtToybox, type RegisterOutcome } from '../../../toybox/register-api';
import { attachEmailToPlaceholder, emailInUse } from '../../../toybox/reregistration';
import { toyboxSignupUrl } from '../../../toybox/signup';
import { authenticate } from '../../../auth/passport';
import { recordAudit, userActor } from '../../../audit/service';

/** The form's fields, named as TOYBOX's RegisterSerializer names them. */
export const REGISTER_FIELDS = ['username', 'display_name', 'password'] as const;
export type RegisterField = (typeof REGISTER_FIELDS)[number];

/** A message for one field: a locale key and its variables (TOYBOX's own text when nothing better fits). */
export interface FieldError {
  key: string;
  vars?: Record<string, string | number>;
}

export interface Landing {
  recipientId: number;
  campaignId: number;
  email: string;
  emailKey: string;
  /** The old display id the imports know for this address, when nobody holds it yet. */
  suggestedId: string | null;
  /** An account with this address exists already: nothing to register. */
  registered: boolean;
  signupUrl: string;
  termsUrl: string;
}

/** What the personal link proves: the address, and the old display id when imports know it. */
export async function loadLanding(knex: Knex, config: Config, claims: LinkClaims): Promise<Landing | null> {
  const r = await findRecipient(knex, claims.recipientId);
  if (!r || Number(r.campaign_id) !== claims.campaignId) return null;
  const suggestedId = r.display_id && !(await displayIdInUse(knex, r.display_id)) ? r.display_id : null;
  return {
    recipientId: Number(r.id),
    campaignId: claims.campaignId,
    email: r.email,
    emailKey: r.email_key,
    suggestedId,
    registered: await emailInUse(knex, r.email),
    // TOYBOX's own page keeps no address: offered only when its API cannot be reached.
    signupUrl: toyboxSignupUrl(config.TOYBOX_URL, null),
    termsUrl: new URL('/terms/', `${config.TOYBOX_URL}/`).toString(),
  };
}

/** Counts the visit (first one only), then shows what the link proves. */
export async function openLanding(knex: Knex, config: Config, claims: LinkClaims): Promise<Landing | null> {
  const landing = await loadLanding(knex, config, claims);
  if (landing) await recordClick(knex, landing.recipientId);
  return landing;
}

export interface RegisterInput {
  username: string;
  display_name: string;
  password: string;
}

export type ReregisterResult =
  | { kind: 'created'; displayId: string }
  | { kind: 'invalid'; errors: Partial<Record<RegisterField | 'form', FieldError>> }
  | { kind: 'registered' }
  | { kind: 'unavailable' };

/** TOYBOX answers in English (DRF's texts) or Japanese; each known message becomes a key in the user's language. */
export function fieldErrorFromToybox(field: string, message: string): FieldError {
  if (/already taken/i.test(message)) return { key: 'reregister.errors.taken' };
  if (/lowercase letters/i.test(message)) return { key: 'reregister.errors.username_format' };
  const min = /at least (\d+) characters/i.exec(message);
  if (min) return { key: field === 'password' ? 'reregister.errors.password_short' : 'reregister.errors.too_short', vars: { n: Number(min[1]) } };
  const max = /no more than (\d+) characters/i.exec(message);
  if (max) return { key: 'reregister.errors.too_long', vars: { n: Number(max[1]) } };
  if (/required|may not be blank|必須/i.test(message)) return { key: 'reregister.errors.required' };
  return { key: 'reregister.errors.toybox_said', vars: { message: message.slice(0, 300) } };
}

function errorsFromToybox(outcome: Extract<RegisterOutcome, { kind: 'invalid' }>): Partial<Record<RegisterField | 'form', FieldError>> {
  const errors: Partial<Record<RegisterField | 'form', FieldError>> = {};
  for (const [field, messages] of Object.entries(outcome.errors)) {
    const slot = (REGISTER_FIELDS as readonly string[]).includes(field) ? (field as RegisterField) : 'form';
    errors[slot] ??= fieldErrorFromToybox(field, messages[0] ?? '');
  }
  return errors;
}

/**
 * Registers the person through TOYBOX's own API with the address the link
 * proved, so TOYBOX writes its rows itself and the funnel sees the address.
 * An old display id that imports tie to another address is refused here
 * before TOYBOX is asked: it stays held for its owner.
 */
export async function reregister(knex: Knex, config: Config, landing: Landing, input: RegisterInput): Promise<ReregisterResult> {
  if (landing.registered || (await emailInUse(knex, landing.email))) return { kind: 'registered' };
  const wanted = input.username.trim().toLowerCase();
  if (wanted && (await displayIdHeldForAnother(knex, wanted, landing.emailKey))) {
    return { kind: 'invalid', errors: { username: { key: 'reregister.errors.held' } } };
  }
  const outcome = await registerAtToybox(
    { apiUrl: config.TOYBOX_API_URL, publicUrl: config.TOYBOX_URL },
    { username: input.username, display_name: input.display_name, password: input.password, email: landing.email },
  );
  if (outcome.kind === 'unavailable') {
    // TOYBOX does not check the address before inserting: a double submit ends in its unique-constraint 500.
    return (await emailInUse(knex, landing.email)) ? { kind: 'registered' } : { kind: 'unavailable' };
  }
  if (outcome.kind === 'invalid') return { kind: 'invalid', errors: errorsFromToybox(outcome) };
  await recordAudit(knex, `recipient:${landing.recipientId}`, 'campaigns.reregistered', `campaign:${landing.campaignId}`, { display_id: wanted });
  return { kind: 'created', displayId: wanted };
}

export type AttachResult = { kind: 'attached'; displayId: string } | { kind: 'bad_credentials' } | { kind: 'has_real_address' } | { kind: 'address_taken' };

/**
 * For people who re-registered on TOYBOX's own page and got the placeholder
 * `<id>@toybox.local`: after signing in with their TOYBOX id and password, the
 * address the link proved replaces the placeholder. A real address is never
 * replaced. The change and its audit entry commit together.
 */
export async function attachProvenAddress(knex: Knex, landing: Landing, login: string, password: string): Promise<AttachResult> {
  const auth = await authenticate(knex, login, password);
  if (!('user' in auth)) return { kind: 'bad_credentials' };
  const user = auth.user;
  const outcome = await knex.transaction(async (trx) => {
    const result = await attachEmailToPlaceholder(trx, user.id, landing.email);
    if (result === 'attached') {
      await recordAudit(trx, userActor(user), 'campaigns.address_attached', `user:${user.id}`, {
        campaign: landing.campaignId,
        recipient: landing.recipientId,
        replaced: 'placeholder',
      });
    }
    return result;
  });
  if (outcome === 'attached') return { kind: 'attached', displayId: user.display_id };
  if (outcome === 'address_taken') return { kind: 'address_taken' };
  if (outcome === 'has_real_address') return { kind: 'has_real_address' };
  return { kind: 'bad_credentials' };
}
