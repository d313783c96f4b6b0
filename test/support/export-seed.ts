import fs from 'node:fs';
import zlib from 'node:zlib';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Knex } from 'knex';
import {
  insertSubmissionRow,
  insertCardRow,
  insertUserCardRow,
  insertReactionRow,
  insertPointsRows,
} from '../../src/toybox/rows';
import { buildUser, type BuiltUser } from './factories';

/** Secrets planted in every seeded account: none may ever appear in an archive. */
export const SECRETS = {
  loginCode: 'ss-login-code-SECRET',
  warningNotes: 'internal-warning-note-SECRET',
  discordAccess: 'discord-access-token-SECRET',
  discordRefresh: 'discord-refresh-token-SECRET',
  deleteReason: 'moderator-delete-reason-SECRET',
};

export interface SeededUser extends BuiltUser {
  postIds: number[];
  tag: string;
}

let cardIds: number[] | null = null;

async function masterCards(knex: Knex): Promise<number[]> {
  const existing = await knex('public.cards').orderBy('id').pluck('id');
  if (existing.length >= 2) return existing.map(Number);
  cardIds = [
    await insertCardRow(knex, { code: `C-${Date.now()}-1`, name: '炎のドラゴン', rarity: 'SR', image: 'cards/dragon.png' }),
    await insertCardRow(knex, { code: `C-${Date.now()}-2`, name: 'Water "Sprite", v2', rarity: 'N' }),
  ];
  return cardIds;
}

/** A solid-colour PNG of the given size, so the offline viewer shows a visible image. */
export function solidPng(width: number, height: number, rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3).map((_, i) => rgb[i % 3]!)]);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export const PNG = solidPng(160, 100, [235, 120, 60]);

