import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { AppContext } from '../../src/app-context';
import { addMedia } from '../../src/features/salvage/service';
import { insertCardRow } from '../../src/toybox/rows';
import { picture, OLD_TS } from './salvage-fixtures';

/** 2026-01-21: after TOYBOX began re-encoding images (6f080eb), before the incident. */
export const REENCODED_TS = 1768953600;

export interface OldWorld {
  uploads: string;
  /** The originals people still have, by name: the bytes of the stored files. */
  originals: Record<string, Buffer>;
  schema: string;
  /** The five post files of old user 7 (kuma), relative to the uploads root. */
  kumaPosts: string[];
}

function put(root: string, rel: string, bytes: Buffer): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
}

/**
 * The host's old uploads directory and one recovered old database, as
 * salvage leaves them: old user 7 "kuma" (5 posts, avatar, header, 4 cards,
 * one of them missing from today's master list), old user 8 "usagi" (1 post),
 * old user 9 "tora" (e-mail only, 1 card). Catalogued with salvage's own code.
 */
export async function makeOldWorld(ctx: AppContext, work: string): Promise<OldWorld> {
  const uploads = path.join(work, 'host-uploads');
  const originals: Record<string, Buffer> = {};
  const png = async (seed: number) => (await picture(seed)).png().toBuffer();
  const jpg = async (seed: number, size = 48) => (await picture(seed, size)).jpeg().toBuffer();
  const kumaPosts = [`submissions/7_${OLD_TS}.png`, `submissions/7_${OLD_TS + 60}.png`, `submissions/7_${OLD_TS + 120}.png`, `submissions/7_${OLD_TS + 180}.mp4`, `submissions/7_${REENCODED_TS}.jpg`];
  originals['sunset.png'] = await png(11);
  originals['cat.png'] = await png(12);
  originals['fox.png'] = await png(13);
  originals['clip.mp4'] = Buffer.concat([Buffer.from('\0\0\0\x18ftypmp42'), crypto.randomBytes(4000)]);
  originals['later.jpg'] = await jpg(14, 96);
  originals['usagi.png'] = await png(21);
  const names = ['sunset.png', 'cat.png', 'fox.png', 'clip.mp4', 'later.jpg'];
  kumaPosts.forEach((rel, i) => put(uploads, rel, originals[names[i]!]!));
  for (const rel of kumaPosts.slice(0, 3)) put(uploads, rel.replace('.png', '_thumb.jpg'), await jpg(30 + rel.length));
  put(uploads, `submissions/7_${OLD_TS + 180}_poster.jpg`, await jpg(40));
  // kuma's game, stored as its ZIP's entries under the old display id
  originals['game-index.html'] = Buffer.from('<!doctype html><title>くまのゲーム</title><script src="js/app.js"></script>');
  put(uploads, `games/kuma/${OLD_TS + 300}/index.html`, originals['game-index.html']!);
  put(uploads, `games/kuma/${OLD_TS + 300}/js/app.js`, Buffer.from('console.log("kuma");'));
  put(uploads, 'profiles/avatar_7_0a1b2c3d.png', await png(15));
  put(uploads, 'profiles/header_7_deadbeef.png', await png(16));
  put(uploads, `submissions/8_${OLD_TS + 500}.png`, originals['usagi.png']!);
  put(uploads, `submissions/11_${OLD_TS + 900}.mp4`, Buffer.concat([Buffer.from('\0\0\0\x18ftypmp42'), crypto.randomBytes(3000)]));
  // Files on the host keep the time they were written (profile pictures carry no time in their names).
  for (const rel of ['profiles/avatar_7_0a1b2c3d.png', 'profiles/header_7_deadbeef.png']) fs.utimesSync(path.join(uploads, rel), OLD_TS + 50, OLD_TS + 50);
  await addMedia(ctx, uploads, { era: 'auto' });

  const schema = await loadOldDatabase(ctx.knex);
  await insertCardRow(ctx.knex, { code: 'C001', name: 'はじまりのカード', rarity: 'SR' });
  await insertCardRow(ctx.knex, { code: 'C002', name: 'ふたつめ', rarity: 'N' });
  return { uploads, originals, schema, kumaPosts };
}

