import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import supertest from 'supertest';
import { parseConfig, withSessionSecret, type Config } from '../../src/config';
import { buildContext, type RunningContext } from '../../src/open-context';
import { createApp } from '../../src/app';
import { createHttpServer, listen } from '../../src/server';
import { features } from '../../src/features';
import { createTestDatabase, type TestDatabase } from './database';
import type http from 'node:http';

export interface TestPortal {
  config: Config;
  ctx: RunningContext;
  app: Express;
  db: TestDatabase;
  dataDir: string;
  /** A cookie-keeping client, like one browser. */
  agent(): ReturnType<typeof supertest.agent>;
  /** Listens on a random port (fast paths included) for browser tests; returns the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export function tempDir(prefix = 'portal-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * The portal in process against a fresh database with TOYBOX's schema, its
 * own DATA_DIR, and whatever environment the test adds (SMTP_URL, ...).
 */
export async function startTestPortal(env: Record<string, string> = {}): Promise<TestPortal> {
  const db = await createTestDatabase();
  const dataDir = tempDir();
  const config = withSessionSecret(
    parseConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, DATA_DIR: dataDir, LOG_LEVEL: 'silent', PORT: '0', ...env }),
  );
  const ctx = await buildContext(config);
  const app = createApp(ctx);
  let server: http.Server | null = null;
  return {
    config,
    ctx,
    app,
    db,
    dataDir,
    agent: () => supertest.agent(app),
    async listen() {
      const fast = features.flatMap((f) => (f.fastPath ? [f.fastPath(ctx)] : []));
      server = createHttpServer(app, fast);
      const port = await listen(server, 0, '127.0.0.1');
      return `http://127.0.0.1:${port}`;
    },
    async close() {
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      await ctx.close();
      await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The CSRF token a page's form carries, as a browser would submit it. */
export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF field in page');
  return m[1]!;
}

/** A client signed in through the real login form (fails the test unless sign-in succeeds). */
export async function signedInAgent(portal: TestPortal, login: string, password: string): Promise<ReturnType<typeof supertest.agent>> {
  const agent = portal.agent();
  const page = await agent.get('/login');
  const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), login, password });
  if (res.status !== 303) throw new Error(`sign-in as ${login} failed with HTTP ${res.status}`);
  return agent;
}
