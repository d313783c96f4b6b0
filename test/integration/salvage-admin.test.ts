import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { startTestPortal, signedInAgent, tempDir, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { makeOldUploadsTree, OLD_TS } from '../support/salvage-fixtures';
import { salvageCli } from '../support/salvage-cli';

describe('/admin/salvage (staff only, read-only)', () => {
  let portal: TestPortal;
  let tree: string;
  let staff: { display_id: string; password: string };
  let member: { display_id: string; password: string };
  const sha = (rel: string) => crypto.createHash('sha256').update(fs.readFileSync(path.join(tree, rel))).digest('hex');

  beforeAll(async () => {
    portal = await startTestPortal();
    staff = await buildUser(portal.ctx.knex, { is_staff: true });
    member = await buildUser(portal.ctx.knex);
    tree = path.join(tempDir('salvage-admin-'), 'uploads');
    await makeOldUploadsTree(tree);
    const r = salvageCli(portal.db.url, portal.dataDir, ['add-media', tree]);
    if (r.code !== 0) throw new Error(r.stderr);
  }, 120_000);
  afterAll(async () => {
    await portal.close();
    fs.rmSync(path.dirname(tree), { recursive: true, force: true });
  });

  it('shows each old user to staff, searchable, in Japanese and English', async () => {
    const agent = await signedInAgent(portal, staff.display_id, staff.password);
    const page = await agent.get('/admin/salvage');
    expect(page.status).toBe(200);
    expect(page.text).toContain('旧ユーザー 2');
    expect(page.text).toContain(`/admin/salvage/thumbs/${sha(`submissions/2_${OLD_TS}.png`)}`);
    const found = await agent.get('/admin/salvage').query({ q: '9' });
    expect(found.text).toContain('旧ユーザー 9');
    expect(found.text).not.toContain('旧ユーザー 2<');
    const en = await agent.get('/admin/salvage').query({ lang: 'en' });
    expect(en.text).toContain('Old user 2');
    expect((await agent.get('/admin/salvage').query({ q: 'x'.repeat(101) })).status).toBe(422); // invalid query: 422, as every invalid input
  });

  it('serves thumbnails of catalogued images to staff only, never cached', async () => {
    const hash = sha(`submissions/2_${OLD_TS}.png`);
    const staffAgent = await signedInAgent(portal, staff.display_id, staff.password);
    const img = await staffAgent.get(`/admin/salvage/thumbs/${hash}`);
    expect(img.status).toBe(200);
    expect(img.headers['content-type']).toBe('image/jpeg');
    expect(img.headers['cache-control']).toBe('private, no-store');
    expect(img.body.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect((await staffAgent.get(`/admin/salvage/thumbs/${sha(`submissions/2_${OLD_TS + 100}.mp4`)}`)).status).toBe(404);
    expect((await staffAgent.get('/admin/salvage/thumbs/not-a-hash')).status).toBe(404); // malformed parameter: 404 like an unknown one
    const memberAgent = await signedInAgent(portal, member.display_id, member.password);
    expect((await memberAgent.get(`/admin/salvage/thumbs/${hash}`)).status).toBe(403);
    expect((await memberAgent.get('/admin/salvage')).status).toBe(403);
    const anonymous = await portal.agent().get(`/admin/salvage/thumbs/${hash}`);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toMatch(/^\/login/);
  });
});
