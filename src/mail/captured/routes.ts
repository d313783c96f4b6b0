import fs from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import { simpleParser } from 'mailparser';
import type { AppContext } from '../../app-context';
import { requireStaff } from '../../auth/guards';
import { NotFound } from '../../http/errors';
import { formatJst } from '../../http/tokyo-time';
import { outboxDir } from '../mailer';
import { SANDBOXED_HTML_CSP } from '../../http/html';

const HEAD = '<link rel="stylesheet" href="/static/css/campaigns.css">';
const NAME = /^[\w.-]+\.eml$/;

/** With no SMTP_URL every message lands in DATA_DIR/outbox; these pages let the admin read them. */
export function campaignOutboxRoutes(ctx: AppContext): Router {
  const router = Router();
  const dir = outboxDir(ctx.config.DATA_DIR);

  router.get('/admin/campaigns/outbox', requireStaff, async (req, res) => {
    const files = (await fs.promises.readdir(dir).catch(() => [] as string[])).filter((f) => NAME.test(f)).sort().reverse();
    const page = files.slice(0, 200);
    const items = await Promise.all(
      page.map(async (name) => {
        const head = (await fs.promises.readFile(path.join(dir, name))).subarray(0, 8192);
        const parsed = await simpleParser(head, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
        return { name, to: parsed.to ? [parsed.to].flat().map((a) => a.text).join(', ') : '', subject: parsed.subject ?? '', date: parsed.date ?? null };
      }),
    );
    res.render('mail/captured', { title: req.t('campaigns.outbox.title'), headExtra: HEAD, items, total: files.length, kind: ctx.mailer.kind });
  });

  router.get('/admin/campaigns/outbox/:name', requireStaff, async (req, res) => {
    const name = String(req.params.name);
    if (!NAME.test(name)) throw NotFound();
    const raw = await fs.promises.readFile(path.join(dir, name)).catch(() => null);
    if (!raw) throw NotFound();
    const mail = await simpleParser(raw);
    if (req.query.part === 'html') {
      res.setHeader('Content-Security-Policy', SANDBOXED_HTML_CSP);
      res.setHeader('X-Frame-Options', 'SAMEORIGIN');
      return res.type('html').send(mail.html || '');
    }
    const headers = ['from', 'to', 'subject', 'date', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post', 'list-id'].map((h) => [h, mail.headerLines.find((l) => l.key === h)?.line.replace(/^[^:]+:\s*/, '') ?? '']);
    // The raw Date header is what mail clients read; the Japan time beside it is for the admin.
    if (mail.date) headers.find((h) => h[0] === 'date')![1] += ` (${formatJst(mail.date)})`;
    return res.render('mail/captured-message', { title: mail.subject ?? name, headExtra: HEAD, name, subject: mail.subject ?? '', headers, text: mail.text ?? '', hasHtml: Boolean(mail.html) });
  });

  return router;
}
