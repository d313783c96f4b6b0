import crypto from 'node:crypto';
import path from 'node:path';
import type { Request } from 'express';
import busboy from 'busboy';
import { HttpError, BadRequest } from '../../http/errors';
import { createFileSink, ensurePrivateDir, writeChunk, closeSink, type FileSink } from '../../files/private';
import { UploadRefused } from './upload';

export interface ArchiveUpload {
  /** The private temporary file (0600 in a 0700 folder); the caller removes it. */
  file: string;
  /** The name the browser sent, without any folder part. */
  name: string;
  size: number;
  sha256: string;
}

/**
 * Streams one uploaded archive (field `archive`) to a private temporary file
 * under `dir`, hashing it on the way. Same rules as the file proofs: a
 * declared length over the cap is refused before any byte is read, the
 * `_csrf` field must come (and be valid) before the file, and the first
 * byte over the cap stops the upload (413) and removes what was written.
 */
export async function readArchiveUpload(req: Request, dir: string, maxBytes: number, checkToken: (token: string | undefined) => void): Promise<ArchiveUpload> {
  const mb = Math.floor(maxBytes / (1024 * 1024));
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes + 64 * 1024) throw new UploadRefused(413, 'claims.archive.too_large', { mb });
  await ensurePrivateDir(dir);
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes, fields: 10, fieldSize: 4096 } });
    } catch {
      reject(BadRequest('errors.bad_request'));
      return;
    }
    const fields: Record<string, string> = {};
    let sink: FileSink | null = null;
    let upload: ArchiveUpload | null = null;
    let writing: Promise<void> | null = null;
    let failed = false;
    let closed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      void (sink?.discard() ?? Promise.resolve()).then(() => reject(err));
    };
    const finish = () => {
      if (failed || !closed) return;
      if (!writing) {
        try {
          checkToken(req.get('x-csrf-token') ?? fields._csrf);
        } catch (err) {
          return fail(err as Error);
        }
        return fail(new HttpError(422, 'claims.archive.none'));
      }
      writing.then(() => (failed ? undefined : resolve(upload!)), fail);
    };
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (field, stream, info) => {
      if (failed || writing || field !== 'archive') return stream.resume();
      try {
        checkToken(req.get('x-csrf-token') ?? fields._csrf);
      } catch (err) {
        stream.resume();
        return fail(err as Error);
      }
      const name = ((info.filename ?? '').split(/[\\/]/).pop() ?? '').slice(0, 200);
      if (!name) return stream.resume();
      const file = path.join(dir, `upload-${crypto.randomBytes(12).toString('hex')}.zip`);
      const s = createFileSink(file);
      sink = s;
      const hash = crypto.createHash('sha256');
      let size = 0;
      let over = false;
      stream.on('limit', () => {
        over = true;
        fail(new UploadRefused(413, 'claims.archive.too_large', { mb }));
      });
      writing = (async () => {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (failed) continue;
          size += chunk.length;
          hash.update(chunk);
          await writeChunk(s, chunk);
        }
        if (over || failed) return;
        await closeSink(s);
        upload = { file, name, size, sha256: hash.digest('hex') };
      })();
      writing.catch(() => undefined);
    });
    parser.on('filesLimit', () => fail(new UploadRefused(413, 'claims.archive.one_file')));
    parser.on('error', () => fail(BadRequest('errors.bad_request')));
    parser.on('close', () => {
      closed = true;
      finish();
    });
    req.on('aborted', () => fail(BadRequest('errors.bad_request')));
    req.pipe(parser);
  });
}
