import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../app-context';
import { requireStaff } from '../../auth/guards';
import { NotFound } from '../../http/errors';
import { SANDBOXED_HTML_CSP } from '../../http/html';
import { nameParam } from '../../http/params';
import { validate } from '../../http/validate';
import { listCapturedMail, readCapturedMail } from './service';

/** A captured message's file name: a plain name the mailer chose, ending in .eml (never a path). */
const capturedParams = z.object({ name: nameParam.refine((n) => n.endsWith('.eml')) });
/** `?part=html`: the HTML part alone, for the page's sandboxed iframe. */
const capturedQuery = z.object({ part: z.literal('html', { error: 'mail.captured.bad_part' }).optional() });

/**
 * The captured-mail viewer (/admin/mail/captured): with no SMTP_URL every message the portal sends, from any
 * feature, is written to DATA_DIR/outbox instead; these pages let the admin read them.
 */
export function capturedMailRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/admin/mail/captured', requireStaff, async (req, res) => {
    const { items, total } = await listCapturedMail(ctx.config.DATA_DIR);
    res.render('mail/captured', { title: req.t('mail.captured.title'), items, total });
  });

  const one = validate({ params: capturedParams, query: capturedQuery });
  router.get('/admin/mail/captured/:name', requireStaff, one, async (req, res) => {
    const { params, query } = one.of(req);
    const mail = await readCapturedMail(ctx.config.DATA_DIR, params.name);
    if (!mail) throw NotFound();
    if (query.part === 'html') {
      res.setHeader('Content-Security-Policy', SANDBOXED_HTML_CSP);
      res.setHeader('X-Frame-Options', 'SAMEORIGIN');
      return res.type('html').send(mail.html ?? '');
    }
    return res.render('mail/captured-message', { title: mail.subject || mail.name, name: mail.name, subject: mail.subject, headers: mail.headers, text: mail.text, hasHtml: mail.html !== null });
  });

  return router;
}