/** A recovered old database as salvage add-database leaves it: TOYBOX's tables in schema salvage_<source id>. */
async function loadOldDatabase(knex: Knex): Promise<string> {
  const [src] = await knex('portal.salvage_sources')
    .insert({ kind: 'database', locator: '/host/home/toybox/toybox.dump', fingerprint: `sha256:${crypto.randomBytes(8).toString('hex')}`, status: 'complete' })
    .returning('id');
  const schema = `salvage_${Number(src.id)}`;
  await knex('portal.salvage_sources').where({ id: src.id }).update({ schema_name: schema, finished_at: knex.fn.now() });
  await knex.raw(`CREATE SCHEMA ${schema}`);
  for (const t of ['users', 'user_meta', 'submissions', 'cards', 'user_cards', 'reactions', 'user_follows']) {
    await knex.raw(`CREATE TABLE ${schema}.${t} (LIKE public.${t} INCLUDING DEFAULTS INCLUDING IDENTITY)`);
  }
  const at = (s: number) => new Date(s * 1000);
  const user = (id: number, display_id: string, email: string | null) => ({
    id, display_id, email, password: '!', role: 'FREE_USER', is_suspended: false, warning_count: 0, is_active: true, is_staff: false, is_superuser: false, created_at: at(OLD_TS - 86400), updated_at: at(OLD_TS - 86400),
  });
  await knex.withSchema(schema).table('users').insert([user(7, 'kuma', 'kuma@old.example'), user(8, 'usagi', 'usagi@old.example'), user(9, 'tora', 'Tora@Old.example'), { ...user(10, 'shika', null), studysphere_user_id: 6010 }, user(11, 'neko', 'neko@old.example'), user(12, 'risu', null)]);
  // What salvage add-discord recorded about old user 8: the bot's share of its post.
  const [discord] = await knex('portal.salvage_sources').insert({ kind: 'discord', locator: '/host/discord.json', fingerprint: 'discord-fixture', status: 'complete' }).returning('id');
  await knex('portal.salvage_facts').insert({ source_id: discord.id, ref: 'msg-1', kind: 'discord_share', old_user_id: 8, display_name: 'うさぎ', occurred_at: at(OLD_TS + 530), file_name: `8_${OLD_TS + 500}.png`, source_line: '**うさぎ**さんが作品を共有しました' });
  const meta = (id: number, user_id: number, display_name: string, bio: string) => ({
    id, user_id, display_name, bio, lottery_bonus_count: 0, notifications: '[]', onboarding_completed: '{}', earned_titles: '[]', created_at: at(OLD_TS), updated_at: at(OLD_TS),
  });
  await knex.withSchema(schema).table('user_meta').insert([meta(1, 7, 'くま', '<b>こんにちは</b><script>alert(1)</script>'), meta(2, 8, 'うさぎ', ''), meta(3, 9, 'とら', ''), meta(4, 11, 'ねこ', 'にゃー')]);
  await knex.withSchema(schema).table('submissions').insert({
    id: 41, author_id: 7, title: '<i onclick=x>夕焼け</i>', caption: '<script>alert(1)</script>きれい', comment_enabled: true, status: 'PUBLIC', aim: '', steps: '[]', frame_type: 'none', jp_result: 'none', likes_count: 3, hashtags: JSON.stringify(['夕焼け', '<b>空</b>']), spell: 'sunset over the sea, masterpiece', ai_tool: 'stable_diffusion',
    image_url: `https://toybox.old/uploads/submissions/7_${OLD_TS}.png`, created_at: at(OLD_TS + 25), updated_at: at(OLD_TS + 25),
  });
  const card = (id: number, code: string, name: string) => ({ id, code, name, rarity: 'N', created_at: at(OLD_TS), updated_at: at(OLD_TS) });
  await knex.withSchema(schema).table('cards').insert([card(1, 'C001', 'はじまりのカード'), card(2, 'C002', 'ふたつめ'), card(3, 'C999', 'きえたカード')]);
  const uc = (id: number, user_id: number, card_id: number, s: number) => ({ id, user_id, card_id, obtained_at: at(s) });
  await knex.withSchema(schema).table('user_cards').insert([uc(101, 7, 1, OLD_TS + 1000), uc(102, 7, 1, OLD_TS + 2000), uc(103, 7, 2, OLD_TS + 3000), uc(104, 7, 3, OLD_TS + 4000), uc(105, 9, 2, OLD_TS + 5000), uc(106, 11, 1, OLD_TS + 6000)]);
  // usagi (8) liked kuma's sunset; kuma (7) followed usagi.
  await knex.withSchema(schema).table('reactions').insert({ id: 501, user_id: 8, submission_id: 41, type: 'cute', created_at: at(OLD_TS + 600) });
  await knex.withSchema(schema).table('user_follows').insert({ id: 601, follower_id: 7, following_id: 8, created_at: at(OLD_TS + 700) });
  return schema;
}

