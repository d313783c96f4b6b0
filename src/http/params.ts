import { z } from 'zod';
import { NotFound } from './errors';

/**
 * The one parser for path parameters. A malformed parameter answers 404, the
 * same as a well-formed one that names nothing (validate() does this): a
 * crawler or a mistyped URL learns nothing more from "abc" than from "999".
 * Links from e-mails are the exception (src/http/links.ts): a token out of its
 * shape answers 400, a dead one 410, with one shared page; tokens are only bounded here.
 */

/** A row id: a positive integer that fits PostgreSQL's `integer` (larger ones cannot exist and would make the query fail). */
export const idParam = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/)
  .transform(Number)
  .refine((n) => n <= 2_147_483_647);

/** A uuid, lower-case as PostgreSQL prints it. */
export const uuidParam = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

/** A SHA-256 content hash in lower-case hex. */
export const sha256Param = z.string().regex(/^[0-9a-f]{64}$/);

/** A name the portal chose (checklist items, upload keys, file names): letters, digits, `_`, `-` and `.` not leading. */
export const nameParam = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/);

/** An opaque URL-safe token (base64url, or a signed link's dotted base-36 parts), bounded in length. */
export const tokenParam = z.string().regex(/^[A-Za-z0-9_.-]{1,300}$/);

/** `/:id` routes. */
export const idParams = z.object({ id: idParam });

/** `/:token` routes (signed or hashed links). */
export const tokenParams = z.object({ token: tokenParam });

/** A parameter read by the shared parser inside a handler (for helpers shared by many routes): malformed throws 404. */
export function parseParam<T>(schema: z.ZodType<T>, value: unknown, notFoundKey?: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw NotFound(notFoundKey);
  return r.data;
}
