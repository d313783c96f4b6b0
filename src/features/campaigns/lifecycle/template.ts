import { escapeHtml } from '../../../http/html';

/**
 * Campaign templates use `{{variable}}` placeholders and nothing else: admins
 * write them in the browser, so they must not be able to run code (EJS would).
 */
export const TEMPLATE_VARIABLES = ['display_name', 'display_id', 'email', 'link', 'unsubscribe_link'] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateValues = Record<TemplateVariable, string>;

export class TemplateError extends Error {
  constructor(
    public readonly code: 'unknown_variable' | 'unclosed' | 'empty' | 'missing_link',
    public readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

type Part = string | { v: TemplateVariable };
export type Compiled = Part[];

/** Parses a template; throws TemplateError naming the unknown variable or the unclosed brace. */
export function compileTemplate(source: string): Compiled {
  const parts: Part[] = [];
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf('{{', i);
    const strayClose = source.indexOf('}}', i);
    if (strayClose >= 0 && (open < 0 || strayClose < open)) throw new TemplateError('unclosed', source.slice(Math.max(0, strayClose - 20), strayClose + 2));
    if (open < 0) {
      parts.push(source.slice(i));
      break;
    }
    if (open > i) parts.push(source.slice(i, open));
    const close = source.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError('unclosed', source.slice(open, open + 30));
    const name = source.slice(open + 2, close).trim();
    if (!(TEMPLATE_VARIABLES as readonly string[]).includes(name)) throw new TemplateError('unknown_variable', name);
    parts.push({ v: name as TemplateVariable });
    i = close + 2;
  }
  return parts;
}

export function usesVariable(c: Compiled, v: TemplateVariable): boolean {
  return c.some((p) => typeof p !== 'string' && p.v === v);
}


export function renderCompiled(c: Compiled, values: TemplateValues, escape = false): string {
  let out = '';
  for (const p of c) out += typeof p === 'string' ? p : escape ? escapeHtml(values[p.v]) : values[p.v];
  return out;
}

/** A plain-text body as simple HTML: escaped, links made clickable, blank lines as paragraphs. */
export function textToHtml(text: string): string {
  return text
    .split(/\n{2,}/)
    .map((para) => `<p>${escapeHtml(para).replace(/(https?:\/\/[^\s<]+)/g, '<a href="$1">$1</a>').replace(/\n/g, '<br>')}</p>`)
    .join('\n');
}

export interface TemplateSet {
  subject: string;
  text: string;
  html?: string | null;
}

export interface CompiledSet {
  subject: Compiled;
  text: Compiled;
  html: Compiled | null;
}

export interface TemplateFieldError {
  field: 'subject' | 'text' | 'html';
  code: TemplateError['code'];
  detail: string;
}

/** Compiles every part of one language; collects each field's problem so a form can show them all at once. */
export function compileSet(t: TemplateSet): { compiled: CompiledSet | null; errors: TemplateFieldError[] } {
  const errors: TemplateFieldError[] = [];
  const one = (field: TemplateFieldError['field'], src: string | null | undefined, required: boolean): Compiled | null => {
    if (!src || !src.trim()) {
      if (required) errors.push({ field, code: 'empty', detail: '' });
      return null;
    }
    try {
      return compileTemplate(src);
    } catch (err) {
      if (err instanceof TemplateError) errors.push({ field, code: err.code, detail: err.detail });
      else throw err;
      return null;
    }
  };
  const subject = one('subject', t.subject, true);
  const text = one('text', t.text, true);
  const html = one('html', t.html, false);
  if (text && !usesVariable(text, 'link')) errors.push({ field: 'text', code: 'missing_link', detail: '{{link}}' });
  if (html && !usesVariable(html, 'link')) errors.push({ field: 'html', code: 'missing_link', detail: '{{link}}' });
  if (errors.length || !subject || !text) return { compiled: null, errors };
  return { compiled: { subject, text, html }, errors };
}
