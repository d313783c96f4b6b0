import type { Request } from 'express';
import busboy from 'busboy';
import { HttpError, BadRequest } from './errors';

/** A multipart/form-data form with at most one file, held in memory (uploads here are a few megabytes). */
export interface MultipartForm {
  fields: Record<string, string>;
  file: { field: string; filename: string; data: Buffer } | null;
}

/**
 * Reads a multipart form with busboy. The global CSRF check skips multipart
 * bodies (they are not parsed yet at that point): the route must check
 * `fields._csrf` itself once this resolves.
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
