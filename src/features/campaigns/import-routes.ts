import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { Router } from 'express';
import type { AppContext } from '../../app-context';
import { requireStaff } from '../../auth/guards';
import { userActor, recordAudit } from '../../audit/service';
import { BadRequest, HttpError, NotFound } from '../../http/errors';
import { writeFileAtomic } from '../../files/atomic-write';
import { ensurePrivateDir } from '../../files/private';
import { isWriteFailure, reportWriteFailure } from '../../files/write-failures';
import { logger } from '../../logger';
import { readMultipartForm } from '../../http/multipart';
import { deferCsrfUntilParsed, verifyCsrfToken } from '../../http/csrf';
import { decodeInput, detectFormat, readTable, guessMapping, MappingError, type ImportFormat, type InputEncoding, type Mapping } from './addresses/parse';
import { candidatesFromBuffer, importCandidates } from './addresses/service';
import { insertImportRun, updateImportRun, findImportRun, recentImportRuns } from './addresses/service';
import { mappingSchema } from './schema';

const HEAD = '<link rel="stylesheet" href="/static/css/campaigns.css">';
const UPLOAD_LIMIT = 64 * 1024 * 1024;

interface Upload {
  filename: string;
  format: ImportFormat;
  encoding?: InputEncoding;
}

const uploadDir = (ctx: AppContext) => path.join(ctx.config.DATA_DIR, 'campaign-uploads');


/**
 * Runs an import in the background of this process; the admin page polls
 * the run's row for progress and the result. The work is the same as the
 * CLI's and as idempotent, so a run cut short by a restart is simply redone.
 */
function runImport(ctx: AppContext, runId: number, data: Buffer, upload: Upload, mapping: Mapping | undefined, actor: string) {
  (async () => {
    const { candidates } = await candidatesFromBuffer(data, upload.filename, { format: upload.format, encoding: upload.encoding, mapping });
    await updateImportRun(ctx.knex, runId, { total: candidates.length });
    let last = 0;
    const result = await importCandidates(ctx.knex, candidates, `${upload.format}:${upload.filename}`, (done) => {
      if (Date.now() - last < 300) return;
      last = Date.now();
      void updateImportRun(ctx.knex, runId, { processed: done }).catch(() => undefined);
    });
    await updateImportRun(ctx.knex, runId, { status: 'done', processed: candidates.length, result, finished: true });
    await recordAudit(ctx.knex, actor, 'campaigns.import', `import:${runId}`, { file: upload.filename, imported: result.imported, merged: result.merged, rejected: result.rejected.length });
  })().catch(async (err: Error) => {
    logger.error({ err, runId }, 'address import failed');
    await updateImportRun(ctx.knex, runId, { status: 'failed', error: err.message.slice(0, 500), finished: true }).catch(() => undefined);
  });
}

/** Both halves of an upload, private, or neither: a full disk answers 507 and leaves nothing behind. */
async function saveUpload(ctx: AppContext, key: string, data: Buffer, upload: Upload): Promise<void> {
  const files = [path.join(uploadDir(ctx), `${key}.data`), path.join(uploadDir(ctx), `${key}.json`)] as const;
  try {
    await ensurePrivateDir(uploadDir(ctx));
    await writeFileAtomic(files[0], data);
    await writeFileAtomic(files[1], JSON.stringify(upload));
  } catch (err) {
    await Promise.all(files.map((f) => fs.promises.rm(f, { force: true })));
    if (!isWriteFailure(err)) throw err;
    await reportWriteFailure(ctx.knex, 'upload', files[0], err);
    throw new HttpError(507, 'campaigns.import.disk_full');
  }
}

