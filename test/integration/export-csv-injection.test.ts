import fs from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { startTestPortal, tempDir, type TestPortal, signedInAgent } from '../support/portal';
import { buildUser } from '../support/factories';
import { unzipChecked, binaryParser } from '../support/export-seed';
import { insertSubmissionRow } from '../../src/toybox/rows';

/**
 * Formula injection (OWASP "CSV injection"): text another user controls, or
 * the user's own text pasted from elsewhere, must open in a spreadsheet as
 * text, never as a live formula; data.json keeps the exact value.
 */
describe('export CSVs neutralise spreadsheet formulas', () => {
  let portal: TestPortal;
  let work: string;

  beforeAll(async () => {
    work = tempDir('export-injection-');
    portal = await startTestPortal({ TOYBOX_MEDIA_DIR: tempDir('export-injection-media-'), EXPORT_COOLDOWN_HOURS: '0' });
  });
  afterAll(async () => {
    await portal.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("writes another user's =HYPERLINK display id and formula captions as text in follows.csv and posts.csv", async () => {
    const knex = portal.ctx.knex;
    const attackerId = '=HYPERLINK("http://x","y")';
    const attacker = await buildUser(knex, { display_id: attackerId });
    const victim = await buildUser(knex);
    await knex('public.user_follows').insert({ follower_id: victim.id, following_id: attacker.id, created_at: new Date() });
    const captions = ['=1+2', '+cmd|" /C calc"!A0', '-2+3', '@SUM(A1:A2)', '\t=tab', '\r=cr', 'plain = text'];
    for (const caption of captions) await insertSubmissionRow(knex, { author_id: victim.id, title: caption, caption });

    const agent = await signedInAgent(portal, victim.display_id, victim.password);
    const res = await agent.get('/api/me/export?format=zip').buffer(true).parse(binaryParser);
    expect(res.status).toBe(200);
    const { files } = unzipChecked(res.body as Buffer, work);
    expect(files).toContain('csv/follows.csv');
    const read = (f: string) => fs.readFileSync(path.join(work, 'x', f));

    const follows = parseCsv(read('csv/follows.csv'), { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(follows).toEqual([expect.objectContaining({ following_id: String(attacker.id), following_display_id: `'${attackerId}` })]);
    // the raw cell is one quoted text cell starting with the apostrophe, not a formula
    expect(read('csv/follows.csv').toString('utf8')).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);

    const posts = parseCsv(read('csv/posts.csv'), { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(posts.map((p) => p.caption)).toEqual(captions.map((c) => (c === 'plain = text' ? c : `'${c}`)));
    expect(posts.map((p) => p.title)).toEqual(captions.map((c) => (c === 'plain = text' ? c : `'${c}`)));
    for (const p of posts) expect(p.caption).not.toMatch(/^[=+\-@\t\r]/);

    // data.json keeps the exact values
    const data = JSON.parse(read('data.json').toString('utf8')) as { kinds: Record<string, Array<Record<string, unknown>>> };
    expect(data.kinds.follows![0]!.following_display_id).toBe(attackerId);
    expect(data.kinds.posts!.map((p) => p.caption)).toEqual(captions);
    // and so does the JSON-only download
    const json = await agent.get('/api/me/export?format=json');
    expect((json.body.kinds.follows as Array<{ following_display_id: string }>)[0]!.following_display_id).toBe(attackerId);
  });
});