export function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export interface OldExtras {
  /** A second salvaged uploads tree (catalogued as old era) holding the game thumbnail. */
  uploads: string;
  /** The game thumbnail's bytes, as stored under `submissions/thumbnails/title_screen.png`. */
  gameThumbnail: Buffer;
}

/** Creates these TOYBOX tables (empty, as the old database's dump had them) in an old database's schema. */
export async function addOldTables(knex: Knex, schema: string, tables: string[]): Promise<void> {
  for (const t of tables) await knex.raw(`CREATE TABLE IF NOT EXISTS ${schema}.${t} (LIKE public.${t} INCLUDING DEFAULTS INCLUDING IDENTITY)`);
}

/**
 * More of the old database of makeOldWorld: usagi's post row (42), kuma's game row (43, naming its
 * thumbnail `submissions/thumbnails/title_screen.png`, a file of a second salvaged tree), and bookmarks
 * and reposts between kuma (7) and usagi (8):
 * bookmarks 701 kuma -> 42, 702 usagi -> 41, 703 usagi -> 43 (the game); reposts 801 usagi -> 41, 802 kuma -> 42.
 */
export async function addOldBookmarksAndGame(ctx: AppContext, world: OldWorld, work: string): Promise<OldExtras> {
  const knex = ctx.knex;
  const uploads = path.join(work, 'host-uploads-thumbnails');
  const gameThumbnail = await (await picture(77)).png().toBuffer();
  put(uploads, 'submissions/thumbnails/title_screen.png', gameThumbnail);
  fs.utimesSync(path.join(uploads, 'submissions/thumbnails/title_screen.png'), OLD_TS + 310, OLD_TS + 310);
  await addMedia(ctx, uploads, { era: 'old' });
  const schema = world.schema;
  await addOldTables(knex, schema, ['submission_bookmarks', 'submission_reposts']);
  const at = (s: number) => new Date(s * 1000);
  const post = { comment_enabled: true, status: 'PUBLIC', aim: '', steps: '[]', frame_type: 'none', jp_result: 'none', likes_count: 0, hashtags: '[]', spell: '', ai_tool: '', caption: '' };
  await knex.withSchema(schema).table('submissions').insert([
    { ...post, id: 42, author_id: 8, title: 'うさぎ', image_url: `https://toybox.old/uploads/submissions/8_${OLD_TS + 500}.png`, created_at: at(OLD_TS + 520), updated_at: at(OLD_TS + 520) },
    { ...post, id: 43, author_id: 7, title: 'くまのゲーム', caption: 'あそんでね', game_url: `https://toybox.old/media/games/kuma/${OLD_TS + 300}/index.html`, thumbnail: 'submissions/thumbnails/title_screen.png', created_at: at(OLD_TS + 320), updated_at: at(OLD_TS + 320) },
  ]);
  const edge = (id: number, user_id: number, submission_id: number, s: number) => ({ id, user_id, submission_id, created_at: at(s) });
  await knex.withSchema(schema).table('submission_bookmarks').insert([edge(701, 7, 42, OLD_TS + 800), edge(702, 8, 41, OLD_TS + 810), edge(703, 8, 43, OLD_TS + 820)]);
  await knex.withSchema(schema).table('submission_reposts').insert([edge(801, 8, 41, OLD_TS + 900), edge(802, 7, 42, OLD_TS + 910)]);
  return { uploads, gameThumbnail };
}

