import { portalLinks, bannerFragment } from '../../src/features/notice/bundle';
import type { PublicNotice } from '../../src/features/notice/model';

describe('same-site links in a notice lead to the portal', () => {
  it('rewrites /paths (not //hosts, not absolute URLs, not #anchors) against PUBLIC_URL', () => {
    const html = '<p><a href="/status" rel="noopener noreferrer" target="_blank">状況</a> <a href="//evil.example/x">x</a> <a href="https://toybox.example/">t</a> <a href="#top">top</a></p>';
    expect(portalLinks(html, 'https://portal.example')).toBe(
      '<p><a href="https://portal.example/status" rel="noopener noreferrer" target="_blank">状況</a> <a href="//evil.example/x">x</a> <a href="https://toybox.example/">t</a> <a href="#top">top</a></p>',
    );
  });

  it('the fragment keeps what it is given: the bundle passes it absolute links', () => {
    const n = { id: 1, version: 1, severity: 'info', title: { ja: 't', en: 't' }, message: { ja: portalLinks('<a href="/status">s</a>', 'https://p.example'), en: '' }, when: { ja: '', en: '' } } as unknown as PublicNotice;
    expect(bannerFragment([n], 'ja', 'https://p.example/status')).toContain('<a href="https://p.example/status">s</a>');
  });
});
