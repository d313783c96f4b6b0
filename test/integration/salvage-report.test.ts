import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { tempDir } from '../support/portal';
import { createKnex } from '../../src/db';
import { buildUser } from '../support/factories';
import { fingerprintTree, makeDiscordExport, makeDockerLog, makeNewUploadsTree, makeOldUploadsTree, OLD_TS } from '../support/salvage-fixtures';
import { fillOldToybox, pgDump } from '../support/salvage-databases';
import { salvageCli } from '../support/salvage-cli';

describe('salvage add-logs, add-discord and report (real files, the real CLI)', () => {
  let portalDb: TestDatabase;
  let knex: Knex;
  let work: string;
  let before: Record<string, string>;
  const ids: Record<string, number> = {};
  const run = (args: string[]) => salvageCli(portalDb.url, path.join(work, 'portal-data'), args);

  beforeAll(async () => {
    portalDb = await createTestDatabase();
    knex = createKnex(portalDb.url, 2);
    // Today's TOYBOX: taro re-registered with the same e-mail; someone signed in with taro's StudySphere account; a "はなこ" by name only.
    ids.taro = (await buildUser(knex, { display_id: 'taro', email: 'taro@example.com' })).id;
    ids.sso = (await buildUser(knex, { display_id: 'sso_person', email: 'other@example.com' })).id;
    await knex('public.users').where({ id: ids.sso }).update({ studysphere_user_id: 5001 });
    ids.hana = (await buildUser(knex, { display_id: 'hana', email: 'hana@new.example' })).id;
    await knex('public.user_meta').where({ user_id: ids.hana }).update({ display_name: 'はなこ' });
    ids.stranger = (await buildUser(knex, { display_id: 'stranger' })).id;

    work = tempDir('salvage-report-');
    const oldDb = await createTestDatabase();
    const oldKnex = createKnex(oldDb.url, 1);
    await fillOldToybox(oldKnex);
    await oldKnex.destroy();
    fs.mkdirSync(path.join(work, 'src'));
    fs.writeFileSync(path.join(work, 'src', 'toybox.dump'), pgDump(oldDb.url, ['-Fc']));
    await oldDb.drop();
    await makeOldUploadsTree(path.join(work, 'src', 'uploads'));
    await makeNewUploadsTree(path.join(work, 'src', 'volume'), path.join(work, 'src', 'uploads'));
    makeDiscordExport(path.join(work, 'src', 'discord'), path.join(work, 'src', 'uploads'));
    makeDockerLog(path.join(work, 'src'));
    fs.writeFileSync(path.join(work, 'src', 'not-dce.json'), JSON.stringify({ messages: [] }));
    before = fingerprintTree(path.join(work, 'src'));
    for (const args of [
      ['add-database', path.join(work, 'src', 'toybox.dump')],
      ['add-media', path.join(work, 'src', 'uploads')],
      ['add-media', path.join(work, 'src', 'volume'), '--era', 'new'],
    ]) {
      const r = run(args);
      if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
    }
  }, 120_000);
  afterAll(async () => {
    await knex.destroy();
    await portalDb.drop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('reads Docker log lines into facts with their line, once', () => {
    const log = path.join(work, 'src', 'c0ffee-json.log');
    const r = run(['add-logs', log, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ lines: 7, facts: { upload: 1, reaction: 1, share: 1, sso_user: 1, points: 1 } });
    const again = run(['add-logs', log, '--json']);
    expect(JSON.parse(again.stdout)[0].facts).toEqual({ upload: 1, reaction: 1, share: 1, sso_user: 1, points: 1 });
  });

  it('reads the Discord export (streamed), tying the share to the stored file by name and bytes', async () => {
    const r = run(['add-discord', path.join(work, 'src', 'discord', 'share.json'), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ messages: 3, facts: { discord_share: 1, discord_game_share: 1 } });
    const share = await knex('portal.salvage_facts').where({ kind: 'discord_share' }).first();
    const bytes = fs.readFileSync(path.join(work, 'src', 'uploads', 'submissions', `2_${OLD_TS}.png`));
    expect(share).toMatchObject({ old_user_id: 2, display_name: 'たろう', sha256: crypto.createHash('sha256').update(bytes).digest('hex') });
    expect(new Date(share.occurred_at).getTime()).toBe((OLD_TS + 20) * 1000);
    const file = await knex('portal.salvage_files').where({ sha256: share.sha256 }).pluck('rel_path');
    expect(file.sort()).toEqual(['profiles/header_2_deadbeef.png', `submissions/2_${OLD_TS}.png`]);
    const bad = run(['add-discord', path.join(work, 'src', 'not-dce.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(/not a DiscordChatExporter JSON export/);
  });

  it('reports each old user id with its files, posts, facts and the right current-user matches', () => {
    const r = run(['report', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const c2 = report.clusters.find((c: { old_user_id: number }) => c.old_user_id === 2);
    expect(c2.display_ids).toEqual(['taro']);
    expect(c2.display_names).toEqual(['たろう']);
    expect(c2.files.by_kind).toEqual({ post_image: 1, thumbnail: 1, post_video: 1, poster: 1, avatar: 1, avatar_thumbnail: 1, header: 1 });
    expect(c2.files.by_era).toEqual({ old: 7 }); // the new volume's 2_... belongs to today's user 2
    expect(c2.games).toEqual([`games/taro/${OLD_TS + 20000}`]);
    expect(c2.posts.map((p: { title: string }) => p.title)).toEqual(['作品 1', 'second']);
    expect(c2.cards).toBe(1);
    expect(c2.facts).toEqual({ sso_user: 1, upload: 1, points: 1, share: 1, discord_share: 1, discord_game_share: 1 });
    expect(c2.matches).toEqual([
      { user_id: ids.taro, display_id: 'taro', strength: 'strong', reasons: [{ what: 'email', value: 'taro@example.com', strength: 'strong' }, { what: 'display_id', value: 'taro', strength: 'medium' }] },
      { user_id: ids.sso, display_id: 'sso_person', strength: 'strong', reasons: [{ what: 'studysphere_id', value: '5001', strength: 'strong' }] },
    ]);
    const c3 = report.clusters.find((c: { old_user_id: number }) => c.old_user_id === 3);
    expect(c3.facts).toEqual({ reaction: 1 });
    expect(c3.matches).toEqual([{ user_id: ids.hana, display_id: 'hana', strength: 'weak', reasons: [{ what: 'display_name', value: 'はなこ', strength: 'weak' }] }]);
    expect(report.clusters.map((c: { old_user_id: number }) => c.old_user_id)).toEqual([1, 2, 3, 4, 5, 9]);
    expect(report.sources.every((s: { status: string }) => s.status === 'complete' || s.status === 'failed')).toBe(true);
    const text = run(['report', '--search', 'たろう']);
    expect(text.stdout).toContain(`may be current user ${ids.taro} (taro): strong - email, display_id`);
    expect(text.stdout).not.toContain('old user 3');
  });

  it('never wrote to any source', () => {
    expect(fingerprintTree(path.join(work, 'src'))).toEqual(before);
  });
});
