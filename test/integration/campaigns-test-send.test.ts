import { csrfFrom, signedInAgent } from '../support/portal';
import { usePortal } from '../support/portal-stack';
import { buildUser } from '../support/factories';
import { createCampaign } from '../../src/features/campaigns/lifecycle/service';

/** Test sends go to a typed list of addresses: validated, at most 10 a time, 10 requests per 15 minutes per admin. */
describe('campaign test send to a list of addresses', () => {
  const web = usePortal({ smtp: true, queues: ['campaignTestSend'] }); // test messages go through the queue

  it('sends one [TEST] message to each address, refuses bad or too many addresses, and rate-limits the admin', async () => {
    const admin = await buildUser(web.portal.ctx.knex, { is_staff: true });
    const agent = await signedInAgent(web.portal, admin.display_id, admin.password);
    const { id } = await createCampaign(web.portal.ctx.knex, { name: 'tests', subject_ja: '件名', text_ja: '{{link}}' }, 'test');
    const csrf = csrfFrom((await agent.get(`/admin/campaigns/${id}`)).text);
    const post = (to: string) => agent.post(`/admin/campaigns/${id}/test-send`).type('form').send({ _csrf: csrf, to, lang: 'en' });

    const ok = await post('one@example.jp\nTwo@Example.jp, one@example.jp');
    expect(ok.status).toBe(303);
    const got = await web.sink.waitFor(2);
    expect(got.map((m) => m.envelopeTo[0]).sort()).toEqual(['Two@example.jp', 'one@example.jp']);
    const bad = await post('one@example.jp\nnope');
    expect(bad.status).toBe(422);
    expect(bad.text).toMatch(/<p class="field-error" id="to-error">メールアドレスとして正しくありません: nope<\/p>/); // beside the box
    expect(bad.text).toMatch(/<textarea id="test-to"[^>]*aria-invalid="true"[^>]*>one@example.jp\nnope<\/textarea>/); // what was typed, to correct
    const badLang = await agent.post(`/admin/campaigns/${id}/test-send`).type('form').send({ _csrf: csrf, to: 'one@example.jp', lang: 'fr' });
    expect(badLang.status).toBe(422);
    expect(badLang.text).toContain('id="lang-error"');
    expect((await post(Array.from({ length: 11 }, (_, i) => `t${i}@example.jp`).join('\n'))).status).toBe(422);
    expect((await post('')).status).toBe(422);
    expect(web.sink.messages).toHaveLength(2); // refused lists sent nothing
    for (let i = 0; i < 5; i += 1) expect((await post(`n${i}@example.jp`)).status).toBe(303); // 10 requests in all, refused ones included
    const limited = await post('late@example.jp');
    expect(limited.status).toBe(429);
    expect(web.sink.messages.map((m) => m.envelopeTo[0])).not.toContain('late@example.jp');
  });
});
