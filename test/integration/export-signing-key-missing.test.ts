import fs from 'node:fs';
import path from 'node:path';
import { startTestPortal, tempDir, signedInAgent, type TestPortal } from '../support/portal';
import { seedUserData } from '../support/export-seed';

describe('signed export archives: a signing key that cannot be read', () => {
  let portal: TestPortal;
  let missing: string;

  beforeAll(async () => {
    missing = path.join(tempDir('no-key-'), 'signing.pem');
    portal = await startTestPortal({ EXPORT_SIGNING_KEY_FILE: missing, EXPORT_COOLDOWN_HOURS: '0' });
  });
  afterAll(async () => {
    await portal.close();
    fs.rmSync(path.dirname(missing), { recursive: true, force: true });
  });

  it('answers 503 with a message (no cut-off download, no job left running), and the key URL says so too', async () => {
    const mediaDir = tempDir('no-key-media-');
    const carol = await seedUserData(portal.ctx.knex, mediaDir, 'carol');
    const agent = await signedInAgent(portal, carol.display_id, carol.password);
    const res = await agent.get('/api/me/export?format=zip').set('Accept-Language', 'en');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.stringify(res.body)).toContain('signing key cannot be read');
    const jobs = await portal.ctx.knex('portal.export_jobs').where({ user_id: carol.id }).pluck('status');
    expect(jobs).toEqual(['failed']);
    const key = await portal.agent().get('/.well-known/toybox-export-key');
    expect(key.status).toBe(503);
    fs.rmSync(mediaDir, { recursive: true, force: true });
  });
});
