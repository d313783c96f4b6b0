import type { z } from 'zod';
import { HttpError } from './errors';
import { validate, type Validator } from './validate';

/**
 * The one rule for tokens in links people get by e-mail (export downloads and sign-in links, notice subscription
 * confirm/unsubscribe, campaigns' personal `/r/` and unsubscribe `/u/` links, claims' e-mail proof and invitation
 * links, and any new one):
 * - malformed (not the shape this link's token has, a query part missing or altered out of shape): 400, the
 *   "this link is incomplete" page: usually a mail client cut the URL, so the next step is to copy the whole link;
 * - well-formed but unknown, wrong signature, already used, expired or replaced: 410 Gone, the one "this link no
 *   longer works" page, which says what to do next (the feature's `next`: where to get a new link).
 * Both pages are bilingual (the reader's language first, then the other): a link opened from an e-mail may come
 * with no language cookie. The error handler renders them (render-error.ts); JSON clients get `error.next`.
 */
export interface LinkNext {
  /** Where to go for a new link (a path on the portal). */
  href: string;
  /** Locale key of the sentence naming that step ("Ask for a new download link"). */
  key: string;
}

/** A link token that cannot be what this link carries: 400. */
export class LinkMalformed extends HttpError {
  constructor(public readonly next: LinkNext) {
    super(400, 'errors.link.malformed_text');
  }
}

/** A well-formed link token that is unknown, used or expired: 410 Gone. */
export class LinkGone extends HttpError {
  constructor(
    public readonly next: LinkNext,
    /** A sentence more precise than the general one (export: "the file was deleted"), optional. */
    public readonly reasonKey?: string,
  ) {
    super(410, 'errors.link.gone_text');
  }
}

export type LinkProblem = LinkMalformed | LinkGone;

export function isLinkProblem(err: unknown): err is LinkProblem {
  return err instanceof LinkMalformed || err instanceof LinkGone;
}

type Schemas = { params?: z.ZodType; query?: z.ZodType; body?: z.ZodType };

/**
 * validate() for a link route: a malformed path token or query (a signed link's `expires`/`sig`) answers 400
 * with the link page instead of validate()'s 404/422.
 */
export function validateLink<S extends Schemas>(schemas: S, next: LinkNext): Validator<S> {
  return validate(schemas, {
    onMalformedParams: () => new LinkMalformed(next),
    onInvalid: () => {
      throw new LinkMalformed(next);
    },
  });
}
