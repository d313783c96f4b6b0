import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import supertest from 'supertest';
import { csrfFrom } from '../support/portal';
import { usePortal, useTempDir } from '../support/portal-stack';
import { eventuallyValue } from '../support/eventually';
import { buildUser } from '../support/factories';
import { sweepUploads } from '../../src/features/campaigns/addresses/upload-store';

const NOTE = 'x'.repeat(3000);

/** A ~60 MB address CSV (header + `rows` rows), written in large slices so it takes well under a second. */
async function writeBigCsv(file: string, rows: number): Promise<void> {
  const out = fs.createWriteStream(file);
  out.write('email,display_id,name,note\r\n');
  for (let i = 0; i < rows; i += 1000) {
    const slice: string[] = [];
    for (let j = i; j < Math.min(rows, i + 1000); j++) slice.push(`big${j}@example.jp,big_${j},Name ${j},${NOTE}\r\n`);
    if (!out.write(slice.join(''))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Polls /healthz every 10 ms until `until` settles; returns the slowest answer in ms. */
async function slowestHealthz(base: string, until: Promise<unknown>): Promise<{ worst: number; count: number }> {
  let done = false;
  void until.finally(() => (done = true));
  let worst = 0;
  let count = 0;
  while (!done) {
    const t = performance.now();
    const r = await fetch(`${base}/healthz`);
    await r.arrayBuffer();
    expect(r.status).toBe(200);
    worst = Math.max(worst, performance.now() - t);
    count++;
    await new Promise((r2) => setTimeout(r2, 10));
  }
  return { worst, count };
}

describe('a 60 MB address CSV: upload, mapping page, import, expiry', () => {
  const web = usePortal({ listen: true });
  const dir = useTempDir('campaigns-big-');
  let agent: ReturnType<typeof supertest.agent>;
  const ROWS = 20_000;

  beforeAll(async () => {
    const admin = await buildUser(web.portal.ctx.knex, { is_staff: true });
    agent = supertest.agent(web.base);
    const login = await agent.get('/login');
    const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(login.text), login: admin.display_id, password: admin.password });
    expect(res.status).toBe(303);
  });

  async function upload(file: string): Promise<string> {
    const page = await agent.get('/admin/campaigns/import');
    const res = await agent.post('/admin/campaigns/import').field('_csrf', csrfFrom(page.text)).attach('file', file);
    expect(res.status).toBe(303);
    const m = /\/admin\/campaigns\/import\/([0-9a-f]{24})\/map$/.exec(res.headers.location ?? '');
    expect(m).not.toBeNull();
    return m![1]!;
  }

  it('renders the mapping page fast without holding up /healthz, then imports every row exactly', async () => {
    const file = path.join(dir, 'big.csv');
    await writeBigCsv(file, ROWS);
    expect(fs.statSync(file).size).toBeGreaterThan(58 * 1024 * 1024);
    expect(fs.statSync(file).size).toBeLessThan(64 * 1024 * 1024);
    const key = await upload(file);

    // warm up the connection and the server's first-request costs, as a browser that just uploaded has;
    // the quiet worst is this shared machine's own noise, allowed on top of the 200 ms
    const quiet = await slowestHealthz(web.base, new Promise((r) => setTimeout(r, 500)));
    for (let reload = 0; reload < 3; reload++) {
      const started = performance.now();
      const page = agent.get(`/admin/campaigns/import/${key}/map`).then((r) => ({ r, ms: performance.now() - started }));
      const health = await slowestHealthz(web.base, page);
      const { r, ms } = await page;
      expect(r.status).toBe(200);
      expect(ms).toBeLessThan(2000);
      expect(health.worst).toBeLessThan(200 + quiet.worst);
      expect(r.text).toContain('big0@example.jp');
      expect(r.text).toContain(`約 ${ROWS} 行`);
      expect(r.text).toMatch(/<option value="0"\s+selected>1: email<\/option>/);
    }

    // the spooled copy is private
    expect(fs.statSync(path.join(web.portal.dataDir, 'campaign-uploads', `${key}.data`)).mode & 0o777).toBe(0o600);
    const page = await agent.get(`/admin/campaigns/import/${key}/map`);
    // A mapping that names no column is refused beside its select, on the same page, and the upload stays for a second try.
    const wrong = await agent.post(`/admin/campaigns/import/${key}/map`).type('form').send({ _csrf: csrfFrom(page.text), address: 'abc', displayId: '-5' });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toMatch(/id="map-address" name="address" aria-invalid="true" aria-describedby="address-error"/);
    expect(wrong.text).toMatch(/id="displayId-error">一覧にある列を選んでください。/);
    const go = await agent
      .post(`/admin/campaigns/import/${key}/map`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), address: '0', displayId: '1', name: '2', source: '-1', lang: '-1' });
    expect(go.status).toBe(303);
    const runId = Number(/\/imports\/(\d+)$/.exec(go.headers.location ?? '')![1]);

    const finished = eventuallyValue(() => web.portal.ctx.knex('portal.address_imports').where({ id: runId }).first(), (run) => run.status !== 'running', 170_000, 200);
    const health = await slowestHealthz(web.base, finished);
    const run = await finished;
    expect({ status: run.status, error: run.error }).toEqual({ status: "done", error: null });
    expect(health.worst).toBeLessThan(500); // the streamed import yields to other requests too
    expect(run.result).toMatchObject({ total: ROWS, imported: ROWS, merged: 0, rejected: [] });
    const count = await web.portal.ctx.knex('portal.addresses').where('email', 'like', 'big%@example.jp').count<{ n: string }[]>({ n: '*' });
    expect(Number(count[0]!.n)).toBe(ROWS);
    const last = await web.portal.ctx.knex('portal.addresses').where({ email: `big${ROWS - 1}@example.jp` }).first();
    expect(last).toMatchObject({ display_id: `big_${ROWS - 1}`, name: `Name ${ROWS - 1}` });
    // the spooled file is gone once imported
    expect(fs.existsSync(path.join(web.portal.dataDir, 'campaign-uploads', `${key}.data`))).toBe(false);
  }, 180_000);

  it('refuses a CSV whose first row never ends (an unclosed quote) with a message, not a stalled page', async () => {
    const file = path.join(dir, 'unclosed.csv');
    const out = fs.createWriteStream(file);
    out.write('email,name\r\n"a@example.jp,');
    for (let i = 0; i < 40; i++) out.write(`${'y'.repeat(64 * 1024)}\r\n`);
    out.end();
    await once(out, 'finish');
    const key = await upload(file);
    const page = await agent.get(`/admin/campaigns/import/${key}/map`);
    expect(page.status).toBe(422);
    expect(page.text).toContain('閉じていない引用符');
  });

  it('deletes an upload nobody mapped once it is older than CAMPAIGN_UPLOAD_TTL_HOURS', async () => {
    const file = path.join(dir, 'small.csv');
    fs.writeFileSync(file, 'email,name\r\nsmall@example.jp,Small\r\n');
    const fresh = await upload(file);
    const stale = await upload(file);
    const uploads = path.join(web.portal.dataDir, 'campaign-uploads');
    const dayAgo = new Date(Date.now() - (web.portal.config.CAMPAIGN_UPLOAD_TTL_HOURS + 1) * 3600_000);
    for (const ext of ['data', 'json']) fs.utimesSync(path.join(uploads, `${stale}.${ext}`), dayAgo, dayAgo);

    expect(await sweepUploads(web.portal.ctx)).toContain(stale);
    const left = fs.readdirSync(uploads);
    expect(left.filter((f) => f.startsWith(stale))).toEqual([]);
    expect(left.filter((f) => f.startsWith(fresh)).sort()).toEqual([`${fresh}.data`, `${fresh}.json`]);
    expect((await agent.get(`/admin/campaigns/import/${stale}/map`)).status).toBe(404);
    expect((await agent.get(`/admin/campaigns/import/${fresh}/map`)).status).toBe(200);
  });
});
