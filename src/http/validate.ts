import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { NotFound } from './errors';
import { fieldErrorsFrom, mergeFieldErrors, InvalidInput, type FieldErrors } from './field-errors';

type Schemas = { body?: z.ZodType; query?: z.ZodType; params?: z.ZodType };

/** What a route reads after validate(): each part parsed by its schema. */
export type Valid<S extends Schemas> = { [K in keyof S]: S[K] extends z.ZodType ? z.output<S[K]> : never };

/** Re-renders a form with the messages beside its fields (status 422 is the caller's to set). */
export type OnInvalid = (req: Request, res: Response, errors: FieldErrors) => unknown;

export interface ValidateOptions {
  /** A form route passes its re-render here; without it, the error handler answers 422 (page or JSON). */
  onInvalid?: OnInvalid;
  /** The 404 message when a path parameter is malformed (a feature's "no such notice"). */
  notFoundKey?: string;
  /** The error for a malformed path parameter instead of that 404 (link tokens: 400, see links.ts). */
  onMalformedParams?: () => Error;
  /** Replaces zod's own messages that are not locale keys. */
  fallbackKey?: string;
  /** The headline of a 422 answered by the error handler (default errors.invalid). */
  invalidKey?: string;
}

export interface Validator<S extends Schemas> extends RequestHandler {
  /** The parsed parts, typed by the schemas. */
  of(req: Request): Valid<S>;
}

/**
 * The one way a route reads its input: `const v = validate({ params: idParams, body: form })`,
 * `router.post(path, v, (req, res) => v.of(req).body)`. A malformed path parameter
 * answers 404 (like an unknown id); an invalid body or query answers 422 with the
 * messages per field, either through `onInvalid` (forms) or the error handler.
 * The parsed value is also on `req.valid` for code that only needs `unknown`.
 */
export function validate<S extends Schemas>(schemas: S, options: ValidateOptions = {}): Validator<S> {
  const handler = async (req: Request, res: Response, next: NextFunction) => {
    const out: Record<string, unknown> = {};
    if (schemas.params) {
      const r = schemas.params.safeParse(req.params);
      if (!r.success) return next(options.onMalformedParams ? options.onMalformedParams() : NotFound(options.notFoundKey));
      out.params = r.data;
    }
    const problems: FieldErrors[] = [];
    for (const part of ['query', 'body'] as const) {
      const schema = schemas[part];
      if (!schema) continue;
      const r = schema.safeParse(part === 'body' ? (req.body ?? {}) : req.query);
      if (r.success) out[part] = r.data;
      else problems.push(fieldErrorsFrom(r.error, options.fallbackKey));
    }
    if (problems.length) {
      const errors = mergeFieldErrors(...problems);
      if (!options.onInvalid) return next(new InvalidInput(errors, options.invalidKey));
      await options.onInvalid(req, res, errors);
      return;
    }
    req.valid = { ...(req.valid as object | undefined), ...out };
    next();
  };
  return Object.assign(handler, {
    of(req: Request): Valid<S> {
      if (!req.valid) throw new Error('validate() did not run before this handler');
      return req.valid as Valid<S>;
    },
  });
}
