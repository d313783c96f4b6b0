import { z } from 'zod';

const list = z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(z.string().max(200)).max(20000));
const optionalId = z.preprocess((v) => (v === '' || v === undefined ? null : v), z.coerce.number().int().positive().nullable());
const checkbox = z.preprocess((v) => v === 'on' || v === '1' || v === 'true', z.boolean());

export const emailForm = z.object({
  email: z.string().trim().toLowerCase().email({ message: 'claims.email.invalid' }).max(254),
});

/** The token of an e-mailed claims link (32 bytes, base64url); out of this shape: 400 "this link is incomplete" (src/http/links.ts). */
const linkToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

/** `/recover/email/:token`, the confirm form's hidden field, and the invitation's token (path or hidden field). */
export const tokenForm = z.object({ token: linkToken });

export const statementForm = z.object({
  display_id: z
    .string()
    .trim()
    .min(1, 'claims.statement.invalid')
    .max(100, 'claims.statement.invalid')
    .regex(/^[A-Za-z0-9_.-]+$/, 'claims.statement.invalid'),
});

export const restoreForm = z.object({
  claim: z.coerce.number().int().positive(),
  posts: list,
  all_posts: checkbox,
  cards: list,
  all_cards: checkbox,
  avatar: optionalId,
  header: optionalId,
  display_name: checkbox,
  bio: checkbox,
  articles: list,
});

export const decisionForm = z.object({
  decision: z.enum(['approve', 'reject'], { message: 'claims.admin.bad_decision' }),
  reason: z.string().trim().min(3, 'claims.admin.reason_required').max(1000),
});

export const inviteForm = z.object({
  token: linkToken,
  password: z.string().min(1, 'claims.invite.too_short').max(4096),
  password2: z.string().max(4096),
});

export const accountForm = z.object({
  old_user_id: z.coerce.number({ message: 'claims.account.bad_old_id' }).int('claims.account.bad_old_id').positive('claims.account.bad_old_id'),
  display_id: z.string().trim().max(30).optional(),
  invite: checkbox,
});

export const oldTokenForm = z.object({ token: z.string().trim().min(20, 'claims.token.invalid').max(4096, 'claims.token.invalid') });

export const archiveRestoreForm = z.object({
  archive: z.coerce.number().int().positive(),
  posts: list,
  all_posts: checkbox,
  cards: checkbox,
  avatar: checkbox,
  header: checkbox,
  display_name: checkbox,
  bio: checkbox,
});
