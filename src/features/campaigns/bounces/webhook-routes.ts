import crypto from 'node:crypto';
import express, { Router, type Request } from 'express';
import type { AppContext } from '../../../app-context';
import { HttpError, NotFound } from '../../../http/errors';
import { InvalidInput, fieldError, fieldErrorsFrom } from '../../../http/field-errors';
import { secretsEqual } from '../../../auth/constant-time';
import { bounceWebhookSchema } from '../schema';
import { recordBounce, type BounceKind } from './service';

/** Header `X-Toybox-Signature: sha256=<hex HMAC of "<X-Toybox-Timestamp>.<raw body>">`, at most 5 minutes old. */
export function verifyWebhookSignature(secret: string, req: Request, body: Buffer, now = Date.now()): boolean {
  const ts = String(req.headers['x-toybox-timestamp'] ?? '');
  const sig = String(req.headers['x-toybox-signature'] ?? '').replace(/^sha256=/, '');
  if (!/^\d{10}$/.test(ts) || Math.abs(now / 1000 - Number(ts)) > 300 || !/^[0-9a-f]{64}$/.test(sig)) return false;
  const expected = crypto.createHmac('sha256', secret).update(`${ts}.`).update(body).digest();
  return secretsEqual(expected, Buffer.from(sig, 'hex'));
}

/** The bounce webhook (signed, answered before the session: the provider sends no cookie or CSRF token). */
export function bounceWebhookRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post('/webhooks/bounce', express.raw({ type: () => true, limit: '512kb' }), async (req, res) => {
    const secret = ctx.config.BOUNCE_WEBHOOK_SECRET;
    if (!secret) throw NotFound('campaigns.webhook.disabled');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!verifyWebhookSignature(secret, req, body)) {
      throw new HttpError(401, 'campaigns.webhook.bad_signature');
    }
    let parsed;
    try {
      parsed = bounceWebhookSchema.safeParse(JSON.parse(body.toString('utf8')));
    } catch {
      parsed = null;
    }
    if (!parsed?.success) {
      throw new InvalidInput(parsed ? fieldErrorsFrom(parsed.error) : fieldError('_form', 'errors.malformed_body'), 'campaigns.webhook.bad_body');
    }
    const counts = { recorded: 0, duplicate: 0, invalid: 0 };
    // Events without an id get one from the signed request itself (timestamp and body, which the signature
    // covers), so replaying a captured request counts nothing twice; a new send has a new timestamp.
    const requestKey = crypto.createHash('sha256').update(`${String(req.headers['x-toybox-timestamp'])}.`).update(body).digest('hex');
    for (const [index, ev] of parsed.data.events.entries()) {
      const outcome = await recordBounce(ctx.knex, {
        email: ev.email,
        kind: ev.type as BounceKind,
        status: ev.status ?? null,
        reason: ev.reason ?? null,
        dedupeKey: ev.id ? `webhook:${ev.id}` : `webhook-request:${requestKey}:${index}`,
        source: 'webhook',
      });
      counts[outcome]++;
    }
    return res.json(counts);
  });

  return router;
}
