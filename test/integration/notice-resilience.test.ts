import { startTestPortal, tempDir, type TestPortal } from '../support/portal';
import { startPortalBehindLink, makeReadOnly, type DatabaseLink, type PortalBehindLink } from '../support/outages';
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig, withSessionSecret } from '../../src/config';
import { buildContext, type RunningContext } from '../../src/open-context';
import { feature } from '../../src/features/notice';
import * as service from '../../src/features/notice/service';
import { parseNoticeInput } from '../../src/features/notice/schema';
import { runtimeFor } from '../../src/features/notice/runtime';
import { createNoticeFastPath } from '../../src/features/notice/fast-path';
import { useTestPortal } from '../support/portal-stack';

const actor = { label: 'test:resilience', userId: null };

function input(title: string) {
  const r = parseNoticeInput({ kind: 'incident', severity: 'critical', title_ja: title, body_ja: `${title}の本文` });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

async function waitFor<T>(fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs: number): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  for (;;) {
    const value = await fn();
    if (ok(value)) return { value, ms: Date.now() - start };
    if (Date.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const titles = (json: { notices: Array<{ title: { ja: string } }> }) => json.notices.map((n) => n.title.ja);

describe('notice while the database is down', () => {
  let link: DatabaseLink;
  let portal: TestPortal;
  let behind: PortalBehindLink;
  let stopSync: (() => Promise<void>) | undefined;
  let base: string;

  beforeAll(async () => {
    behind = await startPortalBehindLink();
    ({ portal, link } = behind);
    stopSync = await feature.start!(portal.ctx);
    base = await portal.listen();
  });
  afterAll(async () => {
    await stopSync?.();
    await behind?.close();
  });

  it('keeps serving banner, API and status page from memory, says so in /readyz, and recovers', async () => {
    await service.createNotice(portal.ctx, input('停止前の障害'), actor, { publish: true });
    const before = await (await fetch(`${base}/api/notice`)).json();
    expect(titles(before)).toEqual(['停止前の障害']);

    await link.cut();
    const api = await fetch(`${base}/api/notice`);
    expect(api.status).toBe(200);
    expect(await api.json()).toEqual(before);
    expect((await fetch(`${base}/banner.js`)).status).toBe(200);
    expect(await (await fetch(`${base}/banner.html`)).text()).toContain('停止前の障害');
    const status = await waitFor(async () => (await fetch(`${base}/status`)).text(), (t) => t.includes('最後に公開された情報を表示しています'), 5000);
    expect(status.value).toContain('停止前の障害');
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    const body = await ready.json();
    expect(body.checks.notice).toMatchObject({ ok: false, warnOnly: true });
    expect(body.checks.notice.reason).toContain(`notice is stale: serving version ${before.version}`);

    // a process started now (no database) serves the snapshot file it finds in DATA_DIR
    const fresh = createNoticeFastPath({ ...portal.ctx });
    const chunks: Buffer[] = [];
    const res = {
      writeHead: jest.fn(),
      end: (b?: Buffer) => b && chunks.push(b),
    };
    expect(fresh({ url: '/api/notice', method: 'GET', headers: {} } as never, res as never)).toBe(true);
    expect(res.writeHead).toHaveBeenCalledWith(200, expect.anything());
    expect(JSON.parse(Buffer.concat(chunks).toString()).notices[0].title.ja).toBe('停止前の障害');

    await link.restore();
    const after = await waitFor(async () => (await fetch(`${base}/readyz`)).json(), (b) => b.checks.notice?.ok === true, 15000);
    expect(after.value.status).toBe('ready');
    await service.createNotice(portal.ctx, input('復旧後の障害'), actor, { publish: true });
    expect(titles(await (await fetch(`${base}/api/notice`)).json())).toContain('復旧後の障害');
    expect(await (await fetch(`${base}/status`)).text()).not.toContain('最後に公開された情報を表示しています');
  });
});

describe('notice changes reach another instance on the same database', () => {
  let a: TestPortal;
  let b: RunningContext;
  let bDir: string;

  beforeAll(async () => {
    a = await startTestPortal();
    bDir = tempDir();
    b = await buildContext(withSessionSecret(parseConfig({ NODE_ENV: 'test', DATABASE_URL: a.db.url, DATA_DIR: bDir, LOG_LEVEL: 'silent' })));
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('within 2 seconds through LISTEN/NOTIFY', async () => {
    const stop = await feature.start!(b);
    try {
      await waitFor(() => runtimeFor(b).listening, (v) => v, 5000);
      await service.createNotice(a.ctx, input('別インスタンスから'), actor, { publish: true });
      const seen = await waitFor(() => runtimeFor(b).snapshot, (s) => s.active.some((n) => n.title.ja === '別インスタンスから'), 2000);
      expect(seen.ms).toBeLessThan(2000);
    } finally {
      await stop();
    }
  });

  it('within 2 seconds by polling when LISTEN is unavailable', async () => {
    const stop = runtimeFor(b).startSync({ listen: false });
    try {
      await waitFor(() => runtimeFor(b).lastSyncAt, (v) => v !== null, 3000);
      const id = await service.createNotice(a.ctx, input('ポーリングで届く'), actor, { publish: true });
      await waitFor(() => runtimeFor(b).snapshot, (s) => s.active.some((n) => n.id === id), 2000);
      await service.resolveNotice(a.ctx, id, actor);
      await waitFor(() => runtimeFor(b).snapshot, (s) => s.history.some((n) => n.id === id) && !s.active.some((n) => n.id === id), 2000);
    } finally {
      await stop();
    }
  });
});

describe('notice with a read-only DATA_DIR', () => {
  const portal = useTestPortal();

  it('still publishes and serves from memory, and writes the files again once writable', async () => {
    await service.createNotice(portal.ctx, input('書き込める間の障害'), actor, { publish: true });
    const file = path.join(portal.dataDir, 'public', 'notice.json');
    const before = fs.readFileSync(file, 'utf8');
    const undo = makeReadOnly(portal.dataDir);
    try {
      await service.createNotice(portal.ctx, input('読み取り専用の間の障害'), actor, { publish: true });
      expect(runtimeFor(portal.ctx).snapshot.active.map((n) => n.title.ja)).toContain('読み取り専用の間の障害');
      expect(fs.readFileSync(file, 'utf8')).toBe(before);
    } finally {
      undo();
    }
    await runtimeFor(portal.ctx).sync(); // the next version check writes what could not be written
    expect(titles(JSON.parse(fs.readFileSync(file, 'utf8')))).toContain('読み取り専用の間の障害');
    await service.createNotice(portal.ctx, input('戻った後の障害'), actor, { publish: true });
    const written = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(titles(written)).toEqual(expect.arrayContaining(['読み取り専用の間の障害', '戻った後の障害']));
    expect(fs.readdirSync(path.join(portal.dataDir, 'public')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