export const ARTICLE_THUMB = 'articles/thumbnails/0f1e2d3c4b5a69788796a5b4c3d2e1f0.png';
export const ARTICLE_MEDIA = 'articles/media/aa11bb22cc33dd44ee55ff6677889900.png';
/** An article medium whose file did not survive (not catalogued): not offered. */
export const ARTICLE_MEDIA_LOST = 'articles/media/99999999999999999999999999999999.png';

/**
 * Articles in the old database of makeOldWorld, their files in a third salvaged tree: kuma (7) wrote
 * 61 (published, thumbnail, body showing its medium, custom CSS with an @import) and 62 (a draft);
 * usagi (8) wrote 63. kuma's article media: 71 (file survived) and 72 (file lost).
 */
export async function addOldArticles(ctx: AppContext, world: OldWorld, work: string): Promise<{ uploads: string }> {
  const knex = ctx.knex;
  const uploads = path.join(work, 'host-uploads-articles');
  put(uploads, ARTICLE_THUMB, await (await picture(81)).png().toBuffer());
  put(uploads, ARTICLE_MEDIA, await (await picture(82)).png().toBuffer());
  await addMedia(ctx, uploads, { era: 'old' });
  await addOldTables(knex, world.schema, ['articles', 'article_media']);
  const at = (s: number) => new Date(s * 1000);
  const article = (id: number, author_id: number, title: string, slug: string, more: Record<string, unknown>) => ({
    id, author_id, title, slug, thumbnail: null, thumbnail_url: null, body: JSON.stringify([]), custom_css: '', status: 'draft', published_at: null, pt_awarded: false, created_at: at(OLD_TS + 2000 + id), updated_at: at(OLD_TS + 2000 + id), ...more,
  });
  const body = [{ type: 'heading', text: 'はじめに' }, { type: 'image', url: `https://toybox.old/uploads/${ARTICLE_MEDIA}` }];
  await knex.withSchema(world.schema).table('articles').insert([
    article(61, 7, 'My first article', 'my-first-article', { status: 'published', published_at: at(OLD_TS + 2100), pt_awarded: true, thumbnail: ARTICLE_THUMB, body: JSON.stringify(body), custom_css: '@import url(https://evil.example/x.css); .title { color: red }' }),
    article(62, 7, '<b>下書き</b>', 'a1b2c3d4e5f6', {}),
    article(63, 8, 'usagi no kiji', 'usagi-no-kiji', { status: 'published', published_at: at(OLD_TS + 2200), pt_awarded: true }),
  ]);
  await knex.withSchema(world.schema).table('article_media').insert([
    { id: 71, uploader_id: 7, file: ARTICLE_MEDIA, media_type: 'image', original_name: 'figure1.png', created_at: at(OLD_TS + 2050) },
    { id: 72, uploader_id: 7, file: ARTICLE_MEDIA_LOST, media_type: 'image', original_name: 'lost.png', created_at: at(OLD_TS + 2060) },
  ]);
  return { uploads };
}
