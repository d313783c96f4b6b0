import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import type { Knex } from 'knex';
import { startTestPortal, csrfFrom, signedInAgent, tempDir, type TestPortal } from '../support/portal';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { buildUser, type BuiltUser } from '../support/factories';
import { insertSubmissionRow } from '../../src/toybox/rows';
import { makeOldWorld, sha256, type OldWorld } from '../support/claims-fixtures';
import { OLD_TS } from '../support/salvage-fixtures';
import { workQueues } from '../support/background';
import { eventually } from '../support/eventually';

type Agent = Awaited<ReturnType<typeof signedInAgent>>;

const OLD_SECRET = 'django-insecure-the-old-sites-secret-key';
/** A token as djangorestframework-simplejwt signs it (HS256 with SECRET_KEY). */
function simpleJwt(payload: Record<string, unknown>, key = OLD_SECRET): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${body}.${crypto.createHmac('sha256', key).update(body).digest('base64url')}`;
}

describe('claims and restore (real PostgreSQL, real SMTP, salvage catalogue)', () => {
  let portal: TestPortal;
  let sink: SmtpSink;
  let knex: Knex;
  let work: string;
  let media: string;
  let world: OldWorld;
  let stopWorker: () => Promise<void>;

  beforeAll(async () => {
    sink = await startSmtpSink();
    work = tempDir('claims-');
    media = path.join(work, 'live-uploads');
    fs.mkdirSync(media);
    portal = await startTestPortal({ TOYBOX_MEDIA_DIR: media, TOYBOX_URL: 'https://toybox.example', SMTP_URL: `${sink.url}?tls=off`, CLAIMS_MAX_FILES: '5', CLAIMS_MAX_UPLOAD_MB: '2', TOYBOX_OLD_SECRET_KEY: OLD_SECRET });
    knex = portal.ctx.knex;
    world = await makeOldWorld(portal.ctx, work);
    stopWorker = await workQueues(portal.ctx, ['claimsMail']); // the claims e-mails are sent by their queue job
  });

  afterAll(async () => {
    await stopWorker?.();
    await portal?.close();
    await sink?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function uploadOriginals(agent: Agent, names: string[]) {
    const page = await agent.get('/recover');
    let req = agent.post('/recover/files').field('_csrf', csrfFrom(page.text));
    for (const n of names) req = req.attach('files', world.originals[n]!, n);
    return req;
  }

  async function restoreForm(agent: Agent): Promise<{ csrf: string; claim: string; posts: string[]; avatar: string; html: string }> {
    const page = await agent.get('/recover');
    const claim = /name="claim" value="(\d+)"/.exec(page.text)![1]!;
    const posts = [...page.text.matchAll(/name="posts" value="([^"]+)" checked/g)].map((m) => m[1]!);
    const avatar = /name="avatar" value="(\d+)"/.exec(page.text)?.[1] ?? '';
    return { csrf: csrfFrom(page.text), claim, posts, avatar, html: page.text };
  }

  const count = async (q: Knex.QueryBuilder) => Number(((await q.count('* as n')) as Array<{ n: string | number }>)[0]!.n);
  const toyboxCounts = async () => ({
    notifications: await count(knex('public.user_meta').whereRaw("notifications <> '[]'::jsonb")),
    points: await count(knex('public.point_history')),
    user_points: await count(knex('public.user_points')),
    public_posts: await count(knex('public.submissions').where({ status: 'PUBLIC' })),
  });

  let kuma: BuiltUser;
  describe('a re-registered person proves old id 7 by original files', () => {
    let agent: Agent;

    beforeAll(async () => {
      kuma = await buildUser(knex, { display_id: 'kuma_new' });
      agent = await signedInAgent(portal, kuma.display_id, kuma.password);
    });

    it('shows which uploaded file matched which stored file, and approves the strong match automatically', async () => {
      const res = await uploadOriginals(agent, ['sunset.png', 'clip.mp4', 'later.jpg', 'fox.png']);
      expect(res.status).toBe(200);
      expect(res.text).toContain(`submissions/7_${OLD_TS}.png`);
      expect(res.text).toContain(`submissions/7_${OLD_TS + 180}.mp4`);
      // the re-encoded-era image matched, but only as a public copy (level 6)
      expect(res.text).toMatch(/data-level="6"[^>]*>[^<]*submissions\/7_1768953600\.jpg/);
      expect(res.text).toContain('data-outcome="approved"');
      const claims = await knex('portal.claims').where({ user_id: kuma.id });
      expect(claims).toHaveLength(1);
      expect(claims[0]).toMatchObject({ old_user_id: 7, status: 'approved', level: 3, decided_by: 'auto' });
      const evidence = await knex('portal.claim_evidence').where({ claim_id: claims[0].id });
      expect(evidence.map((e: { details: { path: string } }) => e.details.path).sort()).toEqual([`submissions/7_${OLD_TS + 120}.png`, `submissions/7_${OLD_TS + 180}.mp4`, `submissions/7_${OLD_TS}.png`, 'submissions/7_1768953600.jpg'].sort());
    });

    it('lists candidates with previews only for the owner, old captions as plain text', async () => {
      const { posts, html } = await restoreForm(agent);
      expect(posts).toHaveLength(6); // five media posts and a game
      expect(posts).toContain(`old-media:games/kuma/${OLD_TS + 300}`);
      expect(html).toContain('夕焼け');
      expect(html).toContain('きれい');
      expect(html).not.toMatch(/<script>alert|<i onclick/);
      const previewId = /\/recover\/preview\/(\d+)/.exec(html)![1]!;
      const img = await agent.get(`/recover/preview/${previewId}`);
      expect(img.status).toBe(200);
      expect(img.headers['content-type']).toBe('image/jpeg');
      const stranger = await buildUser(knex);
      const other = await signedInAgent(portal, stranger.display_id, stranger.password);
      expect((await other.get(`/recover/preview/${previewId}`)).status).toBe(404);
      expect((await other.get('/recover/preview/..%2F..%2Fetc%2Fpasswd')).status).toBe(404); // a malformed id is a 404, like an unknown one
    });

    let before: Awaited<ReturnType<typeof toyboxCounts>>;
    let ownPost: number;

    it('restores 6 posts (one a game), the avatar and the cards in one click, as TOYBOX would read them', async () => {
      ownPost = await insertSubmissionRow(knex, { author_id: kuma.id, title: 'new one' });
      await knex('public.submissions').where({ id: ownPost }).update({ status: 'PUBLIC' });
      before = await toyboxCounts();
      const f = await restoreForm(agent);
      const res = await agent.post('/recover/restore').type('form').send({ _csrf: f.csrf, claim: f.claim, posts: f.posts, avatar: f.avatar, all_cards: 'on' });
      expect(res.status).toBe(200);
      expect(res.text).toContain('戻しました: 投稿 6 件、カード 3 枚、アイコン画像');
      // usagi's like and kuma's follow wait for usagi's account to come back
      expect(res.text).toContain('data-pending-edges="2"');

      const all = await knex('public.submissions').where({ author_id: kuma.id }).whereNotNull('old_id').orderBy('created_at');
      expect(all).toHaveLength(6);
      for (const r of all) expect(r.status).toBe('PRIVATE');
      const game = all.find((r) => r.game_url);
      expect(game).toMatchObject({ old_id: `old-media:games/kuma/${OLD_TS + 300}`, image_url: null, video_url: null, game_url: `https://toybox.example/media/games/kuma_new/${OLD_TS + 300}/index.html` });
      for (const rel of ['index.html', 'js/app.js']) expect(sha256(path.join(media, `games/kuma_new/${OLD_TS + 300}/${rel}`))).toBe(sha256(path.join(world.uploads, `games/kuma/${OLD_TS + 300}/${rel}`)));
      const rows = all.filter((r) => !r.game_url);
      for (const r of rows) {
        expect(r.old_id).toMatch(/^old-media:submissions\/7_\d+$/);
        expect(r).toMatchObject({ aim: '画像提出', frame_type: 'none', jp_result: 'none', likes_count: 0, comment_enabled: true, game_url: null, deleted_at: null });
        const url: string = r.image_url ?? r.video_url;
        expect(url).toMatch(new RegExp(`^https://toybox\\.example/uploads/submissions/${kuma.id}_\\d+\\.(png|mp4|jpg)$`));
        const copied = path.join(media, url.replace('https://toybox.example/uploads/', ''));
        const source = path.join(world.uploads, `submissions/7_${path.basename(copied).split('_')[1]}`);
        expect(sha256(copied)).toBe(sha256(source));
      }
      // original time from the old database row where one exists, else the upload second
      expect(rows[0].created_at.toISOString()).toBe(new Date((OLD_TS + 25) * 1000).toISOString());
      expect(rows[0].title).toBe('夕焼け');
      expect(rows[0].caption).toBe('きれい');
      expect(rows[0]).toMatchObject({ hashtags: ['夕焼け', '空'], spell: 'sunset over the sea, masterpiece', ai_tool: 'stable_diffusion' });
      expect(rows[1].created_at.toISOString()).toBe(new Date((OLD_TS + 60) * 1000).toISOString());
      expect(rows.filter((r) => r.video_url)).toHaveLength(1);
      expect(fs.existsSync(path.join(media, `submissions/${kuma.id}_${OLD_TS}_thumb.jpg`))).toBe(true);
      expect(fs.existsSync(path.join(media, `submissions/${kuma.id}_${OLD_TS + 180}_poster.jpg`))).toBe(true);

      const user = await knex('public.users').where({ id: kuma.id }).first();
      expect(user.avatar_url).toMatch(new RegExp(`^https://toybox\\.example/uploads/profiles/avatar_${kuma.id}_[0-9a-f]{8}\\.png$`));
      expect(sha256(path.join(media, user.avatar_url.replace('https://toybox.example/uploads/', '')))).toBe(sha256(path.join(world.uploads, 'profiles/avatar_7_0a1b2c3d.png')));

      const cards = await knex('public.user_cards as uc').join('public.cards as c', 'c.id', 'uc.card_id').where('uc.user_id', kuma.id).orderBy('uc.obtained_at').select('c.code', 'uc.obtained_at', 'uc.old_id');
      expect(cards.map((c: { code: string }) => c.code)).toEqual(['C001', 'C001', 'C002']);
      expect(cards[0].obtained_at.toISOString()).toBe(new Date((OLD_TS + 1000) * 1000).toISOString());
      // Django-side counts: the person's own post plus five restored ones; nothing fanned out, nothing public
      expect(await count(knex('public.submissions').where({ author_id: kuma.id }))).toBe(7);
      expect(await toyboxCounts()).toEqual(before);
      const audit = await knex('portal.audit_log').where({ action: 'claims.restore' });
      expect(audit).toHaveLength(1);
    });

    it('restoring twice adds nothing', async () => {
      const f = await restoreForm(agent);
      expect(f.posts).toHaveLength(0); // all six are marked restored and not offered again
      const keys = (await knex('public.submissions').where({ author_id: kuma.id }).whereNotNull('old_id').select('old_id')).map((r: { old_id: string }) => r.old_id);
      const files = fs.readdirSync(path.join(media, 'submissions')).length;
      const res = await agent.post('/recover/restore').type('form').send({ _csrf: f.csrf, claim: f.claim, posts: keys, all_cards: 'on' });
      expect(res.status).toBe(200);
      expect(res.text).toContain('data-result="nothing"');
      expect(await count(knex('public.submissions').where({ author_id: kuma.id }))).toBe(7);
      expect(await count(knex('public.user_cards').where({ user_id: kuma.id }))).toBe(3);
      expect(fs.readdirSync(path.join(media, 'submissions')).length).toBe(files);
      expect(await knex('portal.restores').where({ user_id: kuma.id })).toHaveLength(1);
    });

    it('undo removes exactly what the restore added and leaves what the person made since', async () => {
      const since = await insertSubmissionRow(knex, { author_id: kuma.id, title: 'after restore' });
      await knex('public.user_cards').insert({ user_id: kuma.id, card_id: (await knex('public.cards').where({ code: 'C002' }).first()).id, obtained_at: new Date() });
      const copied = (await knex('portal.restore_writes').where({ op: 'file' })).map((w: { file_path: string }) => path.join(media, w.file_path));
      expect(copied.length).toBe(5 + 4 + 2 + 1); // 5 posts, 3 thumbnails and a poster, the game's 2 files, the avatar
      const restore = await knex('portal.restores').where({ user_id: kuma.id }).first();
      const page = await agent.get('/recover');
      const res = await agent.post(`/recover/restores/${restore.id}/undo`).type('form').send({ _csrf: csrfFrom(page.text) });
      expect(res.status).toBe(200);
      expect(res.text).toContain('data-result="undone"');
      const left = await knex('public.submissions').where({ author_id: kuma.id }).orderBy('id').select('id');
      expect(left.map((r: { id: string }) => Number(r.id))).toEqual([ownPost, since]);
      expect(await count(knex('public.user_cards').where({ user_id: kuma.id }).whereNull('old_id'))).toBe(1);
      expect(await count(knex('public.user_cards').where({ user_id: kuma.id }))).toBe(1);
      expect((await knex('public.users').where({ id: kuma.id }).first()).avatar_url).toBeNull();
      for (const f of copied) expect(fs.existsSync(f)).toBe(false);
      expect(fs.existsSync(path.join(media, 'games', 'kuma_new'))).toBe(false); // the game's emptied folders go too
      expect((await knex('portal.restores').where({ id: restore.id }).first()).status).toBe('undone');
      // a second undo is refused, and changes nothing
      const again = await agent.post(`/recover/restores/${restore.id}/undo`).type('form').send({ _csrf: csrfFrom(page.text) });
      expect(again.status).toBe(409);
    });
  });

  describe('two people claim one old id', () => {
    it('both land in the staff queue and only the approved one gets it', async () => {
      const a = await buildUser(knex, { display_id: 'usagi_a' });
      const b = await buildUser(knex, { display_id: 'usagi_b' });
      const agentA = await signedInAgent(portal, a.display_id, a.password);
      const agentB = await signedInAgent(portal, b.display_id, b.password);
      expect((await uploadOriginals(agentA, ['usagi.png'])).text).toContain('data-outcome="approved"');
      const resB = await uploadOriginals(agentB, ['usagi.png']);
      expect(resB.text).toContain('data-outcome="pending"');
      const claims = await knex('portal.claims').where({ old_user_id: 8 }).orderBy('id');
      expect(claims.map((c: { status: string; contested: boolean }) => [c.status, c.contested])).toEqual([['pending', true], ['pending', true]]);

      const staff = await buildUser(knex, { is_staff: true, role: 'ADMIN' });
      const admin = await signedInAgent(portal, staff.display_id, staff.password);
      const queue = await admin.get('/admin/claims');
      expect(queue.status).toBe(200);
      expect(queue.text).toContain(`data-claim="${claims[0].id}"`);
      expect(queue.text).toContain(`data-claim="${claims[1].id}"`);
      expect(queue.text).toContain(`submissions/8_${OLD_TS + 500}.png`);
      expect(queue.text).toContain('data-fact="discord_share"'); // the bot's share, beside the file matches
      expect(queue.text).toContain('**うさぎ**さんが作品を共有しました');
      const csrf = csrfFrom(queue.text);
      expect((await admin.post(`/admin/claims/${claims[0].id}/decision`).type('form').send({ _csrf: csrf, decision: 'approve' })).status).toBe(422);
      expect((await admin.post(`/admin/claims/${claims[0].id}/decision`).type('form').send({ _csrf: csrf, decision: 'approve', reason: 'uploaded first; matching Discord share' })).status).toBe(303);
      expect((await admin.post(`/admin/claims/${claims[1].id}/decision`).type('form').send({ _csrf: csrf, decision: 'approve', reason: 'try both' })).status).toBe(409);
      expect((await admin.post(`/admin/claims/${claims[1].id}/decision`).type('form').send({ _csrf: csrf, decision: 'reject', reason: 'granted to the first claimant' })).status).toBe(303);
      expect(await knex('portal.audit_log').whereIn('action', ['claims.approve', 'claims.reject']).select('action')).toHaveLength(2);
      expect((await admin.get('/admin/claims')).text).not.toContain('data-old-user="8"'); // settled: out of the queue

      const pageB = await agentB.get('/recover');
      expect(pageB.text).not.toContain('name="claim"');
      const refused = await agentB.post('/recover/restore').type('form').send({ _csrf: csrfFrom(pageB.text), claim: claims[1].id, posts: [`old-media:submissions/8_${OLD_TS + 500}`] });
      expect(refused.status).toBe(409);
      const f = await restoreForm(agentA);
      const ok = await agentA.post('/recover/restore').type('form').send({ _csrf: f.csrf, claim: f.claim, posts: f.posts });
      expect(ok.text).toContain('投稿 1 件');
      expect(await knex('public.submissions').where({ author_id: a.id, status: 'PRIVATE' })).toHaveLength(1);
      expect(await knex('public.submissions').where({ author_id: b.id })).toHaveLength(0);
      // both ends are back now: kuma's old follow of usagi is restored, between the new accounts, at its old time
      expect(await knex('public.user_follows').where({ following_id: a.id })).toEqual([expect.objectContaining({ follower_id: kuma.id, created_at: new Date((OLD_TS + 700) * 1000) })]);
      expect(await knex('public.user_follows').where({ follower_id: b.id })).toHaveLength(0);
    });

    it('a reaction waits for its post: kuma restoring again completes usagi\'s like, without points or notifications, and undo takes it away', async () => {
      const usagi = (await knex('portal.claims').where({ old_user_id: 8, status: 'approved' }).first()).user_id;
      const agent = await signedInAgent(portal, kuma.display_id, kuma.password);
      const before = await toyboxCounts();
      const f = await restoreForm(agent);
      // a double click: two restores at once add each post once, and every referenced file exists
      const [res, twin] = await Promise.all([0, 1].map(() => agent.post('/recover/restore').type('form').send({ _csrf: f.csrf, claim: f.claim, posts: f.posts, avatar: f.avatar })));
      expect([res!.text, twin!.text].filter((t) => t.includes('data-result="restored"'))).toHaveLength(1);
      expect([res!.text, twin!.text].filter((t) => t.includes('data-result="nothing"'))).toHaveLength(1);
      expect(await count(knex('public.submissions').where({ author_id: kuma.id }).whereNotNull('old_id'))).toBe(6);
      for (const r of await knex('public.submissions').where({ author_id: kuma.id }).whereNotNull('old_id')) {
        const url: string = r.image_url ?? r.video_url ?? r.game_url;
        expect(fs.existsSync(path.join(media, url.replace(/^https:\/\/toybox\.example\/(uploads|media)\//, '')))).toBe(true);
      }
      const avatarUrl = (await knex('public.users').where({ id: kuma.id }).first()).avatar_url;
      expect(fs.existsSync(path.join(media, avatarUrl.replace('https://toybox.example/uploads/', '')))).toBe(true);
      expect(fs.readdirSync(path.join(media, 'profiles')).filter((n) => n.startsWith(`avatar_${kuma.id}_`))).toHaveLength(1);
      const sunset = await knex('public.submissions').where({ author_id: kuma.id, old_id: `old-media:submissions/7_${OLD_TS}` }).first();
      expect(await knex('public.reactions').where({ submission_id: sunset.id })).toEqual([expect.objectContaining({ user_id: Number(usagi), type: 'cute', created_at: new Date((OLD_TS + 600) * 1000) })]);
      expect(await toyboxCounts()).toEqual(before);
      const restore = await knex('portal.restores').where({ user_id: kuma.id, status: 'done' }).first();
      const undo = await agent.post(`/recover/restores/${restore.id}/undo`).type('form').send({ _csrf: csrfFrom(res!.text) });
      expect(undo.status).toBe(200);
      expect(await knex('public.reactions').where({ user_id: Number(usagi) })).toHaveLength(0);
      expect(await knex('public.user_follows').where({ follower_id: kuma.id })).toHaveLength(1); // added by usagi's restore, not this one
    });
  });

  describe('proof by e-mail', () => {
    it('a link sent to the old address proves old id 9 (level 1); the card comes back', async () => {
      const tora = await buildUser(knex, { display_id: 'tora_new', email: 'tora_new@toybox.local' });
      const agent = await signedInAgent(portal, tora.display_id, tora.password);
      let page = await agent.get('/recover');
      expect((await agent.post('/recover/email').type('form').send({ _csrf: csrfFrom(page.text), email: 'tora_new@toybox.local' })).status).toBe(422);
      const sent = await agent.post('/recover/email').type('form').send({ _csrf: csrfFrom(page.text), email: 'tora@old.example' });
      expect(sent.status).toBe(200);
      const [mail] = (await sink.waitFor(1)).filter((m) => m.envelopeTo.includes('tora@old.example'));
      const link = /https?:\/\/\S+\/recover\/email\/[A-Za-z0-9_-]{43}/.exec(mail!.parsed.text ?? '')![0];
      expect(mail!.parsed.html).toContain(link);
      const confirm = await agent.get(new URL(link).pathname);
      expect(confirm.status).toBe(200);
      expect(await knex('portal.claims').where({ user_id: tora.id })).toHaveLength(0); // opening the link changes nothing
      const done = await agent.post('/recover/email/confirm').type('form').send({ _csrf: csrfFrom(confirm.text), token: /name="token" value="([^"]+)"/.exec(confirm.text)![1] });
      expect(done.text).toContain('data-outcome="approved"');
      expect(await knex('portal.claims').where({ user_id: tora.id }).first()).toMatchObject({ old_user_id: 9, level: 1, status: 'approved' });
      page = await agent.get('/recover');
      const claim = /name="claim" value="(\d+)"/.exec(page.text)![1];
      const res = await agent.post('/recover/restore').type('form').send({ _csrf: csrfFrom(page.text), claim, all_cards: 'on' });
      expect(res.text).toContain('カード 1 枚');
    });

    it('a StudySphere sign-in equal to the old account proves it (level 2)', async () => {
      const shika = await buildUser(knex, { display_id: 'shika_new' });
      await knex('public.users').where({ id: shika.id }).update({ studysphere_user_id: 6010 });
      const agent = await signedInAgent(portal, shika.display_id, shika.password);
      const page = await agent.get('/recover');
      expect(page.text).toContain('data-sso-old="10"');
      const res = await agent.post('/recover/sso').type('form').send({ _csrf: csrfFrom(page.text) });
      expect(res.text).toContain('data-outcome="approved"');
      expect(await knex('portal.claims').where({ user_id: shika.id }).first()).toMatchObject({ old_user_id: 10, level: 2, status: 'approved' });
      const none = await buildUser(knex);
      const other = await signedInAgent(portal, none.display_id, none.password);
      const refused = await other.post('/recover/sso').type('form').send({ _csrf: csrfFrom((await other.get('/recover')).text) });
      expect(refused.status).toBe(422);
    });

    it('an old sign-in token signed by the old site before the incident proves its old id (level 2); forged or new ones do not', async () => {
      const risu = await buildUser(knex, { display_id: 'risu_new' });
      const agent = await signedInAgent(portal, risu.display_id, risu.password);
      const csrf = csrfFrom((await agent.get('/recover')).text);
      const claims = { token_type: 'refresh', exp: OLD_TS + 30 * 86400, iat: OLD_TS, jti: 'a1b2c3', user_id: 12 };
      const send = (token: string) => agent.post('/recover/token').type('form').send({ _csrf: csrf, token });
      expect((await send(simpleJwt(claims, 'some-other-key'))).status).toBe(422);
      expect((await send(simpleJwt({ ...claims, iat: 1769500000 }))).status).toBe(422); // after the incident: the key may sign new accounts' tokens
      expect((await send(simpleJwt(claims).replace(/\.[^.]+\./, `.${Buffer.from(JSON.stringify({ ...claims, user_id: 7 })).toString('base64url')}.`))).status).toBe(422);
      const ok = await send(simpleJwt({ ...claims, user_id: '12' })); // simplejwt may write the id as a string
      expect(ok.text).toContain('data-outcome="approved"');
      expect(await knex('portal.claims').where({ user_id: risu.id }).first()).toMatchObject({ old_user_id: 12, level: 2, status: 'approved' });
      const evidence = await knex('portal.claim_evidence').where({ kind: 'token' });
      expect(JSON.stringify(evidence)).not.toContain(simpleJwt({ ...claims, user_id: '12' }).split('.')[2]);
    });

    it('a stated old display id only goes to staff', async () => {
      const someone = await buildUser(knex);
      const agent = await signedInAgent(portal, someone.display_id, someone.password);
      const page = await agent.get('/recover');
      const res = await agent.post('/recover/statement').type('form').send({ _csrf: csrfFrom(page.text), display_id: 'tora' });
      expect(res.text).toContain('data-outcome="pending"');
      expect(await knex('portal.claims').where({ user_id: someone.id }).first()).toMatchObject({ old_user_id: 9, level: 6, status: 'pending' });
      const unknown = await agent.post('/recover/statement').type('form').send({ _csrf: csrfFrom(page.text), display_id: 'nobody_here' });
      expect(unknown.status).toBe(422);
    });
  });

  describe('an old account that never came back', () => {
    it('staff restore it with an unusable password; the e-mailed link sets a password Django accepts', async () => {
      const staff = await buildUser(knex, { is_staff: true, role: 'ADMIN' });
      const admin = await signedInAgent(portal, staff.display_id, staff.password);
      const page = await admin.get('/admin/claims');
      // an old id someone claims is never recreated behind their back
      const claimant = await buildUser(knex);
      const agent = await signedInAgent(portal, claimant.display_id, claimant.password);
      await agent.post('/recover/statement').type('form').send({ _csrf: csrfFrom((await agent.get('/recover')).text), display_id: 'usagi' });
      const claimed = await admin.post('/admin/claims/restore-account').type('form').send({ _csrf: csrfFrom(page.text), old_user_id: 8, invite: 'on' });
      expect(claimed.status).toBe(409);
      const res = await admin.post('/admin/claims/restore-account').type('form').send({ _csrf: csrfFrom(page.text), old_user_id: 11, invite: 'on' });
      expect(res.status).toBe(200);
      expect(res.text).toContain('「neko」を復旧しました（投稿 1 件、カード 1 枚）。');
      expect(res.text).toContain('data-invitation="queued"');
      const neko = await knex('public.users').where({ old_id: '11' }).first();
      expect(neko).toMatchObject({ display_id: 'neko', email: 'neko@old.example', role: 'FREE_USER', is_active: true });
      expect(neko.password).toMatch(/^!.{40}$/);
      expect(neko.created_at.toISOString()).toBe(new Date((OLD_TS - 86400) * 1000).toISOString());
      expect(await knex('public.user_meta').where({ user_id: neko.id }).first()).toMatchObject({ old_id: '11', display_name: 'ねこ', bio: 'にゃー', header_url: '' });
      expect(await knex('public.submissions').where({ author_id: neko.id, status: 'PRIVATE' })).toHaveLength(1);
      expect(await knex('public.user_cards').where({ user_id: neko.id })).toHaveLength(1);
      const again = await admin.post('/admin/claims/restore-account').type('form').send({ _csrf: csrfFrom(page.text), old_user_id: 11, invite: 'on' });
      expect(again.text).toContain('すでに復旧済み');
      expect(again.text).toMatch(/data-invitation="already"/); // queued or already sent: never a second one
      expect(await knex('public.users').where({ old_id: '11' })).toHaveLength(1);

      expect(await knex('portal.account_invitations').where({ user_id: neko.id })).toHaveLength(1); // the second run queued nothing
      await eventually(async () => (await knex('portal.account_invitations').where({ user_id: neko.id }).first()).sent_at !== null);
      const mails = sink.messages.filter((m) => m.envelopeTo.includes('neko@old.example'));
      expect(mails).toHaveLength(1);
      const link = /https?:\/\/\S+\/recover\/invite\/[A-Za-z0-9_-]{43}/.exec(mails[0]!.parsed.text ?? '')![0];
      const owner = portal.agent();
      const form = await owner.get(new URL(link).pathname);
      expect(form.status).toBe(200);
      const token = /name="token" value="([^"]+)"/.exec(form.text)![1];
      const post = (password: string, password2 = password) => owner.post('/recover/invite').type('form').send({ _csrf: csrfFrom(form.text), token, password, password2 });
      // TOYBOX's rules (Django's four validators), each refusal beside its field on the invitation page
      const fieldError = (html: string, field: string) => new RegExp(`<p class="field-error" id="${field}-error">([^<]*)</p>`).exec(html)?.[1];
      for (const common of ['password123', 'qwertyui']) {
        const refused = await post(common);
        expect(refused.status).toBe(422);
        expect(fieldError(refused.text, 'password')).toBe('このパスワードは一般的すぎます。');
        expect(refused.text).toContain('aria-invalid="true"');
      }
      expect(fieldError((await post('12345678')).text, 'password')).toContain('数字しか使われていません');
      expect(fieldError((await post('neko@old.ex')).text, 'password')).toBe('このパスワードはメールアドレスと似すぎています。');
      expect(fieldError((await post('Short1')).text, 'password')).toContain('最低 8 文字');
      const mismatch = await post('a-long-secret', 'another-one');
      expect(mismatch.status).toBe(422);
      expect(fieldError(mismatch.text, 'password2')).toBe('2 つのパスワードが一致しません。');
      expect(mismatch.text).toContain(`name="token" value="${token}"`); // the form comes back with its link
      const done = await post('whiskers-at-dawn');
      expect(done.text).toContain('data-result="password-set"');
      const hash: string = (await knex('public.users').where({ id: neko.id }).first()).password;
      // Django's PBKDF2PasswordHasher, recomputed independently in Python
      const py = spawnSync('python3', ['-c', 'import sys,hashlib,base64;a,i,s,h=sys.argv[2].split("$");print(a=="pbkdf2_sha256" and base64.b64encode(hashlib.pbkdf2_hmac("sha256",sys.argv[1].encode(),s.encode(),int(i))).decode()==h)', 'whiskers-at-dawn', hash], { encoding: 'utf8' });
      expect(py.stdout.trim()).toBe('True');
      await signedInAgent(portal, 'neko', 'whiskers-at-dawn');
      expect((await post('whiskers-at-dawn-2')).status).toBe(410);
    });
  });

  describe('hostile input', () => {
    let agent: Agent;
    let csrf: string;
    beforeAll(async () => {
      const u = await buildUser(knex);
      agent = await signedInAgent(portal, u.display_id, u.password);
      csrf = csrfFrom((await agent.get('/recover')).text);
    });

    it('refuses a 2 GB upload from its declared length, before reading the body', async () => {
      const base = await portal.listen();
      const cookie = (agent as unknown as { jar: { getCookies(o: object): Array<{ name: string; value: string }> } }).jar
        .getCookies({ domain: '127.0.0.1', path: '/', secure: false, script: false })
        .map((c) => `${c.name}=${c.value}`)
        .join('; ');
      const started = Date.now();
      const answer = await new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
        const req = http.request(`${base}/recover/files`, {
          method: 'POST',
          headers: { cookie, 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(2 * 1024 ** 3), 'accept-language': 'en', 'x-csrf-token': csrf },
        });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
        });
        req.on('error', reject);
        req.write('--x\r\n'); // a client that would go on sending 2 GB
      });
      expect(answer.status).toBe(413);
      expect(answer.body).toContain('Keep the total under 2 MB');
      expect(answer.connection).toBe('close');
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('refuses too many files and a file over the cap with clear messages', async () => {
      let req = agent.post('/recover/files').set('accept-language', 'en').field('_csrf', csrf);
      for (let i = 0; i < 6; i++) req = req.attach('files', Buffer.from(`file ${i}`), `f${i}.png`);
      const many = await req;
      expect(many.status).toBe(413);
      expect(many.text).toContain('Send at most 5 at once');
      const big = await agent.post('/recover/files').set('accept-language', 'en').field('_csrf', csrf).attach('files', Buffer.alloc(1024 * 1024 + 10, 1), 'big.mp4').attach('files', Buffer.alloc(1024 * 1024 + 10, 2), 'big2.mp4');
      expect(big.status).toBe(413);
      expect(big.text).toContain('Keep the total under 2 MB');
    });

    it('refuses an upload without the form token, and a file name with folders is shown as its last part', async () => {
      const noToken = await agent.post('/recover/files').attach('files', world.originals['fox.png']!, 'fox.png');
      expect(noToken.status).toBe(403);
      const res = await agent.post('/recover/files').field('_csrf', csrf).attach('files', Buffer.from('nothing like it'), '../../etc/passwd');
      expect(res.status).toBe(200);
      expect(res.text).toContain('data-file="passwd"');
      expect(res.text).not.toContain('../../etc');
    });
  });
});
