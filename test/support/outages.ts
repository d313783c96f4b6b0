import net from 'node:net';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startTestPortal, type TestPortal } from './portal';
import { createTestDatabase } from './database';
import { portalThrough, readThrough, useStarted } from './portal-stack';

/**
 * A TCP hop between the portal and PostgreSQL that a test can cut and
 * restore: the portal sees exactly what it would if the server stopped
 * (refused connections, dropped sockets), without stopping the machine's
 * shared PostgreSQL that other tests use.
 */
export interface DatabaseLink {
  url: string;
  cut(): Promise<void>;
  /** The server hangs: open connections stop answering, new ones are accepted and never answered. */
  hang(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startDatabaseLink(targetUrl: string): Promise<DatabaseLink> {
  const target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  const pairs = new Set<[net.Socket, net.Socket]>();
  let hung = false;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        if (hung) {
          sockets.add(client);
          client.on('error', () => undefined);
          return;
        }
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        pairs.add([client, upstream]);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await open();
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  const cut = async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = null;
  };
  const hang = () => {
    hung = true;
    for (const [client, upstream] of pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      upstream.pause();
      client.pause();
    }
  };
  return { url: url.toString(), cut, hang, restore: open, close: cut };
}

/**
 * Turns a directory read-only the way the incident's filesystem did: a
 * read-only bind mount (as root, where permissions do not stop writes), else
 * chmod for an unprivileged user. Returns the undo.
 */
export function makeReadOnly(dir: string): () => void {
  try {
    execFileSync('mount', ['--bind', dir, dir], { stdio: 'ignore' });
    execFileSync('mount', ['-o', 'remount,bind,ro', dir], { stdio: 'ignore' });
    return () => execFileSync('umount', [dir], { stdio: 'ignore' });
  } catch {
    fs.chmodSync(dir, 0o555);
    return () => fs.chmodSync(dir, 0o755);
  }
}

export interface PortalBehindLink {
  portal: TestPortal;
  link: DatabaseLink;
  /** Closes the link first (a hung link would hold the pool's goodbye), then the portal, then drops the database. */
  close(): Promise<void>;
}

/**
 * The portal in process reaching a fresh database (TOYBOX's schema loaded) only through a `DatabaseLink`
 * the test can cut, hang and restore; `env` is added to the portal's environment.
 */
export async function startPortalBehindLink(env: Record<string, string> = {}): Promise<PortalBehindLink> {
  const db = await createTestDatabase();
  const link = await startDatabaseLink(db.url).catch(async (err: unknown) => {
    await db.drop();
    throw err;
  });
  const portal = await startTestPortal({ ...env, DATABASE_URL: link.url }).catch(async (err: unknown) => {
    await link.close();
    await db.drop();
    throw err;
  });
  return {
    portal,
    link,
    async close() {
      await link.close();
      await portal.close().catch(() => undefined);
      await db.drop();
    },
  };
}

/**
 * `startPortalBehindLink` for one describe block: started in beforeAll, closed in afterAll. The returned
 * portal and link stand for the started ones inside tests and hooks.
 */
export function usePortalBehindLink(env: Record<string, string> = {}): { portal: TestPortal; link: DatabaseLink } {
  const started = useStarted('the portal behind a link', () => startPortalBehindLink(env), (behind) => behind.close());
  return { portal: portalThrough(() => started().portal), link: readThrough(() => started().link, ['url', 'cut', 'hang', 'restore', 'close']) };
}
