import http from 'node:http';
import https from 'node:https';

/** What TOYBOX's `POST /api/auth/register/` (users/views.py RegisterView) takes. */
export interface RegisterRequest {
  username: string;
  display_name: string;
  password: string;
  email: string;
}

export type RegisterOutcome =
  | { kind: 'created' }
  /** 400 `{ok: false, errors: {field: [message, ...]}}`: DRF serializer errors, per field. */
  | { kind: 'invalid'; errors: Record<string, string[]> }
  /** Anything else (connection refused, timeout, 5xx, maintenance 503, HTML): the person is sent to TOYBOX's own page. */
  | { kind: 'unavailable'; reason: string };

export interface RegisterApiTarget {
  /** Where to connect (TOYBOX_API_URL, possibly an internal address such as http://web:8000). */
  apiUrl: string;
  /** The public site (TOYBOX_URL): its host goes in `Host`, so Django's ALLOWED_HOSTS accepts the call. */
  publicUrl: string;
  timeoutMs?: number;
}

const MAX_BODY = 64 * 1024;

/**
 * Registers an account through TOYBOX's own API, server to server, so TOYBOX
 * writes its rows (users, user_meta, the registration bonus) itself. Never
 * throws for network or protocol problems: they come back as `unavailable`.
 */
export function registerAtToybox(target: RegisterApiTarget, body: RegisterRequest): Promise<RegisterOutcome> {
  const url = new URL('/api/auth/register/', `${target.apiUrl}/`);
  const pub = new URL(target.publicUrl);
  const payload = Buffer.from(JSON.stringify(body));
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        timeout: target.timeoutMs ?? 10_000,
        headers: {
          host: pub.host,
          // Behind Caddy, Django sees https through this header (SECURE_PROXY_SSL_HEADER); without it
          // SECURE_SSL_REDIRECT would answer a redirect instead of registering.
          'x-forwarded-proto': pub.protocol.replace(':', ''),
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': String(payload.length),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_BODY) chunks.push(c);
        });
        res.on('error', (err) => resolve({ kind: 'unavailable', reason: err.message }));
        res.on('end', () => resolve(interpret(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve({ kind: 'unavailable', reason: err.message }));
    req.end(payload);
  });
}

function interpret(status: number, text: string): RegisterOutcome {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'unavailable', reason: `HTTP ${status}, not JSON` };
  }
  const obj = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>;
  if (status === 201 && obj.ok === true) return { kind: 'created' };
  if (status === 400 && obj.errors && typeof obj.errors === 'object') {
    const errors: Record<string, string[]> = {};
    for (const [field, v] of Object.entries(obj.errors as Record<string, unknown>)) {
      errors[field] = (Array.isArray(v) ? v : [v]).map(String);
    }
    return { kind: 'invalid', errors };
  }
  return { kind: 'unavailable', reason: `HTTP ${status}${typeof obj.error === 'string' ? ` (${obj.error})` : ''}` };
}
