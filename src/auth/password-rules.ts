import { SequenceMatcher } from './sequence-matcher';
import commonPasswords from './common-passwords.json';

/**
 * TOYBOX's AUTH_PASSWORD_VALIDATORS (Django's four defaults), ported so the
 * portal refuses what Django would refuse. Each problem is a locale key plus
 * variables; the caller translates it into the form's language.
 */
export interface PasswordProblem {
  key: string;
  vars?: Record<string, string | number>;
}

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_SIMILARITY = 0.7;

/** A subset of Django's common-passwords.txt.gz (which holds 20,000), stored lower-case as Django compares. */
const COMMON = new Set<string>(commonPasswords as string[]);

export interface UserAttributes {
  email?: string | null;
  display_id?: string | null;
}

/** Django's exceeds_maximum_length_ratio: skip values far shorter than the password (cheap bound on quick_ratio). */
function exceedsMaximumLengthRatio(password: string, maxSimilarity: number, value: string): boolean {
  const pwdLen = Array.from(password).length;
  const lengthBoundSimilarity = (maxSimilarity / 2) * pwdLen;
  const valueLen = Array.from(value).length;
  return pwdLen >= 10 * valueLen && valueLen < lengthBoundSimilarity;
}

/**
 * UserAttributeSimilarityValidator: the password against each attribute and
 * each of its \W-separated parts (so "taro.yamada@example.com" also checks
 * "taro", "yamada", "example", "com"). TOYBOX's user model has no username or
 * names, so Django itself only checks the e-mail; the display id is checked
 * as well because it is the site's login id.
 */
export function similarAttribute(password: string, user: UserAttributes, maxSimilarity = MAX_SIMILARITY): keyof UserAttributes | null {
  const pwd = password.toLowerCase();
  for (const attribute of ['email', 'display_id'] as const) {
    const value = user[attribute];
    if (!value) continue;
    const lower = value.toLowerCase();
    const parts = [...lower.split(/[^\p{L}\p{N}_]+/u), lower];
    for (const part of parts) {
      if (exceedsMaximumLengthRatio(pwd, maxSimilarity, part)) continue;
      if (new SequenceMatcher(pwd, part).quickRatio() >= maxSimilarity) return attribute;
    }
  }
  return null;
}

/** Python's str.isdigit: decimal digits of any script, plus superscript/circled digits. */
function isEntirelyNumeric(password: string): boolean {
  return password.length > 0 && /^[\p{Nd}\u00B2\u00B3\u00B9\u2070\u2074-\u2079\u2080-\u2089\u2460-\u2468\u2474-\u247C\u2488-\u2490\u24F5-\u24FD\u24EA\u24FF\u2776-\u277E\u2780-\u2788\u278A-\u2792]+$/u.test(password);
}

/** Every problem Django's validate_password would report, in its validator order (all of them, not just the first). */
export function checkPassword(password: string, user: UserAttributes): PasswordProblem[] {
  const problems: PasswordProblem[] = [];
  const similar = similarAttribute(password, user);
  if (similar) problems.push({ key: `auth.password.too_similar_${similar}` });
  if (Array.from(password).length < MIN_PASSWORD_LENGTH) problems.push({ key: 'auth.password.too_short', vars: { min: MIN_PASSWORD_LENGTH } });
  if (COMMON.has(password.toLowerCase().trim())) problems.push({ key: 'auth.password.too_common' });
  if (isEntirelyNumeric(password)) problems.push({ key: 'auth.password.entirely_numeric' });
  return problems;
}

export function commonPasswordCount(): number {
  return COMMON.size;
}
