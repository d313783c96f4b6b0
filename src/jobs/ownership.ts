import os from 'node:os';
import crypto from 'node:crypto';
import pg from 'pg';
import type { AppContext } from '../app-context';
import { logger } from '../logger';

/**
 * Which process runs a piece of work, and whether it is still there.
 *
 * Each process holds, for its whole life, a session advisory lock on its own
 * id, on a dedicated connection. Rows it works on (a running export, a
 * backup) carry that id in `owner`. When the process dies, even by SIGKILL or
 * a power cut of the host, its connection closes and PostgreSQL frees the lock
 * at once: any other process can then see that the work is orphaned, without
 * waiting for a timeout that would keep a dead export "running" for an hour.
 *
 * The embedded database (PGlite) has a single session shared by every
 * connection, so its locks prove nothing; there, the id carries the host and
 * pid (PGlite runs on one host), and a pid that no longer exists is a dead owner.
 */
export interface WorkOwner {
  readonly id: string;
  /** True when the process that owns the work is gone (its lock is free); a null owner is gone too. */
  isGone(owner: string | null): Promise<boolean>;
  close(): Promise<void>;
}

const owners = new WeakMap<AppContext, Promise<WorkOwner>>();

const lockKey = (id: string) => `portal.owner:${id}`;
const LOCK_SQL = 'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok';
const UNLOCK_SQL = 'SELECT pg_advisory_unlock(hashtextextended($1, 0))';

function newOwnerId(): string {
  return `${os.hostname()}:${process.pid}:${crypto.randomBytes(6).toString('hex')}`;
}

function pidIsGone(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== os.hostname() || !/^\d+$/.test(pid ?? '')) return false; // not ours to judge
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function connect(url: string, id: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'recovery-portal owner' });
  client.on('error', (err) => logger.warn({ err }, 'work-owner connection lost'));
  await client.connect();
  const got = (await client.query<{ ok: boolean }>(LOCK_SQL, [lockKey(id)])).rows[0]!.ok;
  if (!got) throw new Error(`work-owner lock ${id} is held by another session`);
  return client;
}

async function startOwner(ctx: AppContext): Promise<WorkOwner> {
  const id = newOwnerId();
  if (ctx.config.embedded) {
    return { id, isGone: async (owner) => owner === null || (owner !== id && pidIsGone(owner)), close: async () => undefined };
  }
  let client = await connect(ctx.databaseUrl, id);
  let closed = false;
  // A dropped connection loses the lock: take it again, or another instance would take our work over.
  const watch = (c: pg.Client) =>
    c.once('end', () => {
      if (closed) return;
      const retry = () =>
        connect(ctx.databaseUrl, id).then(
          (fresh) => {
            client = fresh;
            watch(fresh);
          },
          (err: unknown) => {
            logger.warn({ err }, 'work-owner reconnect failed; retrying');
            if (!closed) setTimeout(retry, 1000).unref();
          },
        );
      retry();
    });
  watch(client);
  let chain: Promise<unknown> = Promise.resolve();
  return {
    id,
    isGone(owner) {
      if (owner === null) return Promise.resolve(true);
      if (owner === id) return Promise.resolve(false);
      // try and release on the one connection, one owner at a time
      const check = chain.then(async () => {
        const got = (await client.query<{ ok: boolean }>(LOCK_SQL, [lockKey(owner)])).rows[0]!.ok;
        if (got) await client.query(UNLOCK_SQL, [lockKey(owner)]);
        return got;
      });
      chain = check.catch(() => undefined);
      return check;
    },
    async close() {
      closed = true;
      await client.end().catch(() => undefined);
    },
  };
}

/** This process's owner identity (one per context: the server, a CLI command, a test portal). */
export function workOwner(ctx: AppContext): Promise<WorkOwner> {
  let o = owners.get(ctx);
  if (!o) {
    o = startOwner(ctx);
    owners.set(ctx, o);
    o.catch(() => owners.delete(ctx));
  }
  return o;
}

/** Releases the identity: from then on this context's running work counts as orphaned. */
export async function stopWorkOwner(ctx: AppContext): Promise<void> {
  const o = owners.get(ctx);
  if (!o) return;
  owners.delete(ctx);
  await (await o.catch(() => null))?.close();
}
