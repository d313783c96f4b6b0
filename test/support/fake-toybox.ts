import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import knexFactory, { type Knex } from 'knex';
import { makeDjangoPassword, DJANGO_PBKDF2_ITERATIONS } from '../../src/auth/django-password';

/**
 * An in-process stand-in for TOYBOX's `POST /api/auth/register/`, written from
 * the facts in ../shared/toybox/NOTES.md and the behaviour of TOYBOX's
 * RegisterView / RegisterSerializer (Django REST framework):
 *
 * - Django first: a Host outside ALLOWED_HOSTS gets Django's plain 400 page;
 *   with site_maintenance enabled every /api/ path but health answers 503 JSON.
 * - DRF field validation in declared order (username, display_name, password,
 *   email), whitespace trimmed, DRF's English messages, then the serializer's
 *   validate(): password required, username taken (exact match on display_id).
 *   Errors answer 400 `{"ok": false, "errors": {field: [message]}}`.
 * - create_user: the e-mail with its domain lower-cased, or the placeholder
 *   `<display_id>@toybox.local`; role FREE_USER; pbkdf2_sha256 hash; a second
 *   save() moves updated_at. An e-mail already in users is not checked first:
 *   the unique constraint fails and Django answers its plain 500 page.
 * - user_meta by get_or_create with bio = display name, display_name '',
 *   header_url '' (the model's default), empty JSON lists/objects.
 * - The registration bonus: user_points +100 and a point_history row.
 * - 201 `{"ok": true, "access", "refresh", "role"}` (JWT-shaped tokens).
 */
export interface FakeToybox {
  url: string;
  /** Every request's method, path and Host header, to check what the portal sent. */
  requests: Array<{ method: string; path: string; host: string; body: unknown }>;
  /** Posts to the register API as TOYBOX's own /signup/ page does (user id, display name, password; no e-mail). */
  signUpAsToyboxPage(body: { username: string; display_name: string; password: string }): Promise<number>;
  /** Points the fake at TOYBOX's database (the portal's test database, created after the fake listens). */
  useDatabase(url: string): void;
  close(): Promise<void>;
}

export interface FakeToyboxOptions {
  /** Django's ALLOWED_HOSTS (host names, no ports). */
  allowedHosts: string[];
  /** PBKDF2 iterations; Django 5.2's default unless a test needs speed. */
  iterations?: number;
}

type Errors = Record<string, string[]>;

const plainPage = (status: number, title: string) => `<!doctype html>\n<html lang="en">\n<head>\n  <title>${title}</title>\n</head>\n<body>\n  <h1>${title}</h1><p></p>\n</body>\n</html>\n`;

/** DRF CharField: strings and numbers are accepted, trimmed; blank and length rules as declared. */
function charField(
  errors: Errors,
  data: Record<string, unknown>,
  name: string,
  rules: { required: boolean; allowBlank: boolean; allowNull?: boolean; min?: number; max?: number },
): string | null | undefined {
  if (!(name in data)) {
    if (rules.required) errors[name] = ['This field is required.'];
    return undefined;
  }
  const raw = data[name];
  if (raw === null) {
    if (!rules.allowNull) errors[name] = ['This field may not be null.'];
    return null;
  }
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    errors[name] = ['Not a valid string.'];
    return undefined;
  }
  const value = String(raw).trim();
  if (value === '') {
    if (!rules.allowBlank) errors[name] = ['This field may not be blank.'];
    return '';
  }
  if (rules.max !== undefined && value.length > rules.max) errors[name] = [`Ensure this field has no more than ${rules.max} characters.`];
  else if (rules.min !== undefined && value.length < rules.min) errors[name] = [`Ensure this field has at least ${rules.min} characters.`];
  return value;
}

/** Django's EmailValidator, in short: one @, a dotted domain, no spaces. */
const EMAIL = /^[^\s@]+@([A-Za-z0-9-]+\.)+[A-Za-z0-9-]{2,}$/;

function validate(data: Record<string, unknown>): { errors: Errors; values: Record<string, string | null | undefined> } {
  const errors: Errors = {};
  let username = charField(errors, data, 'username', { required: true, allowBlank: false, min: 3, max: 30 });
  if (typeof username === 'string' && !errors.username) {
    if (!/^[a-z0-9_]+$/.test(username.toLowerCase())) errors.username = ['Username must contain only lowercase letters, numbers, and underscores.'];
    username = username.toLowerCase();
  }
  const display_name = charField(errors, data, 'display_name', { required: false, allowBlank: true, min: 1, max: 50 });
  const password = charField(errors, data, 'password', { required: false, allowBlank: true, min: 8, max: 128 });
  const email = charField(errors, data, 'email', { required: false, allowBlank: true, allowNull: true, max: 254 });
  if (typeof email === 'string' && email !== '' && !errors.email && !EMAIL.test(email)) errors.email = ['Enter a valid email address.'];
  return { errors, values: { username, display_name, password, email } };
}

function jwtShaped(userId: number, type: 'access' | 'refresh', secret: Buffer): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ token_type: type, exp: now + (type === 'access' ? 3600 : 86400 * 7), iat: now, jti: crypto.randomUUID().replace(/-/g, ''), user_id: String(userId) })}`;
  return `${body}.${crypto.createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** Django's BaseUserManager.normalize_email: the domain lower-cased, the local part kept. */
function normalizeEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 0 ? email : `${email.slice(0, at)}@${email.slice(at + 1).toLowerCase()}`;
}

