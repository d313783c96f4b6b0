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

type Token = ReturnType<typeof md.parse>[number];

/** A same-site link (`/status`) leads to the portal: outside the portal it would resolve against TOYBOX. */
function absolute(href: string, baseUrl: string): string {
  return href.startsWith('/') && !href.startsWith('//') ? `${baseUrl}${href}` : href;
}

/** Inline tokens as text: markup dropped, a link as "text (URL)" (just the URL when the text is the URL). */
function inlineText(children: Token[], baseUrl: string, withUrls = true): string {
  let out = '';
  const links: Array<{ href: string; start: number }> = [];
  for (const t of children) {
    if (t.type === 'text' || t.type === 'code_inline') out += t.content;
    else if (t.type === 'softbreak' || t.type === 'hardbreak') out += '\n';
    else if (t.type === 'link_open') links.push({ href: absolute(String(t.attrGet('href') ?? ''), baseUrl), start: out.length });
    else if (t.type === 'link_close') {
      const link = links.pop();
      if (!link || !withUrls) continue;
      const text = out.slice(link.start);
      const bare = link.href.replace(/^mailto:/, '');
      if (text === link.href && text !== bare) out = out.slice(0, link.start) + bare; // <mailto:x> reads as the address
      else if (text !== bare && text !== link.href && link.href) out += ` (${link.href})`;
      else if (!text) out += link.href;
    }
  }
  return out;
}

/**
 * Notice Markdown as readable plain text, for places that print text as it
 * is (TOYBOX's announcements page escapes `content`; its maintenance page
 * prints the message): emphasis and heading marks dropped, list items as
 * "・" or "1.", links as "text (URL)", same-site links made absolute.
 */
export function markdownToPlainText(source: string, baseUrl: string): string {
  const blocks: Array<{ text: string; list: number | null }> = [];
  const lists: Array<{ ordered: boolean; n: number; id: number }> = [];
  let listIds = 0;
  let prefix = '';
  const push = (text: string) => blocks.push({ text, list: lists.length ? lists[0]!.id : null }); // the outermost list: nested items stay tight
  for (const t of md.parse(source ?? '', {})) {
    if (t.type === 'bullet_list_open' || t.type === 'ordered_list_open') {
      lists.push({ ordered: t.type === 'ordered_list_open', n: Number(t.attrGet('start') ?? 1) - 1, id: ++listIds });
    } else if (t.type === 'bullet_list_close' || t.type === 'ordered_list_close') lists.pop();
    else if (t.type === 'list_item_open') {
      const list = lists[lists.length - 1]!;
      list.n += 1;
      prefix = `${'  '.repeat(lists.length - 1)}${list.ordered ? `${list.n}. ` : '・'}`;
    } else if (t.type === 'inline') {
      push(prefix + inlineText(t.children ?? [], baseUrl));
      prefix = '';
    } else if (t.type === 'fence' || t.type === 'code_block') push(t.content.replace(/\n$/, ''));
    else if (t.type === 'hr') push('――――');
  }
  // Items of one list on consecutive lines; everything else a paragraph apart.
  return blocks
    .map((b, i) => (i === 0 ? '' : b.list !== null && b.list === blocks[i - 1]!.list ? '\n' : '\n\n') + b.text)
    .join('')
    .trim();
}

/** A title without markup: `**再登録**のお願い` becomes `再登録のお願い`. */
export function markdownTitleText(source: string): string {
  const tokens = md.parseInline(source ?? '', {});
  return tokens
    .map((t) => inlineText(t.children ?? [], '', false).replace(/\s+/g, ' '))
    .join('')
    .trim();
}
