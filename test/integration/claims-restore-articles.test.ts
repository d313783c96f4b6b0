import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { startTestPortal, csrfFrom, signedInAgent, tempDir, type TestPortal } from '../support/portal';
import { buildUser, type BuiltUser } from '../support/factories';
import { addOldArticles, ARTICLE_MEDIA, ARTICLE_THUMB, makeOldWorld, sha256, type OldWorld } from '../support/claims-fixtures';
import { OLD_TS } from '../support/salvage-fixtures';

type Agent = Awaited<ReturnType<typeof signedInAgent>>;

/**
 * Old articles (real PostgreSQL, real files, the salvage catalogue): offered to the holder of the approved
 * claim, restored as drafts with their thumbnail and the person's article media, provenance in the portal's
 * own table (articles have no old_id), once; undo removes rows and files.
 */
describe('claims restore: articles', () => {
  let portal: TestPortal;
  let knex: Knex;
  let work: string;
  let media: string;
  let world: OldWorld;
  let uploads: string;
  let kuma: BuiltUser;
  let agent: Agent;

  beforeAll(async () => {
    work = tempDir('claims-articles-');
    media = path.join(work, 'live-uploads');
    fs.mkdirSync(media);
    portal = await startTestPortal({ TOYBOX_MEDIA_DIR: media, TOYBOX_URL: 'https://toybox.example' });
    knex = portal.ctx.knex;
    world = await makeOldWorld(portal.ctx, work);
    uploads = (await addOldArticles(portal.ctx, world, work)).uploads;
    kuma = await buildUser(knex, { display_id: 'kuma_new' });
    agent = await signedInAgent(portal, kuma.display_id, kuma.password);
    const page = await agent.get('/recover');
    const res = await agent.post('/recover/files').field('_csrf', csrfFrom(page.text)).attach('files', world.originals['sunset.png']!, 'sunset.png');
    expect(res.text).toContain('data-outcome="approved"');
  });

  afterAll(async () => {
    await portal?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function form() {
    const page = await agent.get('/recover');
    return {
      csrf: csrfFrom(page.text),
      claim: /name="claim" value="(\d+)"/.exec(page.text)![1]!,
      articles: [...page.text.matchAll(/name="articles" value="([^"]+)" checked/g)].map((m) => m[1]!),
      html: page.text,
    };
  }
  const count = async (q: Knex.QueryBuilder) => Number(((await q.count('* as n')) as Array<{ n: string | number }>)[0]!.n);

  it('offers the old id\'s articles (not another person\'s), as plain text', async () => {
    const f = await form();
    expect(f.articles).toEqual(['old-db:articles:61', 'old-db:articles:62']);
    expect(f.html).toContain('My first article');
    expect(f.html).not.toContain('usagi no kiji');
    expect(f.html).not.toContain('<b>下書き</b>');
  });

  let restoreId: number;
  it('restores them as drafts with their thumbnail and media, slug made free as TOYBOX would, no points', async () => {
    const other = await buildUser(knex);
    await knex('public.articles').insert({ author_id: other.id, title: 'taken', slug: 'my-first-article', body: '[]', custom_css: '', status: 'published', published_at: new Date(), pt_awarded: true, created_at: new Date(), updated_at: new Date() });
    const points = await count(knex('public.point_history'));
    const f = await form();
    // only the articles: no post is chosen
    const res = await agent.post('/recover/restore').type('form').send({ _csrf: f.csrf, claim: f.claim, articles: f.articles });
    expect(res.status).toBe(200);
    expect(res.text).toContain('記事 2 件（下書き）');
    const rows = await knex('public.articles').where({ author_id: kuma.id }).orderBy('created_at');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ title: 'My first article', slug: 'my-first-article-1', status: 'draft', pt_awarded: true, thumbnail: ARTICLE_THUMB, custom_css: '/* removed */ url(https://evil.example/x.css); .title { color: red }' });
    expect(rows[0].published_at.toISOString()).toBe(new Date((OLD_TS + 2100) * 1000).toISOString());
    expect(rows[0].created_at.toISOString()).toBe(new Date((OLD_TS + 2061) * 1000).toISOString());
    expect(rows[0].body).toEqual([{ type: 'heading', text: 'はじめに' }, { type: 'image', url: `https://toybox.old/uploads/${ARTICLE_MEDIA}` }]);
    expect(rows[1]).toMatchObject({ title: '下書き', slug: 'a1b2c3d4e5f6', status: 'draft', pt_awarded: false, thumbnail: null, published_at: null });
    for (const rel of [ARTICLE_THUMB, ARTICLE_MEDIA]) expect(sha256(path.join(media, rel))).toBe(sha256(path.join(uploads, rel)));
    const mediaRows = await knex('public.article_media').where({ uploader_id: kuma.id });
    expect(mediaRows).toEqual([expect.objectContaining({ file: ARTICLE_MEDIA, media_type: 'image', original_name: 'figure1.png', created_at: new Date((OLD_TS + 2050) * 1000) })]);
    expect(await count(knex('public.point_history'))).toBe(points);
    restoreId = Number((await knex('portal.restores').where({ user_id: kuma.id }).first()).id);
    expect(await knex('portal.restore_provenance').where({ restore_id: restoreId }).orderBy(['table_name', 'old_key']).select('table_name', 'old_key')).toEqual([
      { table_name: 'article_media', old_key: 'old-db:article_media:71' },
      { table_name: 'articles', old_key: 'old-db:articles:61' },
      { table_name: 'articles', old_key: 'old-db:articles:62' },
    ]);
  });

  it('restoring twice adds nothing', async () => {
    const f = await form();
    expect(f.articles).toEqual([]); // both marked restored
    const res = await agent.post('/recover/restore').type('form').send({ _csrf: f.csrf, claim: f.claim, articles: ['old-db:articles:61', 'old-db:articles:62'] });
    expect(res.text).toContain('data-result="nothing"');
    expect(await count(knex('public.articles').where({ author_id: kuma.id }))).toBe(2);
    expect(await count(knex('public.article_media').where({ uploader_id: kuma.id }))).toBe(1);
  });

  it('undo removes the articles, their media rows and the copied files; they are offered again', async () => {
    const page = await agent.get('/recover');
    const res = await agent.post(`/recover/restores/${restoreId}/undo`).type('form').send({ _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(200);
    expect(await count(knex('public.articles').where({ author_id: kuma.id }))).toBe(0);
    expect(await count(knex('public.article_media').where({ uploader_id: kuma.id }))).toBe(0);
    for (const rel of [ARTICLE_THUMB, ARTICLE_MEDIA]) expect(fs.existsSync(path.join(media, rel))).toBe(false);
    expect(await count(knex('public.articles').where({ slug: 'my-first-article' }))).toBe(1); // the other person's
    expect((await form()).articles).toEqual(['old-db:articles:61', 'old-db:articles:62']);
  });
});
