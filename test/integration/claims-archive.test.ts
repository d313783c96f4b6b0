import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import yazl from 'yazl';
import type { Knex } from 'knex';
import { startTestPortal, csrfFrom, signedInAgent, tempDir, type TestPortal } from '../support/portal';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { buildUser, type BuiltUser } from '../support/factories';
import { seedUserData, binaryParser, type SeededUser } from '../support/export-seed';
import { sha256 } from '../support/claims-fixtures';
import { workQueues } from '../support/background';
import { claimsRecoveryChecks } from '../../src/features/claims/recovery';

type Agent = Awaited<ReturnType<typeof signedInAgent>>;

/**
 * A person's own export archive as proof and restore source: real exports
 * made by the export code, real PostgreSQL, real files, real SMTP for the
 * e-mail confirmation of a re-registered account.
 */
describe('claims: restoring from your own export archive', () => {
  let portal: TestPortal;
  let sink: SmtpSink;
  let stopWorker: () => Promise<void>;
  let knex: Knex;
  let work: string;
  let media: string;
  let alice: SeededUser;
  let bob: SeededUser;
  let aliceZip: string;
  let bobZip: string;
  /** alice's rows as they were when she exported. */
  let alicePosts: Array<{ id: number; title: string; caption: string; created_at: Date; image: string | null; image_url: string | null }>;
  let aliceCards: Array<{ id: number; obtained_at: Date; card_id: number }>;
  let aliceFiles: Record<string, string>;
  let newAlice: BuiltUser;
  let agent: Agent;

  async function exportOf(u: SeededUser, name: string): Promise<string> {
    const a = await signedInAgent(portal, u.display_id, u.password);
    const res = await a.get('/api/me/export?format=zip').buffer(true).parse(binaryParser);
    expect(res.status).toBe(200);
    const file = path.join(work, name);
    fs.writeFileSync(file, res.body as Buffer);
    return file;
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
    work = tempDir('claims-archive-');
    media = path.join(work, 'live-uploads');
    fs.mkdirSync(media);
    portal = await startTestPortal({ TOYBOX_MEDIA_DIR: media, TOYBOX_URL: 'https://toybox.example', SMTP_URL: `${sink.url}?tls=off`, EXPORT_COOLDOWN_HOURS: '0', CLAIMS_MAX_UPLOAD_MB: '2' });
    knex = portal.ctx.knex;
    stopWorker = await workQueues(portal.ctx, ['claimsMail']); // the claims e-mail link is sent by its queue job
    bob = await seedUserData(knex, media, 'bob');
    alice = await seedUserData(knex, media, 'alice', bob);
    // Original times well in the past, so "kept the original time" is visible.
    await knex.raw(`UPDATE public.submissions SET created_at = '2025-06-01T12:34:56Z'::timestamptz + (id * interval '1 hour') WHERE author_id = ?`, [alice.id]);
    await knex.raw(`UPDATE public.user_cards SET obtained_at = '2025-07-01T00:00:00Z'::timestamptz + (id * interval '1 minute') WHERE user_id = ?`, [alice.id]);
    alicePosts = await knex('public.submissions').where({ author_id: alice.id }).whereNull('deleted_at').orderBy('id');
    aliceCards = await knex('public.user_cards').where({ user_id: alice.id }).orderBy('id');
    aliceFiles = { [`submissions/${alice.id}_1.png`]: sha256(path.join(media, `submissions/${alice.id}_1.png`)), [`submissions/${alice.id}_2.png`]: sha256(path.join(media, `submissions/${alice.id}_2.png`)) };
    aliceZip = await exportOf(alice, 'alice.zip');
    bobZip = await exportOf(bob, 'bob.zip');

    // The wipe: alice's posts and cards (and what hangs on them) are gone, and so is her account's address.
    const posts = (await knex('public.submissions').where({ author_id: alice.id }).pluck('id')).map(Number);
    for (const t of ['reactions', 'submission_bookmarks', 'submission_reposts', 'jackpot_wins', 'discord_shares']) await knex(`public.${t}`).whereIn('submission_id', posts).delete();
    await knex('public.submissions').whereIn('id', posts).delete();
    await knex('public.user_cards').where({ user_id: alice.id }).delete();
    await knex('public.users').where({ id: alice.id }).update({ email: null });
    // She registers again with her address, and proves she controls it through the claims e-mail link.
    newAlice = await buildUser(knex, { display_id: 'alice_again', email: alice.email });
    agent = await signedInAgent(portal, newAlice.display_id, newAlice.password);
    const page = await agent.get('/recover');
    expect((await agent.post('/recover/email').type('form').send({ _csrf: csrfFrom(page.text), email: alice.email })).status).toBe(200);
    const [mail] = (await sink.waitFor(1)).filter((m) => m.envelopeTo.includes(alice.email));
    const link = /https?:\/\/\S+\/recover\/email\/[A-Za-z0-9_-]{43}/.exec(mail!.parsed.text ?? '')![0];
    const confirm = await agent.get(new URL(link).pathname);
    expect((await agent.post('/recover/email/confirm').type('form').send({ _csrf: csrfFrom(confirm.text), token: /name="token" value="([^"]+)"/.exec(confirm.text)![1] })).status).toBe(200);
  });

  afterAll(async () => {
    await stopWorker?.();
    await portal?.close();
    await sink?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function upload(a: Agent, file: string | Buffer, name = 'archive.zip') {
    const page = await a.get('/recover');
    return a.post('/recover/archive').field('_csrf', csrfFrom(page.text)).attach('archive', typeof file === 'string' ? fs.readFileSync(file) : file, name);
  }

  /** Everything an upload or restore could write, to prove a refusal wrote nothing. */
  async function snapshot() {
    const n = async (table: string) => Number((await knex(table).count<{ n: string }[]>('* as n'))[0]!.n);
    const files = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map(String).sort() : []);
    return {
      submissions: await n('public.submissions'),
      user_cards: await n('public.user_cards'),
      archives: await n('portal.claim_archives'),
      items: await n('portal.claim_archive_items'),
      restores: await n('portal.restores'),
      media: files(media),
      kept: files(path.join(portal.dataDir, 'claims-archives')),
      uploads: files(path.join(portal.dataDir, 'claims-uploads')),
    };
  }

  function unpack(file: string, name: string): string {
    const dir = path.join(work, name);
    execFileSync('unzip', ['-q', '-o', file, '-d', dir]);
    return dir;
  }
  function rezip(dir: string, name: string): string {
    const out = path.join(work, `${name}.zip`);
    fs.rmSync(out, { force: true });
    execFileSync('zip', ['-q', '-r', '-X', out, '.'], { cwd: dir });
    return out;
  }
  function zipOf(entries: Array<[string, Buffer | Readable, number?]>): Promise<Buffer> {
    const z = new yazl.ZipFile();
    for (const [name, data, mode] of entries) {
      if (Buffer.isBuffer(data)) z.addBuffer(data, name, mode ? { mode } : {});
      else z.addReadStream(data, name, { compress: true });
    }
    z.end();
    const parts: Buffer[] = [];
    return new Promise((resolve, reject) => {
      z.outputStream.on('data', (c: Buffer) => parts.push(c)).on('end', () => resolve(Buffer.concat(parts))).on('error', reject);
    });
  }

  it('refuses an edited row, a swapped file and a forged manifest with what failed (tampering is not sent to staff); nothing is written', async () => {
    const before = await snapshot();
    const edited = unpack(aliceZip, 'edited');
    const data = fs.readFileSync(path.join(edited, 'data.json'), 'utf8');
    fs.writeFileSync(path.join(edited, 'data.json'), data.replace('alice second', 'alice HACKED'));
    let res = await upload(agent, rezip(edited, 'edited'));
    expect(res.status).toBe(422);
    expect(res.text).toContain('data.json differs from the manifest');

    const swapped = unpack(aliceZip, 'swapped');
    fs.writeFileSync(path.join(swapped, `media/submissions/${alice.id}_1.png`), crypto.randomBytes(300));
    res = await upload(agent, rezip(swapped, 'swapped'));
    expect(res.status).toBe(422);
    expect(res.text).toContain(`media/submissions/${alice.id}_1.png differs from the manifest`);

    const forged = unpack(aliceZip, 'forged');
    const manifest = JSON.parse(fs.readFileSync(path.join(forged, 'manifest.json'), 'utf8'));
    manifest.subject.display_id = 'alice_again';
    fs.writeFileSync(path.join(forged, 'manifest.json'), JSON.stringify(manifest, null, 2));
    res = await upload(agent, rezip(forged, 'forged'));
    expect(res.status).toBe(422);
    expect(res.text).toContain('the signature does not match manifest.json');

    // Unsigned AND edited: still tampering, refused (only an intact archive goes to staff).
    const unsignedEdited = unpack(aliceZip, 'unsigned-edited');
    fs.rmSync(path.join(unsignedEdited, 'manifest.sig'));
    fs.writeFileSync(path.join(unsignedEdited, 'data.json'), data.replace('alice second', 'alice HACKED'));
    res = await upload(agent, rezip(unsignedEdited, 'unsigned-edited'));
    expect(res.status).toBe(422);
    expect(res.text).toContain('data.json differs from the manifest');
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a ZIP bomb, a ../ entry and an oversize upload; nothing is written', async () => {
    const before = await snapshot();
    // 512 MiB of zeros deflated to ~0.5 MB: refused from the central directory, before inflating.
    const zeros = Readable.from((function* () { for (let i = 0; i < 512; i++) yield Buffer.alloc(1024 * 1024); })());
    const bomb = await zipOf([['data.json', zeros]]);
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const started = Date.now();
    let res = await upload(agent, bomb, 'bomb.zip');
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/expands \d+:1 \(536870912 bytes; ZIP bomb\?\)/);
    expect(Date.now() - started).toBeLessThan(5000);

    // Same length as '../evil.txt', patched into the local header and the central directory.
    const traversal = Buffer.from((await zipOf([['aa/evil.txt', Buffer.from('x')]])).toString('latin1').replaceAll('aa/evil.txt', '../evil.txt'), 'latin1');
    res = await upload(agent, traversal, 'traversal.zip');
    expect(res.status).toBe(422);
    expect(res.text).toContain('unsafe entry name');

    // A symbolic link entry (pointing at /etc/passwd) inside an otherwise plain ZIP.
    res = await upload(agent, await zipOf([['media/link.png', Buffer.from('/etc/passwd'), 0o120777]]), 'symlink.zip');
    expect(res.status).toBe(422);
    expect(res.text).toContain('is a symbolic link');

    res = await upload(agent, crypto.randomBytes(3 * 1024 * 1024), 'huge.zip');
    expect(res.status).toBe(413);
    expect(res.text).toContain('2 MB');

    const page = await agent.get('/recover');
    res = await agent.post('/recover/archive').field('_csrf', 'not-the-token').attach('archive', fs.readFileSync(aliceZip), 'alice.zip');
    expect(res.status).toBe(403);
    expect(page.status).toBe(200);
    expect(await snapshot()).toEqual(before);
  });

  it("restores her posts, files and cards into the re-registered account with original times, once; undo removes exactly that", async () => {
    const before = await snapshot();
    let res = await upload(agent, aliceZip, 'toybox-export-alice.zip');
    expect(res.status).toBe(200);
    expect(res.text).toContain('data-result="archive"');
    const archiveId = /name="archive" value="(\d+)"/.exec(res.text)![1]!;
    const offered = [...res.text.matchAll(/name="posts" value="([^"]+)" checked/g)].map((m) => m[1]!);
    expect(offered.sort()).toEqual(alicePosts.filter((p) => p.image || p.image_url).filter((p) => !String(p.image ?? '').includes('gone')).map((p) => `toybox:toybox.example:new:submissions:${p.id}`).sort());
    // The same archive again: nothing new.
    res = await upload(agent, aliceZip, 'again.zip');
    expect(res.status).toBe(200);
    expect(Number((await knex('portal.claim_archives').where({ user_id: newAlice.id }).count<{ n: string }[]>('* as n'))[0]!.n)).toBe(1);

    const send = async () => {
      const page = await agent.get('/recover');
      const posts = [...page.text.matchAll(/name="posts" value="([^"]+)" checked/g)].map((m) => m[1]!);
      return agent.post('/recover/archive/restore').type('form').send({ _csrf: csrfFrom(page.text), archive: archiveId, posts, cards: 'on', avatar: 'on', bio: 'on' });
    };
    res = await send();
    expect(res.status).toBe(200);
    expect(res.text).toContain('data-result="restored"');
    const restored = await knex('public.submissions').where({ author_id: newAlice.id }).orderBy('old_id');
    expect(restored).toHaveLength(offered.length);
    for (const r of restored) {
      const orig = alicePosts.find((p) => r.old_id === `toybox:toybox.example:new:submissions:${p.id}`)!;
      expect(r.status).toBe('PRIVATE');
      expect(new Date(r.created_at).toISOString()).toBe(new Date(orig.created_at).toISOString());
      expect(r.title).toBe(orig.title);
      expect(r.caption).not.toMatch(/<\/?script/i);
      const rel = String(r.image_url).replace('https://toybox.example/uploads/', '');
      const origRel = orig.image ?? String(orig.image_url).replace('https://toybox.example/uploads/', '');
      expect(sha256(path.join(media, rel))).toBe(aliceFiles[origRel]);
    }
    const cards = await knex('public.user_cards').where({ user_id: newAlice.id }).orderBy('old_id');
    expect(cards.map((c) => [c.old_id, new Date(c.obtained_at).toISOString(), Number(c.card_id)])).toEqual(
      aliceCards.map((c) => [`toybox:toybox.example:new:user_cards:${c.id}`, new Date(c.obtained_at).toISOString(), Number(c.card_id)]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    const user = await knex('public.users').where({ id: newAlice.id }).first();
    expect(user.avatar_url).toMatch(new RegExp(`^https://toybox\\.example/uploads/profiles/avatar_${newAlice.id}_[0-9a-f]{8}\\.png$`));
    expect((await knex('public.user_meta').where({ user_id: newAlice.id }).first()).bio).toContain('alice の自己紹介');
    const afterFirst = await snapshot();

    // Twice adds nothing.
    res = await send();
    expect(res.status).toBe(200);
    expect(res.text).toContain('data-result="nothing"');
    expect(await snapshot()).toEqual(afterFirst);

    // Undo removes exactly what was added (rows and copied files); the kept archive stays.
    const restore = await knex('portal.restores').where({ user_id: newAlice.id }).first();
    expect(Number(restore.archive_id)).toBe(Number(archiveId));
    const page = await agent.get('/recover');
    res = await agent.post(`/recover/restores/${restore.id}/undo`).type('form').send({ _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(200);
    const after = await snapshot();
    expect({ ...after, archives: 0, items: 0, restores: 0, kept: [] }).toEqual({ ...before, archives: 0, items: 0, restores: 0, kept: [] });
    // the avatar is back to what the new account had (none)
    expect((await knex('public.users').where({ id: newAlice.id }).first()).avatar_url).toBeNull();
  });

  it("skips the rows a person still has: bob's own archive restores nothing into bob's live account", async () => {
    const bobAgent = await signedInAgent(portal, bob.display_id, bob.password);
    const res = await upload(bobAgent, bobZip);
    expect(res.status).toBe(200);
    expect(res.text).not.toMatch(/name="posts" value="[^"]+" checked/);
    expect(res.text).toContain('data-state="live"');
    const before = await snapshot();
    const page = await bobAgent.get('/recover');
    const archive = /name="archive" value="(\d+)"/.exec(page.text)![1]!;
    const r = await bobAgent.post('/recover/archive/restore').type('form').send({ _csrf: csrfFrom(page.text), archive, all_posts: 'on', cards: 'on' });
    expect(r.status).toBe(200);
    expect(r.text).toContain('data-result="nothing"');
    expect(await snapshot()).toEqual(before);
  });
  describe('archives that are not proof by themselves go to staff', () => {
    let staffAgent: Agent;
    beforeAll(async () => {
      const staff = await buildUser(knex, { is_staff: true, role: 'ADMIN' });
      staffAgent = await signedInAgent(portal, staff.display_id, staff.password);
    });
    const restorable = async (a: Agent) => [...(await a.get('/recover')).text.matchAll(/name="archive" value="(\d+)"/g)].map((m) => m[1]!);
    async function decide(id: string, decision: 'approve' | 'reject', reason: string) {
      const page = await staffAgent.get('/admin/claims');
      return staffAgent.post(`/admin/claims/archives/${id}/decision`).type('form').send({ _csrf: csrfFrom(page.text), decision, reason });
    }

    it('an unsigned archive is kept for staff (202), nothing restorable; approved, it restores with original times, PRIVATE, and undoes', async () => {
      const unsigned = unpack(aliceZip, 'unsigned');
      fs.rmSync(path.join(unsigned, 'manifest.sig'));
      const before = await snapshot();
      let res = await upload(agent, rezip(unsigned, 'unsigned'), 'unsigned.zip');
      expect(res.status).toBe(202);
      expect(res.text).toContain('data-result="archive-review"');
      const row = await knex('portal.claim_archives').where({ user_id: newAlice.id, status: 'review' }).first();
      expect(row.review.reasons).toEqual([{ code: 'unsigned' }]);
      expect(row.review.rows).toBeGreaterThan(0);
      expect(row.review.files).toBeGreaterThan(0);
      expect(fs.statSync(row.stored_path).mode & 0o777).toBe(0o600);
      expect(row.stored_path.startsWith(path.join(portal.dataDir, 'claims-archives'))).toBe(true);
      expect(res.text).toContain(`data-archive-review="${row.id}"`);
      expect(await claimsRecoveryChecks(portal.ctx)).toEqual([{ id: 'claims', state: 'warn', detail: 'claims.archives_waiting', vars: { pending: 1, oldest: expect.any(Date) } }]);
      expect(await restorable(agent)).not.toContain(String(row.id));
      // Not restorable before approval, even by posting its id.
      let page = await agent.get('/recover');
      res = await agent.post('/recover/archive/restore').type('form').send({ _csrf: csrfFrom(page.text), archive: String(row.id), all_posts: 'on', cards: 'on' });
      expect(res.status).toBe(404);
      const now = await snapshot();
      expect({ ...now, archives: 0, items: 0, kept: [] }).toEqual({ ...before, archives: 0, items: 0, kept: [] });

      // Staff see it with its evidence; a non-staff person cannot decide it.
      const admin = await staffAgent.get('/admin/claims');
      expect(admin.status).toBe(200);
      expect(admin.text).toContain(`data-archive-review="${row.id}"`);
      expect(admin.text).toContain('data-reason="unsigned"');
      expect(admin.text).toContain(`data-counts="${row.review.rows} ${row.review.files}"`);
      page = await agent.get('/recover');
      res = await agent.post(`/admin/claims/archives/${row.id}/decision`).type('form').send({ _csrf: csrfFrom(page.text), decision: 'approve', reason: 'mine' });
      expect(res.status).toBe(403);
      res = await decide(String(row.id), 'approve', 'x');
      expect(res.status).toBe(422);
      res = await decide(String(row.id), 'approve', 'same e-mail, known person');
      expect(res.status).toBe(303);
      expect((await decide(String(row.id), 'reject', 'changed my mind')).status).toBe(409);
      const decided = await knex('portal.claim_archives').where({ id: row.id }).first();
      expect(decided.status).toBe('approved');
      expect(decided.proof).toMatch(/^staff-approved by /);
      expect(await knex('portal.audit_log').where({ action: 'claims.archive_approved' }).pluck('target')).toEqual([`user:${newAlice.id}`]);

      expect(await restorable(agent)).toContain(String(row.id));
      page = await agent.get('/recover');
      const posts = [...new Set([...page.text.matchAll(/name="posts" value="([^"]+)" checked/g)].map((m) => m[1]!))];
      expect(posts.length).toBeGreaterThan(0);
      res = await agent.post('/recover/archive/restore').type('form').send({ _csrf: csrfFrom(page.text), archive: String(row.id), posts, cards: 'on' });
      expect(res.status).toBe(200);
      expect(res.text).toContain('data-result="restored"');
      const restored = await knex('public.submissions').where({ author_id: newAlice.id });
      expect(restored).toHaveLength(posts.length);
      for (const r of restored) {
        const orig = alicePosts.find((p) => r.old_id === `toybox:toybox.example:new:submissions:${p.id}`)!;
        expect(r.status).toBe('PRIVATE');
        expect(new Date(r.created_at).toISOString()).toBe(new Date(orig.created_at).toISOString());
      }
      const restore = await knex('portal.restores').where({ user_id: newAlice.id, archive_id: row.id }).first();
      page = await agent.get('/recover');
      res = await agent.post(`/recover/restores/${restore.id}/undo`).type('form').send({ _csrf: csrfFrom(page.text) });
      expect(res.status).toBe(200);
      expect(await knex('public.submissions').where({ author_id: newAlice.id })).toHaveLength(0);
      expect(await knex('public.user_cards').where({ user_id: newAlice.id })).toHaveLength(0);
    });

    it("another account's valid archive goes to staff naming that account, never auto-restored; rejected, nothing is restorable and the person is told", async () => {
      let res = await upload(agent, bobZip, 'bob.zip');
      expect(res.status).toBe(202);
      const row = await knex('portal.claim_archives').where({ user_id: newAlice.id, status: 'review' }).first();
      expect(row.review.reasons).toEqual([{ code: 'other_account', user_id: bob.id, display_id: bob.display_id }]);
      expect(await restorable(agent)).not.toContain(String(row.id));
      const admin = await staffAgent.get('/admin/claims');
      expect(admin.text).toContain('data-reason="other_account"');
      expect(admin.text).toContain(bob.display_id);

      expect((await decide(String(row.id), 'reject', 'not the same person')).status).toBe(303);
      const decided = await knex('portal.claim_archives').where({ id: row.id }).first();
      expect(decided.status).toBe('rejected');
      expect(fs.existsSync(row.stored_path)).toBe(false);
      expect(await knex('portal.claim_archive_items').where({ archive_id: row.id })).toHaveLength(0);
      const page = await agent.get('/recover');
      expect(page.text).toMatch(new RegExp(`data-archive-review="${row.id}" data-status="rejected"`));
      expect(page.text).toContain('not the same person');
      expect(await restorable(agent)).not.toContain(String(row.id));
      res = await agent.post('/recover/archive/restore').type('form').send({ _csrf: csrfFrom(page.text), archive: String(row.id), all_posts: 'on', cards: 'on' });
      expect(res.status).toBe(404);
      // The same bytes again: told it was rejected, nothing new.
      res = await upload(agent, bobZip, 'bob-again.zip');
      expect(res.status).toBe(200);
      expect(res.text).toContain('data-result="archive-rejected"');
    });

    it('a foreign-key signature is sent to staff with the key named', async () => {
      const foreign = unpack(aliceZip, 'foreign');
      const sig = JSON.parse(fs.readFileSync(path.join(foreign, 'manifest.sig'), 'utf8'));
      sig.key_id = 'ed25519:0000000000000000';
      fs.writeFileSync(path.join(foreign, 'manifest.sig'), JSON.stringify(sig));
      const manifest = JSON.parse(fs.readFileSync(path.join(foreign, 'manifest.json'), 'utf8'));
      manifest.key_id = sig.key_id;
      fs.writeFileSync(path.join(foreign, 'manifest.json'), JSON.stringify(manifest, null, 2));
      const res = await upload(agent, rezip(foreign, 'foreign'), 'foreign.zip');
      expect(res.status).toBe(202);
      const row = await knex('portal.claim_archives').where({ user_id: newAlice.id, status: 'review', upload_name: 'foreign.zip' }).first();
      expect(row.review.reasons).toEqual([{ code: 'foreign_key', key_id: 'ed25519:0000000000000000' }]);
      expect((await staffAgent.get('/admin/claims')).text).toContain('ed25519:0000000000000000');
    });
  });
});