export function campaignImportRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/admin/campaigns/import', requireStaff, async (req, res) => {
    res.render('campaigns/import', { title: req.t('campaigns.import.title'), headExtra: HEAD, runs: await recentImportRuns(ctx.knex), error: null });
  });

  // The one multipart form: the global CSRF check cannot see its token, so it is checked here once the body is parsed.
  router.post(deferCsrfUntilParsed('/admin/campaigns/import'), requireStaff, async (req, res) => {
    const form = await readMultipartForm(req, UPLOAD_LIMIT);
    verifyCsrfToken(req, form.fields._csrf);
    if (!form.file || form.file.data.length === 0) {
      return res.status(422).render('campaigns/import', { title: req.t('campaigns.import.title'), headExtra: HEAD, runs: await recentImportRuns(ctx.knex), error: req.t('campaigns.import.no_file') });
    }
    const encoding = form.fields.encoding === 'shift_jis' || form.fields.encoding === 'utf-8' ? (form.fields.encoding as InputEncoding) : undefined;
    const text = decodeInput(form.file.data, encoding);
    const format = (['csv', 'list', 'maillog', 'mbox'] as const).find((f) => f === form.fields.format) ?? detectFormat(form.file.filename, text);
    const upload: Upload = { filename: form.file.filename, format, encoding };
    if (format !== 'csv') {
      const runId = await insertImportRun(ctx.knex, upload.filename, userActor(req.user!));
      runImport(ctx, runId, form.file.data, upload, undefined, userActor(req.user!));
      return res.redirect(303, `/admin/campaigns/imports/${runId}`);
    }
    // CSV: keep the file and ask which column is which.
    const key = crypto.randomBytes(12).toString('hex');
    await saveUpload(ctx, key, form.file.data, upload);
    return res.redirect(303, `/admin/campaigns/import/${key}/map`);
  });

  const loadUpload = async (key: string) => {
    if (!/^[0-9a-f]{24}$/.test(key)) throw NotFound();
    try {
      const upload = JSON.parse(await fs.promises.readFile(path.join(uploadDir(ctx), `${key}.json`), 'utf8')) as Upload;
      return { upload, data: await fs.promises.readFile(path.join(uploadDir(ctx), `${key}.data`)) };
    } catch {
      throw NotFound('campaigns.import.upload_gone');
    }
  };

  router.get('/admin/campaigns/import/:key/map', requireStaff, async (req, res) => {
    const key = String(req.params.key);
    const { upload, data } = await loadUpload(key);
    const table = readTable(decodeInput(data, upload.encoding));
    let guess: Mapping | null = null;
    try {
      guess = guessMapping(table);
    } catch (err) {
      if (!(err instanceof MappingError)) throw err;
    }
    const width = Math.max(table.header?.length ?? 0, ...table.records.slice(0, 50).map((r) => r.cells.length));
    res.render('campaigns/map', {
      title: req.t('campaigns.map.title'),
      headExtra: HEAD,
      key,
      upload,
      header: table.header,
      width,
      sample: table.records.slice(0, 5),
      rows: table.records.length,
      guess,
    });
  });

  router.post('/admin/campaigns/import/:key/map', requireStaff, async (req, res) => {
    const key = String(req.params.key);
    const { upload, data } = await loadUpload(key);
    const parsed = mappingSchema.safeParse(req.body);
    if (!parsed.success) throw BadRequest('campaigns.map.bad_mapping');
    const opt = (n: number | undefined) => (n === undefined || n < 0 ? null : n);
    const m = parsed.data;
    const mapping: Mapping = { address: m.address, displayId: opt(m.displayId), name: opt(m.name), source: opt(m.source), lang: opt(m.lang) };
    const runId = await insertImportRun(ctx.knex, upload.filename, userActor(req.user!));
    runImport(ctx, runId, data, upload, mapping, userActor(req.user!));
    await fs.promises.rm(path.join(uploadDir(ctx), `${key}.data`), { force: true });
    await fs.promises.rm(path.join(uploadDir(ctx), `${key}.json`), { force: true });
    return res.redirect(303, `/admin/campaigns/imports/${runId}`);
  });

  router.get('/admin/campaigns/imports/:id', requireStaff, async (req, res) => {
    const run = await findImportRun(ctx.knex, Number(req.params.id) || 0);
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
