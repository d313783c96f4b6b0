import fs from 'node:fs';
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../../app-context';
import { idParam, parseParam } from '../../../http/params';
import { validate } from '../../../http/validate';
import type { FieldErrors } from '../../../http/field-errors';
import { requireStaff } from '../../../auth/guards';
import { userActor } from '../../../audit/service';
import { HttpError, NotFound } from '../../../http/errors';
import { ensurePrivateDir } from '../../../files/private';
import { isWriteFailure, reportWriteFailure, reportWriteSuccess } from '../../../files/write-failures';
import { logger } from '../../../logger';
import { deferCsrfUntilParsed, verifyCsrfToken } from '../../../http/csrf';
import { decodeInput, detectFormat, guessMapping, MappingError, type InputEncoding, type Mapping } from './parse';
import {
  dataPath, loadUploadMeta, readTableHead, removeUpload, saveUploadMeta, spoolMultipartUpload, streamTableCandidates, sweepUploads, uploadDir, type SpooledUpload,
} from './upload-store';
import { candidatesFromBuffer } from './service';
import { insertImportRun, findImportRun, recentImportRuns } from './service';
import { runImport } from './import-run';
import { mappingSchema, uploadKeyParams } from '../schema';

const HEAD = '<link rel="stylesheet" href="/static/css/campaigns.css">';
const UPLOAD_LIMIT = 64 * 1024 * 1024;

/** Rows parsed for the mapping page (the guess looks at these; five are shown). */
const PREVIEW_ROWS = 50;

/** The first bytes of a spooled file, enough to tell its format. */
async function readHead(file: string): Promise<Buffer> {
  const h = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await h.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await h.close();
  }
}

/**
 * Spooling or recording an upload: a full disk removes what was written (the spool already removed its
 * half), raises the write_failed alert and answers 507, so the admin reads why and nothing is left behind.
 */
async function onDiskFull<T>(ctx: AppContext, key: string | null, work: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (err) {
    if (!isWriteFailure(err)) throw err;
    if (key) await removeUpload(uploadDir(ctx), key).catch(() => undefined);
    await reportWriteFailure(ctx.knex, 'upload', uploadDir(ctx), err);
    throw new HttpError(507, 'campaigns.import.disk_full');
  }
  await reportWriteSuccess(ctx.knex, 'upload');
  return result;
}

