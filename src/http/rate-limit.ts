import type { Knex } from 'knex';
import type { Request, Response } from 'express';
import { rateLimit, ipKeyGenerator, type Store, type IncrementResponse, type Options } from 'express-rate-limit';
import { renderError } from './render-error';
import { TooManyRequests } from './errors';
import { formatTokyoClock } from '../i18n/tokyo-time';

/**
 * Counters in portal.rate_limits, so every portal instance shares one limit.
 * One upsert per request: the window restarts when it has passed.
 */
export class KnexRateLimitStore implements Store {
  private windowMs = 60_000;
  readonly localKeys = false;
  constructor(
    private readonly knex: Knex,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async increment(key: string): Promise<IncrementResponse> {
    const result = await this.knex.raw<{ rows: Array<{ hits: number; reset_at: Date }> }>(
      `INSERT INTO portal.rate_limits AS r (key, hits, reset_at)
       VALUES (?, 1, now() + make_interval(secs => ?))
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN r.reset_at <= now() THEN 1 ELSE r.hits + 1 END,
         reset_at = CASE WHEN r.reset_at <= now() THEN EXCLUDED.reset_at ELSE r.reset_at END
       RETURNING hits, reset_at`,
      [`${this.prefix}:${key}`, this.windowMs / 1000],
    );
    const row = result.rows[0]!;
    return { totalHits: row.hits, resetTime: row.reset_at };
  }

  async decrement(key: string): Promise<void> {
    await this.knex('portal.rate_limits').where({ key: `${this.prefix}:${key}` }).decrement('hits', 1);
  }

  async resetKey(key: string): Promise<void> {
    await this.knex('portal.rate_limits').where({ key: `${this.prefix}:${key}` }).delete();
  }
}

export interface LimitOptions {
  name: string;
  windowMs: number;
  limit: number;
  /** Extra key part (an account, a token); the client IP is used when absent. */
  key?: (req: Request) => string | undefined;
  /** Count only failures (status >= 400), as for logins. */
  onlyFailures?: boolean;
  /** The 429 page's message (gets {minutes} and {time}); errors.too_many by default. */
  messageKey?: string;
}

/** A limiter whose 429 says, in the user's language, when to try again. */
export function createLimiter(knex: Knex, opts: LimitOptions) {
  return rateLimit({
    windowMs: opts.windowMs,
    limit: opts.limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    skipSuccessfulRequests: opts.onlyFailures ?? false,
    // A 503 (sign-in busy) checked nothing: it is no failed attempt.
    requestWasSuccessful: (_req, res) => res.statusCode < 400 || res.statusCode === 503,
    store: new KnexRateLimitStore(knex, opts.name),
    keyGenerator: (req) => opts.key?.(req) ?? `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`,
    skip: (req) => opts.key !== undefined && opts.key(req) === undefined,
    handler: (req: Request, res: Response) => {
      const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime ?? new Date(Date.now() + opts.windowMs);
      const minutes = Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 60_000));
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000))));
      renderError(req, res, TooManyRequests(opts.messageKey ?? 'errors.too_many', { minutes, time: formatTokyoClock(reset) }));
    },
  });
}
