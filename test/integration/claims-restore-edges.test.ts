import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { startTestPortal, csrfFrom, signedInAgent, tempDir, type TestPortal } from '../support/portal';
import { buildUser, type BuiltUser } from '../support/factories';
import { addOldBookmarksAndGame, makeOldWorld, sha256, type OldExtras, type OldWorld } from '../support/claims-fixtures';
import { OLD_TS } from '../support/salvage-fixtures';

type Agent = Awaited<ReturnType<typeof signedInAgent>>;

/**
 * Bookmarks, reposts and game thumbnails from an old database (real PostgreSQL, real files, the salvage
 * catalogue): edges come back only when both ends are back, at their old time, once; undo takes them away
 * children first; a game's thumbnail is copied beside it and named as Django's storage would.
 */
describe('claims restore: bookmarks, reposts and game thumbnails', () => {
  let portal: TestPortal;
  let knex: Knex;
  let work: string;
  let media: string;
  let world: OldWorld;
  let extras: OldExtras;
  let kuma: BuiltUser;
  let usagi: BuiltUser;
  let kumaAgent: Agent;
  let usagiAgent: Agent;
  const liveThumb = Buffer.from('someone else\'s live thumbnail with the same name');

  beforeAll(async () => {
    work = tempDir('claims-edges-');
    media = path.join(work, 'live-uploads');
    fs.mkdirSync(path.join(media, 'submissions', 'thumbnails'), { recursive: true });
    portal = await startTestPortal({ TOYBOX_MEDIA_DIR: media, TOYBOX_URL: 'https://toybox.example' });
    knex = portal.ctx.knex;
    world = await makeOldWorld(portal.ctx, work);
    extras = await addOldBookmarksAndGame(portal.ctx, world, work);
    kuma = await buildUser(knex, { display_id: 'kuma_new' });
    usagi = await buildUser(knex, { display_id: 'usagi_new' });
    kumaAgent = await signedInAgent(portal, kuma.display_id, kuma.password);
    usagiAgent = await signedInAgent(portal, usagi.display_id, usagi.password);
  });

  afterAll(async () => {
    await portal?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function prove(agent: Agent, names: string[]): Promise<void> {
    const page = await agent.get('/recover');
    let req = agent.post('/recover/files').field('_csrf', csrfFrom(page.text));
    for (const n of names) req = req.attach('files', world.originals[n]!, n);
    expect((await req).text).toContain('data-outcome="approved"');
  }

  async function restoreForm(agent: Agent): Promise<{ csrf: string; claim: string; posts: string[]; html: string }> {
    const page = await agent.get('/recover');
    const claim = /name="claim" value="(\d+)"/.exec(page.text)![1]!;
    const posts = [...page.text.matchAll(/name="posts" value="([^"]+)" checked/g)].map((m) => m[1]!);
    return { csrf: csrfFrom(page.text), claim, posts, html: page.text };
  }

  async function restoreAll(agent: Agent, extra: Record<string, string> = {}) {
    const f = await restoreForm(agent);
    const res = await agent.post('/recover/restore').type('form').send({ _csrf: f.csrf, claim: f.claim, posts: f.posts, ...extra });
    expect(res.status).toBe(200);
    return res.text;
  }

  async function undo(agent: Agent, restoreId: number) {
    const page = await agent.get('/recover');
    return agent.post(`/recover/restores/${restoreId}/undo`).type('form').send({ _csrf: csrfFrom(page.text) });
  }

  const edges = async (table: string) =>
    (await knex(`public.${table}`).orderBy('created_at').select('user_id', 'submission_id', 'created_at')).map((r: { user_id: string; submission_id: string; created_at: Date }) => ({ user_id: Number(r.user_id), submission_id: Number(r.submission_id), at: r.created_at.getTime() / 1000 - OLD_TS }));
  const postId = async (oldId: string) => Number((await knex('public.submissions').where({ old_id: oldId }).first('id')).id);
  const count = async (q: Knex.QueryBuilder) => Number(((await q.count('* as n')) as Array<{ n: string | number }>)[0]!.n);
  const fanOut = async () => ({
    notifications: await count(knex('public.user_meta').whereRaw("notifications <> '[]'::jsonb")),
    points: await count(knex('public.point_history')),
    likes: Number((await knex('public.submissions').sum('likes_count as n').first())?.n ?? 0),
    public_posts: await count(knex('public.submissions').where({ status: 'PUBLIC' })),
  });

  const SUNSET = `old-media:submissions/7_${OLD_TS}`;
  const GAME = `old-media:games/kuma/${OLD_TS + 300}`;
  const USAGI_POST = `old-media:submissions/8_${OLD_TS + 500}`;
  let kumaRestore: number;

  it('kuma restores first: the game keeps its old row (title, time) and its thumbnail; every edge with usagi waits', async () => {
    // a live file of TOYBOX's already holds the thumbnail's name: never overwritten, never adopted
    fs.writeFileSync(path.join(media, 'submissions/thumbnails/title_screen.png'), liveThumb);
    await prove(kumaAgent, ['sunset.png']);
    const f = await restoreForm(kumaAgent);
    expect(f.posts).toContain(GAME);
    expect(f.html).toContain('くまのゲーム'); // the game's title from its old row
    const text = await restoreAll(kumaAgent);
    expect(text).toContain('data-result="restored"');
    // 3 bookmarks, 2 reposts, the reaction and the follow: none has its other end back yet
    expect(text).toContain('data-pending-edges="7"');
    for (const t of ['submission_bookmarks', 'submission_reposts', 'reactions']) expect(await edges(t)).toEqual([]);
    expect(await count(knex('public.user_follows'))).toBe(0);

    const game = await knex('public.submissions').where({ old_id: GAME }).first();
    expect(game).toMatchObject({ author_id: kuma.id, title: 'くまのゲーム', caption: 'あそんでね', status: 'PRIVATE', image: null, image_url: null });
    expect(game.created_at.toISOString()).toBe(new Date((OLD_TS + 320) * 1000).toISOString());
    // as Django's ImageField stores it: relative to the uploads root, the name taken -> a 7-character suffix
    expect(game.thumbnail).toMatch(/^submissions\/thumbnails\/title_screen_[A-Za-z0-9]{7}\.png$/);
    expect(sha256(path.join(media, game.thumbnail))).toBe(sha256(path.join(extras.uploads, 'submissions/thumbnails/title_screen.png')));
    expect(fs.readFileSync(path.join(media, 'submissions/thumbnails/title_screen.png'))).toEqual(liveThumb);
    const restore = await knex('portal.restores').where({ user_id: kuma.id }).first();
    kumaRestore = Number(restore.id);
    expect(await knex('portal.restore_writes').where({ restore_id: kumaRestore, op: 'file', file_path: game.thumbnail })).toHaveLength(1);
    // posts other than games carry no thumbnail column (their _thumb.jpg sits beside the file)
    expect(await count(knex('public.submissions').where({ author_id: kuma.id }).whereNotNull('thumbnail'))).toBe(1);
  });

  let before: Awaited<ReturnType<typeof fanOut>>;
  let usagiRestore: number;

  it('usagi restores: her bookmarks and reposts of kuma\'s posts (the game too) and kuma\'s of hers come back, at their old times, rows only', async () => {
    before = await fanOut();
    await prove(usagiAgent, ['usagi.png']);
    const text = await restoreAll(usagiAgent);
    expect(text).toContain('data-pending-edges="0"');
    expect(text).toContain('data-edges="1 3 2 1"'); // reactions, bookmarks, reposts, follows
    const [sunset, game, hers] = [await postId(SUNSET), await postId(GAME), await postId(USAGI_POST)];
    expect(await edges('submission_bookmarks')).toEqual([
      { user_id: kuma.id, submission_id: hers, at: 800 },
      { user_id: usagi.id, submission_id: sunset, at: 810 },
      { user_id: usagi.id, submission_id: game, at: 820 },
    ]);
    expect(await edges('submission_reposts')).toEqual([
      { user_id: usagi.id, submission_id: sunset, at: 900 },
      { user_id: kuma.id, submission_id: hers, at: 910 },
    ]);
    // TOYBOX keeps no counter for bookmarks or reposts (it counts rows); nothing fans out, nothing is public
    expect(await fanOut()).toEqual(before);
    usagiRestore = Number((await knex('portal.restores').where({ user_id: usagi.id }).first()).id);
    const recorded = await knex('portal.restore_writes').where({ restore_id: usagiRestore, op: 'insert' }).select('table_name');
    const byTable = recorded.reduce((m: Record<string, number>, r: { table_name: string }) => ({ ...m, [r.table_name]: (m[r.table_name] ?? 0) + 1 }), {});
    expect(byTable).toEqual({ submissions: 1, reactions: 1, submission_bookmarks: 3, submission_reposts: 2, user_follows: 1 });
  });

  it('restoring twice adds nothing: a second restore that reads the same edges keeps the existing rows', async () => {
    const snapshot = { b: await edges('submission_bookmarks'), r: await edges('submission_reposts') };
    // kuma restores something new (the old display name): the edges are read again and all already exist
    const text = await restoreAll(kumaAgent, { display_name: 'on' });
    expect(text).toContain('data-result="restored"');
    expect(await edges('submission_bookmarks')).toEqual(snapshot.b);
    expect(await edges('submission_reposts')).toEqual(snapshot.r);
    const latest = await knex('portal.restores').where({ user_id: kuma.id }).orderBy('id', 'desc').first();
    expect(await knex('portal.restore_writes').where({ restore_id: latest.id }).select('op', 'table_name', 'column_name')).toEqual([{ op: 'update', table_name: 'user_meta', column_name: 'display_name' }]);
    expect((await restoreAll(usagiAgent)).includes('data-result="nothing"')).toBe(true);
  });

  it('a bookmark someone made in TOYBOX since on a restored post refuses the undo (409), whole', async () => {
    const stranger = await buildUser(knex);
    const [row] = await knex('public.submission_bookmarks').insert({ user_id: stranger.id, submission_id: await postId(USAGI_POST), created_at: new Date() }).returning('id');
    const res = await undo(usagiAgent, usagiRestore);
    expect(res.status).toBe(409);
    expect(await knex('public.submission_bookmarks')).toHaveLength(4);
    await knex('public.submission_bookmarks').where({ id: row.id }).delete();
  });

  it('undo removes the edges children first, and those another restore added on the posts it removes', async () => {
    expect((await undo(usagiAgent, usagiRestore)).status).toBe(200);
    for (const t of ['submission_bookmarks', 'submission_reposts', 'reactions']) expect(await edges(t)).toEqual([]);
    expect(await count(knex('public.user_follows'))).toBe(0);
    // restored again, they all come back (usagi's second restore records them)
    expect(await restoreAll(usagiAgent)).toContain('data-edges="1 3 2 1"');
    // kuma undoes the first restore: usagi's bookmarks and repost on kuma's posts go with the posts
    expect((await undo(kumaAgent, kumaRestore)).status).toBe(200);
    const hers = await postId(USAGI_POST);
    expect(await edges('submission_bookmarks')).toEqual([{ user_id: kuma.id, submission_id: hers, at: 800 }]);
    expect(await edges('submission_reposts')).toEqual([{ user_id: kuma.id, submission_id: hers, at: 910 }]);
    expect(await count(knex('public.submissions').where({ author_id: kuma.id }))).toBe(0);
    // the copied thumbnail is gone; the live file with its name is untouched
    expect(fs.readdirSync(path.join(media, 'submissions/thumbnails'))).toEqual(['title_screen.png']);
    expect(fs.readFileSync(path.join(media, 'submissions/thumbnails/title_screen.png'))).toEqual(liveThumb);
    // kuma restores again: the game takes its thumbnail's own name when it is free
    fs.rmSync(path.join(media, 'submissions/thumbnails/title_screen.png'));
    const text = await restoreAll(kumaAgent);
    expect(text).toContain('data-edges="1 2 1 0"'); // usagi's like, her two bookmarks and her repost of kuma's posts, again
    expect((await knex('public.submissions').where({ old_id: GAME }).first()).thumbnail).toBe('submissions/thumbnails/title_screen.png');
    expect(fs.readFileSync(path.join(media, 'submissions/thumbnails/title_screen.png'))).toEqual(extras.gameThumbnail);
  });
});
