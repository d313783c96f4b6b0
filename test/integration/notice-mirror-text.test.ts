import * as service from '../../src/features/notice/service';
import { markdownToPlainText, markdownTitleText } from '../../src/features/notice/markdown';
import { useTestPortal } from '../support/portal-stack';
import { addNotice } from '../support/notices';

const actor = { label: 'test:mirror', userId: null };

describe('the TOYBOX mirror writes readable plain text (TOYBOX prints content as escaped text)', () => {
  const portal = useTestPortal({ PUBLIC_URL: 'https://portal.toybox.example' });

  it('mirrors an announcement without Markdown marks: links as "text (URL)", same-site links to the portal, a title without markup', async () => {
    const id = await addNotice(portal.ctx, {
      kind: 'incident',
      severity: 'critical',
      title_ja: '**再登録**のお願い',
      body_ja: 'アカウントの**再登録**をお願いします。\n\n- [復旧状況](/status)\n- [TOYBOX](https://toybox.example/)\n\n詳しくは https://portal.toybox.example/status へ。',
      mirror: 'on',
    }, { actor });
    const [ann] = await portal.ctx.knex('public.announcements').select('title', 'content', 'is_active');
    expect(ann).toEqual({
      title: '再登録のお願い',
      content:
        'アカウントの再登録をお願いします。\n\n・復旧状況 (https://portal.toybox.example/status)\n・TOYBOX (https://toybox.example/)\n\n詳しくは https://portal.toybox.example/status へ。',
      is_active: true,
    });

    await service.addUpdate(portal.ctx, id, { state: 'identified', body_ja: '原因は*ディスク*でした。', body_en: '' }, actor);
    const [after] = await portal.ctx.knex('public.announcements').select('content');
    expect(after.content).toMatch(/\n\n原因はディスクでした。$/);
    expect(after.content).not.toMatch(/[*_]{1,2}\S/);
  });

  it('writes the maintenance message as plain text too', async () => {
    await addNotice(portal.ctx, {
      kind: 'maintenance',
      severity: 'warning',
      state: 'in_progress',
      title_ja: '**DB** メンテナンス',
      body_ja: '[状況](/status)をご覧ください。',
      starts_at: '2026-12-01T02:00',
      ends_at: '2026-12-01T04:00',
      mirror: 'on',
    }, { actor });
    const site = await portal.ctx.knex('public.site_maintenance').orderBy('id').first('enabled', 'message');
    expect(site).toEqual({ enabled: true, message: 'DB メンテナンス\n状況 (https://portal.toybox.example/status)をご覧ください。' });
  });

  it('keeps code, numbered lists and bare links readable', () => {
    expect(markdownToPlainText('1. `npm start`\n2. [https://a.example](https://a.example)\n\n---\n\nメール: <mailto:help@toybox.example>', 'https://p.example')).toBe(
      '1. npm start\n2. https://a.example\n\n――――\n\nメール: help@toybox.example',
    );
    expect(markdownTitleText('[障害](https://x.example) の **お知らせ**')).toBe('障害 の お知らせ');
  });
});
