import { renderMarkdown } from '../../src/features/notice/markdown';
import { parseTokyoTime, toTokyoInput, formatTokyo, formatWindow } from '../../src/i18n/tokyo-time';
import { parseNoticeInput } from '../../src/features/notice/schema';
import { bannerFragment, BANNER_JS } from '../../src/features/notice/bundle';
import { atomFeed } from '../../src/features/notice/atom';
import { toPublicNotice } from '../../src/features/notice/snapshot';
import type { NoticeRow } from '../../src/features/notice/model';

describe('notice Markdown', () => {
  it('escapes raw HTML and keeps formatting', () => {
    expect(renderMarkdown('**太字** <script>alert(1)</script>')).toBe('<p><strong>太字</strong> &lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(renderMarkdown('<img src=x onerror=alert(1)>')).toBe('<p>&lt;img src=x onerror=alert(1)&gt;</p>');
  });

  it.each([
    ['[x](javascript:alert(1))'],
    ['[x](  javascript:alert(1))'],
    ['[x](java\tscript:alert(1))'],
    ['[x](JAVASCRIPT:alert(1))'],
    ['[x](vbscript:msgbox(1))'],
    ['[x](data:text/html,<script>alert(1)</script>)'],
    ['<javascript:alert(1)>'],
    ['[x](//evil.test/path)'],
  ])('leaves %s as text, never a link', (src) => {
    expect(renderMarkdown(src)).not.toMatch(/<a /);
  });

  it('keeps http(s), mailto and same-site links, with rel=noopener', () => {
    expect(renderMarkdown('[help](https://toybox.test/help)')).toBe('<p><a href="https://toybox.test/help" rel="noopener noreferrer" target="_blank">help</a></p>');
    expect(renderMarkdown('mail [us](mailto:staff@toybox.test)')).toContain('href="mailto:staff@toybox.test"');
    expect(renderMarkdown('[status](/status)')).toContain('href="/status"');
    expect(renderMarkdown('https://toybox.test/x')).toContain('rel="noopener noreferrer"');
    expect(renderMarkdown('![img](https://tracker.test/p.gif)')).not.toContain('<img');
  });
});

describe('Japan time in, UTC stored', () => {
  it('reads datetime-local values as Asia/Tokyo and keeps explicit offsets', () => {
    expect(parseTokyoTime('2026-12-01T02:00')!.toISOString()).toBe('2026-11-30T17:00:00.000Z');
    expect(parseTokyoTime('2026-12-01 02:00')!.toISOString()).toBe('2026-11-30T17:00:00.000Z');
    expect(parseTokyoTime('2026-12-01T02:00:00Z')!.toISOString()).toBe('2026-12-01T02:00:00.000Z');
    expect(parseTokyoTime('2026-12-01T02:00+01:00')!.toISOString()).toBe('2026-12-01T01:00:00.000Z');
    expect(parseTokyoTime('tomorrow')).toBeNull();
    expect(parseTokyoTime('')).toBeNull();
  });

  it('shows Japan time in both languages', () => {
    const d = new Date('2026-11-30T17:00:00Z');
    expect(toTokyoInput(d)).toBe('2026-12-01T02:00');
    expect(formatTokyo(d, 'ja')).toBe('2026/12/01 02:00');
    expect(formatTokyo(d, 'en')).toBe('1 Dec 2026, 02:00');
    expect(formatWindow(d, new Date('2026-11-30T19:30:00Z'), 'ja')).toBe('2026/12/01 02:00 – 2026/12/01 04:30（日本時間）');
  });
});

describe('notice input', () => {
  it('defaults the state by kind and rejects a state of the other kind', () => {
    const ok = parseNoticeInput({ kind: 'maintenance', severity: 'info', title_ja: 't', body_ja: 'b', starts_at: '2026-12-01T02:00', ends_at: '2026-12-01T03:00' });
    expect(ok.ok && ok.value.state).toBe('scheduled');
    const bad = parseNoticeInput({ kind: 'incident', severity: 'info', state: 'in_progress', title_ja: 't', body_ja: 'b' });
    expect(bad).toEqual({ ok: false, errors: { state: [{ key: 'notice.errors.bad_state' }] } }); // the shared FieldErrors shape
  });
});

describe('banner fragment and feed', () => {
  const row: Omit<NoticeRow, 'created_by' | 'created_at'> = {
    id: 7, kind: 'incident', severity: 'critical', state: 'investigating', title_ja: '障害 <b>', title_en: '', body_ja: '本文', body_en: 'Body',
    starts_at: null, ends_at: null, mirror: false, components: [], published_at: new Date('2026-11-30T00:00:00Z'), resolved_at: null, version: 3, updated_at: new Date('2026-11-30T00:00:00Z'),
  };
  const n = toPublicNotice(row, [{ id: 1, at: new Date('2026-11-30T00:00:00Z'), state: 'investigating', body_ja: '本文', body_en: 'Body' }]);

  it('renders nothing without notices, and escapes titles', () => {
    expect(bannerFragment([], 'ja', 'https://p.test/status')).toBe('');
    const html = bannerFragment([n], 'en', 'https://p.test/status');
    expect(html).toContain('障害 &lt;b&gt;'); // no English title: Japanese, escaped
    expect(html).toContain('role="alert"');
    expect(html).toContain('<p>Body</p>');
    expect(html).toContain('href="https://p.test/status?lang=en"');
  });

  it('lists every update in the Atom feed', () => {
    const feed = atomFeed({ version: 3, generatedAt: '2026-11-30T00:00:00.000Z', active: [n], history: [] }, 'https://p.test', 'ja');
    expect(feed).toContain('<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ja">');
    expect(feed).toContain('<id>tag:p.test,2026:notice-7-update-1</id>');
    expect(feed).toContain('<title>[調査中] 障害 &lt;b&gt;</title>');
    expect(feed).toContain('&lt;p&gt;本文&lt;/p&gt;');
  });

  it('inlines its stylesheet and texts into banner.js', () => {
    expect(BANNER_JS).not.toContain('__CSS__');
    expect(BANNER_JS).not.toContain('__LABELS__');
    expect(BANNER_JS).toContain('お知らせを閉じる');
    expect(BANNER_JS).toContain('Dismiss notice');
  });
});
