import type { Request, RequestHandler } from 'express';
import busboy from 'busboy';
import { HttpError, BadRequest } from './errors';
import { isDeclaredUpload, isMultipart } from './csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * After the body parsers and the CSRF check: a body no parser read (multipart
 * to a route that takes forms, text/plain, none at all) must not reach a
 * handler as `undefined`. Multipart goes only to the routes that declared
 * they read it (400 elsewhere); any other unread body becomes `{}`, which the
 * route's schema then refuses with its own message.
 */
export const normaliseBody: RequestHandler = (req, _res, next) => {
  if (SAFE_METHODS.has(req.method) || isDeclaredUpload(req)) return next();
  if (isMultipart(req)) return next(BadRequest('errors.multipart_unexpected'));
  if (req.body === undefined || req.body === null) req.body = {};
  next();
};

/** A multipart/form-data form with at most one file, held in memory (uploads here are a few megabytes). */
export interface MultipartForm {
  fields: Record<string, string>;
  file: { field: string; filename: string; data: Buffer } | null;
}

/**
 * Reads a multipart form with busboy. Only a route declared with
 * deferCsrfUntilParsed gets here (see src/http/csrf.ts), and it must check
 * `fields._csrf` with verifyCsrfToken once this resolves.
 */
export function readMultipartForm(req: Request, maxFileBytes: number): Promise<MultipartForm> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxFileBytes, fields: 50 } });
    } catch {
      reject(BadRequest('errors.bad_request'));
      return;
    }
    const form: MultipartForm = { fields: {}, file: null };
    let tooLarge = false;
    parser.on('field', (name, value) => {
      form.fields[name] = value;
    });
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => {
        tooLarge = true;
      });
      stream.on('close', () => {
        // Browsers send an empty part when no file was chosen.
        if (info.filename && !form.file) form.file = { field, filename: info.filename.split(/[\\/]/).pop()!, data: Buffer.concat(chunks) };
      });
    });
    parser.on('error', () => reject(BadRequest('errors.bad_request')));
    parser.on('close', () => (tooLarge ? reject(new HttpError(413, 'errors.too_large')) : resolve(form)));
    req.pipe(parser);
  });
}
