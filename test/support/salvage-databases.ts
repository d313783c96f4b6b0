import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import iconv from 'iconv-lite';
import type { Knex } from 'knex';
import knexFactory from 'knex';
import { toyboxSchemaSql } from '../../src/toybox/schema';
import { insertCardRow, insertSubmissionRow, insertUserCardRow, insertUserMetaRow, insertUserRow } from '../../src/toybox/rows';
import { libpqEnv } from '../../src/db/pg-tools';
import { OLD_TS } from './salvage-fixtures';

export const PG15 = '/usr/lib/postgresql/15/bin';

/**
 * TOYBOX's production rows before the wipe, small: an admin, taro (old id 2,
 * StudySphere 5001) with two posts and a card, hanako (old id 3) with a game.
 */
export async function fillOldToybox(knex: Knex): Promise<void> {
  const admin = await insertUserRow(knex, { email: 'admin@toybox.example', display_id: 'admin', password: '!', is_staff: true, is_superuser: true });
  const taro = await insertUserRow(knex, { email: 'taro@example.com', display_id: 'taro', password: '!' });
  const hanako = await insertUserRow(knex, { email: null, display_id: 'hanako', password: '!' });
  await knex('public.users').where({ id: taro }).update({ studysphere_user_id: 5001, studysphere_login_code: 'taro' });
  await insertUserMetaRow(knex, admin, '管理者');
  await insertUserMetaRow(knex, taro, 'たろう');
  await insertUserMetaRow(knex, hanako, 'はなこ');
  await insertSubmissionRow(knex, { author_id: taro, title: '作品 1', caption: 'キャプション', image: `submissions/2_${OLD_TS}.png`, created_at: new Date((OLD_TS + 20) * 1000) });
  await insertSubmissionRow(knex, { author_id: taro, title: 'second', image: `submissions/2_${OLD_TS + 100}.mp4`, created_at: new Date((OLD_TS + 130) * 1000) });
  await insertSubmissionRow(knex, { author_id: hanako, title: 'ゲーム', created_at: new Date((OLD_TS + 20030) * 1000) });
  const card = await insertCardRow(knex, { code: 'C001', name: 'はじまりのカード', rarity: 'SR' });
  await insertUserCardRow(knex, taro, card);
}

export const OLD_COUNTS = { users: 3, user_meta: 3, submissions: 3, cards: 1, user_cards: 1 };

export function pgDump(url: string, args: string[]): Buffer {
  const r = spawnSync('pg_dump', args, { env: { ...process.env, ...libpqEnv(url) }, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`pg_dump failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * The repository's backup shape: a plain dump written by a PowerShell redirect,
 * so UTF-16LE with BOM and CRLF, its Japanese read as CP932 first (mojibake).
 */
export function powershellDump(plain: string): Buffer {
  const mangled = plain
    .split('\n')
    .map((line) => (/[^\x00-\x7f]/.test(line) ? iconv.decode(Buffer.from(line, 'utf8'), 'cp932') : line))
    .join('\r\n');
  return Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(mangled, 'utf16le')]);
}

function asPostgres(cmd: string, args: string[]): void {
  const r = spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
}

/** A real PostgreSQL 15 data directory (initdb), with TOYBOX's schema and old rows in database `toybox`, server stopped. */
export async function makeToyboxDataDir(parent: string): Promise<string> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'salvage-datadir-'));
  fs.chmodSync(base, 0o755);
  spawnSync('chown', ['postgres:', base]);
  const data = path.join(base, 'data');
  const sock = path.join(base, 'sock');
  fs.mkdirSync(sock);
  spawnSync('chown', ['postgres:', sock]);
  asPostgres(`${PG15}/initdb`, ['-D', data, '-U', 'toybox', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  asPostgres(`${PG15}/pg_ctl`, ['-D', data, '-w', '-l', path.join(base, 'log'), '-o', `-k ${sock} -c listen_addresses='' -c fsync=off`, 'start']);
  try {
    asPostgres(`${PG15}/createdb`, ['-h', sock, '-U', 'toybox', 'toybox']);
    const knex = knexFactory({ client: 'pg', connection: { host: sock, user: 'toybox', database: 'toybox', port: 5432 }, pool: { min: 0, max: 1 } });
    try {
      await knex.raw(toyboxSchemaSql());
      await fillOldToybox(knex);
    } finally {
      await knex.destroy();
    }
  } finally {
    asPostgres(`${PG15}/pg_ctl`, ['-D', data, '-m', 'fast', '-w', 'stop']);
  }
  const target = path.join(parent, 'postgres_data', '_data');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.renameSync(data, target);
  fs.rmSync(base, { recursive: true, force: true });
  return target;
}