export function writeMedia(mediaDir: string, rel: string, data: Buffer | string = PNG): void {
  const file = path.join(mediaDir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

/**
 * One user with a row in every exported table, media files for some posts,
 * and the secrets above planted in the columns that must never be exported.
 * `other` is someone whose posts this user reacts to, bookmarks and follows.
 */
export async function seedUserData(knex: Knex, mediaDir: string, tag: string, other?: SeededUser): Promise<SeededUser> {
  const u = await buildUser(knex, { display_id: `${tag}_${Math.random().toString(36).slice(2, 8)}` });
  await knex('public.users').where({ id: u.id }).update({
    studysphere_login_code: SECRETS.loginCode,
    warning_notes: SECRETS.warningNotes,
    avatar_url: `/uploads/profiles/avatar_${u.id}_ab12.png`,
  });
  writeMedia(mediaDir, `profiles/avatar_${u.id}_ab12.png`);
  await knex('public.user_meta').where({ user_id: u.id }).update({
    bio: `${tag} の自己紹介, "quoted"\nsecond line`,
    discord_access_token: SECRETS.discordAccess,
    discord_refresh_token: SECRETS.discordRefresh,
    discord_username: `${tag}#1234`,
    earned_titles: JSON.stringify([`${tag}-title`]),
    active_title: `${tag}-title`,
  });
  await knex('public.titles').insert({ name: `${tag}-title`, color: 'gold', duration_days: 30, created_at: knex.fn.now(), updated_at: knex.fn.now() });

  writeMedia(mediaDir, `submissions/${u.id}_1.png`);
  writeMedia(mediaDir, `submissions/${u.id}_2.png`);
  const postIds = [
    await insertSubmissionRow(knex, { author_id: u.id, title: `${tag} 最初の投稿`, caption: `${tag} caption, with "quotes"\r\nand </script> tag`, image: `submissions/${u.id}_1.png`, hashtags: ['art', 'テスト'] }),
    await insertSubmissionRow(knex, { author_id: u.id, title: `${tag} second`, caption: `${tag} caption two`, image_url: `https://toybox.example/uploads/submissions/${u.id}_2.png` }),
    await insertSubmissionRow(knex, { author_id: u.id, title: `${tag} missing img`, caption: `${tag} three`, image: `submissions/${u.id}_gone.jpg` }),
  ];
  const deleted = await insertSubmissionRow(knex, { author_id: u.id, title: `${tag} deleted`, caption: `${tag} removed` });
  await knex('public.submissions').where({ id: deleted }).update({ deleted_at: knex.fn.now(), delete_reason: SECRETS.deleteReason });
  postIds.push(deleted);

  const cards = await masterCards(knex);
  await insertUserCardRow(knex, u.id, cards[0]!);
  await insertUserCardRow(knex, u.id, cards[0]!);
  await insertUserCardRow(knex, u.id, cards[1]!);
  await insertPointsRows(knex, u.id, 120);
  await knex('public.point_history').insert({ user_id: u.id, action_type: 'repost', points: -5, description: 'リポスト', created_at: knex.fn.now() });

  const target = other?.postIds[0] ?? postIds[0]!;
  await insertReactionRow(knex, u.id, target, 'cute');
  await insertReactionRow(knex, u.id, target, 'cool');
  const now = knex.fn.now();
  await knex('public.submission_bookmarks').insert({ user_id: u.id, submission_id: target, created_at: now });
  await knex('public.submission_reposts').insert({ user_id: u.id, submission_id: target, created_at: now });
  if (other) await knex('public.user_follows').insert({ follower_id: u.id, following_id: other.id, created_at: now });
  await knex('public.user_registrations').insert({ user_id: u.id, address: `${tag} 東京都`, age_group: '20s', phone: '000', created_at: now, updated_at: now });
  const [article] = await knex('public.articles')
    .insert({
      author_id: u.id, title: `${tag} 記事`, slug: `${tag}-${u.id}`, body: JSON.stringify([{ type: 'p', text: 'hello' }]), custom_css: '',
      status: 'published', pt_awarded: false, created_at: now, updated_at: now, thumbnail: `articles/thumbnails/${u.id}.png`,
    })
    .returning('id');
  writeMedia(mediaDir, `articles/thumbnails/${u.id}.png`);
  await knex('public.article_reactions').insert({ user_id: u.id, article_id: Number(article.id), type: 'awesome', created_at: now });
  await knex('public.article_media').insert({ uploader_id: u.id, file: `articles/media/${u.id}.png`, media_type: 'image', original_name: 'photo.png', created_at: now });
  writeMedia(mediaDir, `articles/media/${u.id}.png`);
  await knex('public.jackpot_wins').insert({ user_id: u.id, won_at: now, submission_id: postIds[0] });
  await knex('public.discord_shares').insert({ user_id: u.id, shared_at: now, share_channel: 'gallery', message_id: `m${u.id}`, submission_id: postIds[0] });
  await knex('public.user_sso_links').insert({ user_id: u.id, provider: 'studysphere', external_user_id: `ext-${u.id}`, created_at: now, updated_at: now });
  return { ...u, postIds, tag };
}

/**
 * Row counts per exported kind straight from TOYBOX's tables, written
 * independently of the export's own mapping.
 */
export async function countOwnedRows(knex: Knex, userId: number): Promise<Record<string, number>> {
  const count = async (table: string, column: string) =>
    Number((await knex(`public.${table}`).where(column, userId).count<{ n: string }[]>({ n: '*' }))[0]!.n);
  const titles = await knex.raw<{ rows: Array<{ n: string }> }>(
    'SELECT count(*) AS n FROM public.titles t JOIN public.user_meta m ON m.user_id = ? WHERE jsonb_exists(m.earned_titles, t.name) OR m.active_title = t.name',
    [userId],
  );
  return {
    profile: await count('users', 'id'),
    settings: await count('user_meta', 'user_id'),
    registration: await count('user_registrations', 'user_id'),
    posts: await count('submissions', 'author_id'),
    cards: await count('user_cards', 'user_id'),
    reactions: await count('reactions', 'user_id'),
    bookmarks: await count('submission_bookmarks', 'user_id'),
    reposts: await count('submission_reposts', 'user_id'),
    follows: await count('user_follows', 'follower_id'),
    points: await count('user_points', 'user_id'),
    point_history: await count('point_history', 'user_id'),
    titles: Number(titles.rows[0]!.n),
    reactions_received: Number(
      (
        await knex.raw<{ rows: Array<{ n: string }> }>(
          'SELECT count(DISTINCT (r.submission_id, r.type)) AS n FROM public.reactions r JOIN public.submissions s ON s.id = r.submission_id WHERE s.author_id = ?',
          [userId],
        )
      ).rows[0]!.n,
    ),
    articles: await count('articles', 'author_id'),
    article_reactions: await count('article_reactions', 'user_id'),
    article_media: await count('article_media', 'uploader_id'),
    jackpot_wins: await count('jackpot_wins', 'user_id'),
    discord_shares: await count('discord_shares', 'user_id'),
    sso_links: await count('user_sso_links', 'user_id'),
  };
}

/** Writes a response body to disk, checks it with the system unzip, and extracts it. */
export function unzipChecked(zip: Buffer, dir: string): { test: string; files: string[] } {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'archive.zip');
  fs.writeFileSync(file, zip);
  const test = execFileSync('unzip', ['-t', file], { encoding: 'utf8' });
  const out = path.join(dir, 'x');
  execFileSync('unzip', ['-q', '-o', file, '-d', out]);
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(path.relative(out, p).split(path.sep).join('/'));
    }
  };
  walk(out);
  return { test, files: files.sort() };
}

/** supertest parser that keeps a binary body as a Buffer. */
export function binaryParser(response: unknown, cb: (err: Error | null, body: Buffer) => void): void {
  const res = response as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

/** Two seeded users where `name` has rows pointing at `friendName` (follows, reactions, ...): an archive must keep the friend's data out. */
export async function seedUserWithFriend(knex: Knex, mediaDir: string, name: string, friendName: string): Promise<{ user: SeededUser; friend: SeededUser }> {
  const friend = await seedUserData(knex, mediaDir, friendName);
  const user = await seedUserData(knex, mediaDir, name, friend);
  return { user, friend };
}