/** Address import: upload (any format), the CSV mapping page, and each run's progress. */
export function addressImportRoutes(ctx: AppContext): Router {
  const router = Router();
  const dir = uploadDir(ctx);

  router.get('/admin/campaigns/import', requireStaff, async (req, res) => {
    res.render('campaigns/import', { title: req.t('campaigns.import.title'), headExtra: HEAD, runs: await recentImportRuns(ctx.knex), error: null });
  });

  // The one multipart form: the global CSRF check cannot see its token, so it is checked here once the body is
  // parsed. The file goes straight to disk as it arrives (64 MB at most); only its first bytes are ever decoded here.
  router.post(deferCsrfUntilParsed('/admin/campaigns/import'), requireStaff, async (req, res) => {
    await sweepUploads(ctx).catch((err: unknown) => logger.warn({ err }, 'upload sweep failed'));
    await ensurePrivateDir(dir);
    const form = await onDiskFull(ctx, null, () => spoolMultipartUpload(req, dir, UPLOAD_LIMIT));
    try {
      verifyCsrfToken(req, req.get('x-csrf-token') ?? form.fields._csrf); // the form's field, or the header scripts send
    } catch (err) {
      await removeUpload(dir, form.key);
      throw err;
    }
    if (!form.upload) {
      return res.status(422).render('campaigns/import', { title: req.t('campaigns.import.title'), headExtra: HEAD, runs: await recentImportRuns(ctx.knex), error: req.t('campaigns.import.no_file') });
    }
    const chosen = form.fields.encoding === 'shift_jis' || form.fields.encoding === 'utf-8' ? (form.fields.encoding as InputEncoding) : undefined;
    const encoding: InputEncoding = form.upload.bom ? 'utf-8' : chosen ?? (form.upload.utf8 ? 'utf-8' : 'shift_jis');
    const head = await readHead(dataPath(dir, form.key));
    const format = (['csv', 'list', 'maillog', 'mbox'] as const).find((f) => f === form.fields.format) ?? detectFormat(form.upload.filename, decodeInput(head, encoding));
    const upload: SpooledUpload = { filename: form.upload.filename, format, encoding, bytes: form.upload.bytes, lines: form.upload.lines, createdAt: form.upload.createdAt };
    if (format !== 'csv') {
      const runId = await insertImportRun(ctx.knex, upload.filename, userActor(req.user!));
      const file = dataPath(dir, form.key);
      runImport(ctx, runId, upload, async () => (await candidatesFromBuffer(await fs.promises.readFile(file), upload.filename, { format, encoding })).candidates, () => removeUpload(dir, form.key), userActor(req.user!));
      return res.redirect(303, `/admin/campaigns/imports/${runId}`);
    }
    // CSV: keep the file and ask which column is which.
    await onDiskFull(ctx, form.key, () => saveUploadMeta(dir, form.key, upload));
    return res.redirect(303, `/admin/campaigns/import/${form.key}/map`);
  });

  const loadUpload = async (key: string) => {
    const upload = await loadUploadMeta(dir, key);
    if (!upload) throw NotFound('campaigns.import.upload_gone');
    return upload;
  };

  /** The mapping page: the first rows, each column numbered, and a select per field (the guess chosen). */
  const renderMap = async (req: Request, res: Response, key: string, upload: SpooledUpload, errors: FieldErrors = {}, status = 200) => {
    const table = await readTableHead(dir, key, upload, PREVIEW_ROWS);
    let guess: Mapping | null = null;
    try {
      guess = guessMapping(table);
    } catch (err) {
      if (!(err instanceof MappingError)) throw err;
    }
    const width = Math.max(table.header?.length ?? 0, ...table.records.slice(0, 50).map((r) => r.cells.length));
    res.status(status).render('campaigns/map', {
      title: req.t('campaigns.map.title'),
      headExtra: HEAD,
      key,
      upload,
      header: table.header,
      width,
      sample: table.records.slice(0, 5),
      rows: Math.max(0, upload.lines - (table.header ? 1 : 0)),
      guess,
      errors,
    });
  };

  // Only the first rows are parsed, so this page costs the same for 60 bytes or 60 MB.
  const mapPage = validate({ params: uploadKeyParams }, { notFoundKey: 'campaigns.import.upload_gone' });
  router.get('/admin/campaigns/import/:key/map', requireStaff, mapPage, async (req, res) => {
    const { key } = mapPage.of(req).params;
    await renderMap(req, res, key, await loadUpload(key));
  });

  const mapForm = validate(
    { params: uploadKeyParams, body: mappingSchema },
    {
      notFoundKey: 'campaigns.import.upload_gone',
      fallbackKey: 'campaigns.map.bad_column',
      onInvalid: async (req, res, errors) => {
        const key = String(req.params.key);
        await renderMap(req, res, key, await loadUpload(key), errors, 422);
      },
    },
  );
  router.post('/admin/campaigns/import/:key/map', requireStaff, mapForm, async (req, res) => {
    const { params, body: m } = mapForm.of(req);
    const upload = await loadUpload(params.key);
    const opt = (n: number | undefined) => (n === undefined || n < 0 ? null : n);
    const mapping: Mapping = { address: m.address, displayId: opt(m.displayId), name: opt(m.name), source: opt(m.source), lang: opt(m.lang) };
    const runId = await insertImportRun(ctx.knex, upload.filename, userActor(req.user!));
    runImport(ctx, runId, upload, async () => streamTableCandidates(dir, params.key, upload, mapping), () => removeUpload(dir, params.key), userActor(req.user!));
    return res.redirect(303, `/admin/campaigns/imports/${runId}`);
  });

  router.get('/admin/campaigns/imports/:id', requireStaff, async (req, res) => {
    const run = await findImportRun(ctx.knex, parseParam(idParam, req.params.id));
    if (!run) throw NotFound();
    const running = run.status === 'running' || run.status === 'pending';
    res.render('campaigns/import-run', {
      title: req.t('campaigns.import.run_title'),
      headExtra: HEAD + (running ? '<meta http-equiv="refresh" content="2">' : ''),
      run,
      running,
    });
  });

  return router;
}
