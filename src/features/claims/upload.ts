import crypto from 'node:crypto';
import type { Request } from 'express';
import busboy from 'busboy';
import { HttpError, BadRequest } from '../../http/errors';

export interface UploadLimits {
  maxFiles: number;
  maxFileBytes: number;
  maxTotalBytes: number;
}

export interface HashedUpload {
  /** The name the browser sent, without any folder part (shown back to its owner, escaped). */
  name: string;
  size: number;
  sha256: string;
}

export interface HashedForm {
  fields: Record<string, string>;
  files: HashedUpload[];
}

/** A refusal that also closes the connection, so a huge body is not read to its end. */
export class UploadRefused extends HttpError {}

const refuse = (status: number, key: string, vars: Record<string, string | number> = {}) => new UploadRefused(status, key, vars);

/**
 * Reads a multipart form whose files are only hashed (SHA-256 while they
 * stream), never stored. Refuses before reading when the declared length is
 * over the total cap, and stops reading at the first file over its cap or the
 * first file past the count. `checkToken` runs on the `_csrf` field, which the
 * form sends before its files; a file arriving before a valid token is refused.
 */
export function readHashedUpload(req: Request, limits: UploadLimits, checkToken: (token: string | undefined) => void): Promise<HashedForm> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  const mb = (n: number) => Math.floor(n / (1024 * 1024));
  if (Number.isFinite(declared) && declared > limits.maxTotalBytes + 64 * 1024) {
    return Promise.reject(refuse(413, 'claims.files.too_large_total', { mb: mb(limits.maxTotalBytes) }));
  }
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: limits.maxFiles, fileSize: limits.maxFileBytes, fields: 20, fieldSize: 4096 } });
    } catch {
      reject(BadRequest('errors.bad_request'));
      return;
    }
    const form: HashedForm = { fields: {}, files: [] };
    let failed = false;
    let total = 0;
    let pending = 0;
    let closed = false;
    const fail = (err: HttpError) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      reject(err);
    };
    let tokenChecked = false;
    const finish = () => {
      if (!failed && closed && pending === 0) resolve(form);
    };
    parser.on('field', (name, value) => {
      form.fields[name] = value;
    });
    parser.on('file', (_field, stream, info) => {
      if (failed) return stream.resume();
      try {
        checkToken(req.get('x-csrf-token') ?? form.fields._csrf);
        tokenChecked = true;
      } catch (err) {
        stream.resume();
        return fail(err as HttpError);
      }
      const name = (info.filename ?? '').split(/[\\/]/).pop() ?? '';
      // Browsers send an empty part when no file was chosen.
      if (!name) return stream.resume();
      pending++;
      const hash = crypto.createHash('sha256');
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        total += chunk.length;
        if (total > limits.maxTotalBytes) {
          stream.resume();
          return fail(refuse(413, 'claims.files.too_large_total', { mb: mb(limits.maxTotalBytes) }));
        }
        hash.update(chunk);
      });
      stream.on('limit', () => fail(refuse(413, 'claims.files.too_large_file', { name: name.slice(0, 80), mb: mb(limits.maxFileBytes) })));
      stream.on('close', () => {
        pending--;
        if (!failed) form.files.push({ name: name.slice(0, 200), size, sha256: hash.digest('hex') });
        finish();
      });
    });
    parser.on('filesLimit', () => fail(refuse(413, 'claims.files.too_many', { max: limits.maxFiles })));
    parser.on('error', () => fail(BadRequest('errors.bad_request')));
    parser.on('close', () => {
      closed = true;
      // A form without any file part still proves its token before anything answers (403, not 422).
      if (!tokenChecked && !failed) {
        try {
          checkToken(req.get('x-csrf-token') ?? form.fields._csrf);
          tokenChecked = true;
        } catch (err) {
          return fail(err as HttpError);
        }
      }
      finish();
    });
    req.on('aborted', () => fail(BadRequest('errors.bad_request')));
    req.pipe(parser);
  });
}
