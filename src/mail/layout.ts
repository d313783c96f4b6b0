import fs from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';

const PARTIALS = path.resolve(__dirname, '..', '..', 'views', 'emails', 'partials');

export interface EmailLayout {
  /** Doctype, viewport, the 600 px column; `{ lang, title }`. */
  top: ejs.TemplateFunction;
  /** Closes what `top` opened. */
  bottom: ejs.TemplateFunction;
  /** The main link as a bulletproof button with the address small below; `{ t, url, label }`. */
  button: ejs.TemplateFunction;
}

let compiled: EmailLayout | null = null;

/**
 * The shared e-mail frame (views/emails/partials/), compiled once per process and handed to every
 * e-mail template as `layout`: an EJS include would resolve and stat its file on every message,
 * which a 10k-recipient campaign feels.
 */
export function emailLayout(): EmailLayout {
  const load = (name: string) => ejs.compile(fs.readFileSync(path.join(PARTIALS, `${name}.ejs`), 'utf8'));
  compiled ??= { top: load('top'), bottom: load('bottom'), button: load('button') };
  return compiled;
}
