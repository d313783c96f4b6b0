import path from 'node:path';
import ejs from 'ejs';
import { translator, type Lang } from '../i18n';
import { formatJst } from '../i18n/tokyo-time';
import { definitionFor } from './definitions';
import { emailLayout } from './layout';

export const EMAIL_VIEWS = path.resolve(__dirname, '..', '..', 'views', 'emails');

/**
 * Renders views/emails/<name>.html.ejs and <name>.text.ejs with the locale's
 * `t`: every e-mail has both parts.
 */
export async function renderEmail(
  name: string,
  lang: Lang,
  locals: Record<string, unknown>,
): Promise<{ html: string; text: string }> {
  const def = definitionFor(name);
  if (!def) throw new Error(`no e-mail definition for template ${name} (src/mail/definitions.ts)`);
  const missing = def.variables.filter((v) => locals[v] === undefined);
  if (missing.length) throw new Error(`e-mail ${name}: missing ${missing.join(', ')}`);
  const data = { when: (d: Date | string) => formatJst(d), ...locals, lang, t: translator(lang), layout: emailLayout() };
  const [html, text] = await Promise.all([
    ejs.renderFile(path.join(EMAIL_VIEWS, `${name}.html.ejs`), data, { async: false }),
    ejs.renderFile(path.join(EMAIL_VIEWS, `${name}.text.ejs`), data, { async: false, escape: (s: unknown) => String(s ?? '') }),
  ]);
  return { html, text };
}
