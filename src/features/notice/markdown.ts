import MarkdownIt from 'markdown-it';

/**
 * Notice Markdown: raw HTML is escaped (html: false), images are off (a banner
 * must not load third-party pixels), and only http(s), mailto and relative
 * links survive; anything else (javascript:, data:, vbscript:) stays as text.
 */
const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false });
md.disable(['image']);

const SAFE_LINK = /^(https?:\/\/|mailto:|\/(?!\/)|#)/i;

md.validateLink = (url: string) => {
  const trimmed = url.trim().replace(/[\u0000-\u001f\u007f\s]/g, '');
  return SAFE_LINK.test(trimmed);
};

const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const token = tokens[idx]!;
  token.attrSet('rel', 'noopener noreferrer');
  token.attrSet('target', '_blank');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

export function renderMarkdown(source: string): string {
  return md.render(source ?? '').trim();
}
