import type { Request, Response } from 'express';
import type { PublicNotice } from './model';
import { bannerFragment } from './bundle';

/** The second POST of a two-step action carries confirm=1; anything else gets the confirmation page first. */
export function confirmed(req: Request): boolean {
  return req.body?.confirm === '1';
}

interface ConfirmPage {
  /** Where the confirming form posts (the same URL as the first POST). */
  action: string;
  /** The first POST's fields, posted again unchanged (a new notice's text, the publish button). */
  fields?: Record<string, unknown>;
  heading: string;
  lines: string[];
  button: string;
  back: string;
  /** The banner as it will appear, in both languages. */
  preview?: PublicNotice;
  statusUrl: string;
  headExtra: string;
}

/**
 * A real confirmation step (works without JavaScript) before a notice reaches
 * every TOYBOX page or leaves it: what will happen, the banner as it will
 * look, and one button that posts again with confirm=1.
 */
export function renderConfirm(req: Request, res: Response, p: ConfirmPage): void {
  const hidden = Object.entries(p.fields ?? {})
    .filter(([k]) => k !== '_csrf' && k !== 'confirm')
    // several checkboxes of one name arrive as an array: one hidden field each
    .flatMap(([name, v]) => (Array.isArray(v) ? v : [v]).filter((x) => typeof x === 'string' || typeof x === 'boolean').map((x) => ({ name, value: String(x) })));
  res.render('notice/confirm', {
    title: p.heading,
    headExtra: p.headExtra,
    heading: p.heading,
    lines: p.lines,
    button: p.button,
    back: p.back,
    action: p.action,
    hidden,
    previewBanner: p.preview ? { ja: bannerFragment([p.preview], 'ja', p.statusUrl), en: bannerFragment([p.preview], 'en', p.statusUrl) } : null,
  });
}