async function register(knex: Knex, data: Record<string, unknown>, iterations: number, secret: Buffer): Promise<{ status: number; json?: unknown; html?: string }> {
  const { errors, values } = validate(data);
  if (Object.keys(errors).length) return { status: 400, json: { ok: false, errors } };
  // RegisterSerializer.validate(): one error at a time.
  if (!values.password) return { status: 400, json: { ok: false, errors: { password: ['パスワードは必須です。'] } } };
  const username = values.username!;
  if (await knex('users').where({ display_id: username }).first('id')) {
    return { status: 400, json: { ok: false, errors: { username: ['This username is already taken.'] } } };
  }
  if (values.email === null) return { status: 500, html: plainPage(500, 'Server Error (500)') }; // None.strip() in create()
  const displayName = values.display_name ? values.display_name : username;
  const email = values.email ? normalizeEmail(values.email) : `${username}@toybox.local`;
  const hash = await makeDjangoPassword(values.password, iterations);
  let userId: number;
  try {
    const [row] = await knex('users')
      .insert({
        email,
        display_id: username,
        password: hash,
        role: 'FREE_USER',
        avatar_url: null,
        is_suspended: false,
        banned_at: null,
        warning_count: 0,
        warning_notes: null,
        penalty_message: null,
        penalty_type: null,
        is_active: true,
        is_staff: false,
        is_superuser: false,
        old_id: null,
        studysphere_user_id: null,
        studysphere_login_code: null,
        last_login: null,
        created_at: knex.fn.now(),
        updated_at: knex.fn.now(),
      })
      .returning('id');
    userId = Number(row.id);
  } catch {
    return { status: 500, html: plainPage(500, 'Server Error (500)') }; // IntegrityError (users_email_key)
  }
  await knex('users').where({ id: userId }).update({ updated_at: knex.fn.now() }); // user.save()
  await knex('user_meta').insert({
    user_id: userId,
    active_title: null,
    title_color: null,
    expires_at: null,
    bio: displayName,
    display_name: '',
    header_url: '',
    lottery_bonus_count: 0,
    old_id: null,
    notifications: JSON.stringify([]),
    onboarding_completed: JSON.stringify({}),
    earned_titles: JSON.stringify([]),
    terms_agreed_at: null,
    created_at: knex.fn.now(),
    updated_at: knex.fn.now(),
  });
  await knex('user_points').insert({ user_id: userId, total_points: 0, migration_bonus_granted: false, created_at: knex.fn.now(), updated_at: knex.fn.now() });
  // award_points runs in its own transaction (@transaction.atomic), the row locked first.
  await knex.transaction(async (trx) => {
    await trx('user_points').where({ user_id: userId }).forUpdate().first('id');
    await trx('user_points').where({ user_id: userId }).update({ total_points: 100, updated_at: trx.fn.now() });
    await trx('point_history').insert({ user_id: userId, action_type: 'registration_bonus', points: 100, description: '初回登録ボーナス', created_at: trx.fn.now() });
  });
  return { status: 201, json: { ok: true, access: jwtShaped(userId, 'access', secret), refresh: jwtShaped(userId, 'refresh', secret), role: 'FREE_USER' } };
}

async function inMaintenance(knex: Knex): Promise<boolean> {
  const row = await knex('site_maintenance').orderBy('id').first('enabled');
  return Boolean(row?.enabled);
}

export async function startFakeToybox(opts: FakeToyboxOptions): Promise<FakeToybox> {
  let db: Knex | null = null;
  const secret = crypto.randomBytes(32);
  const requests: FakeToybox['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: string, type: string) => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      };
      const host = String(req.headers.host ?? '');
      const path = (req.url ?? '/').split('?')[0]!;
      let body: unknown = null;
      const text = Buffer.concat(chunks).toString('utf8');
      (async () => {
        const knex = db;
        if (!knex) throw new Error('fake TOYBOX has no database yet');
        try {
          body = text ? JSON.parse(text) : {};
        } catch {
          body = undefined;
        }
        requests.push({ method: req.method ?? '', path, host, body });
        if (!opts.allowedHosts.includes(host.replace(/:\d+$/, ''))) return send(400, plainPage(400, 'Bad Request (400)'), 'text/html; charset=utf-8');
        if (path.startsWith('/api/') && !path.startsWith('/api/health/') && (await inMaintenance(knex))) {
          return send(503, JSON.stringify({ ok: false, error: 'maintenance', message: 'メンテナンス中です。しばらくしてから再度お試しください。' }), 'application/json');
        }
        if (path !== '/api/auth/register/') return send(404, plainPage(404, 'Not Found'), 'text/html; charset=utf-8');
        if (req.method !== 'POST') return send(405, JSON.stringify({ detail: `Method "${req.method}" not allowed.` }), 'application/json');
        if (body === undefined || typeof body !== 'object' || body === null || Array.isArray(body)) {
          return send(400, JSON.stringify({ detail: 'JSON parse error - Expecting value: line 1 column 1 (char 0)' }), 'application/json');
        }
        const out = await register(knex, body as Record<string, unknown>, opts.iterations ?? DJANGO_PBKDF2_ITERATIONS, secret);
        if (out.html) return send(out.status, out.html, 'text/html; charset=utf-8');
        return send(out.status, JSON.stringify(out.json), 'application/json');
      })().catch(() => send(500, plainPage(500, 'Server Error (500)'), 'text/html; charset=utf-8'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    signUpAsToyboxPage(body) {
      return new Promise((resolve, reject) => {
        const req = http.request(`http://127.0.0.1:${port}/api/auth/register/`, { method: 'POST', headers: { host: opts.allowedHosts[0]!, 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(JSON.stringify(body));
      });
    },
    useDatabase(url) {
      db = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 2 } });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db?.destroy();
    },
  };
}
