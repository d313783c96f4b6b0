import pg from 'pg';
import type { AppContext } from '../../app-context';
import { logger } from '../../logger';
import { EMPTY_SNAPSHOT, type NoticeSnapshot } from './model';
import { buildBundle, type PublicBundle } from './bundle';
import { publicDir, readSnapshotFile, writeSnapshotFiles } from './files';
import { reportWriteFailure, reportWriteSuccess } from '../../files/write-failures';
import { loadSnapshot } from './snapshot';
import { formatJst } from '../../i18n/tokyo-time';
import { currentVersion, NOTIFY_CHANNEL } from './repo';
import { runLocalTask, startTimer } from '../../jobs/runner';
import { TIMERS } from '../../jobs/registry';

const QUERY_TIMEOUT_MS = 2000;
// Polling ticks every second without a live LISTEN connection (TIMERS.noticePoll), keeping propagation under 2 s.
/** With LISTEN up, polling is only a safety net (and refreshes the 90-day window). */
const SLOW_POLL_MS = 10_000;
/** /readyz calls the notice stale when the last good sync is older than this. */
export const STALE_AFTER_MS = 15_000;

function withTimeout<T>(p: Promise<T>, ms = QUERY_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms).unref();
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export type SnapshotSource = 'empty' | 'file' | 'database';

/**
 * What this process serves: the last published state, in memory. It comes
 * from the snapshot file at start, then from the database; when the database
 * is unreachable it simply stays, so the banner and the status page keep
 * serving. One per context.
 */
export class NoticeRuntime {
  snapshot: NoticeSnapshot;
  bundle: PublicBundle;
  source: SnapshotSource;
  lastSyncAt: Date | null = null;
  lastError: string | null = null;
  listening = false;
  private chain: Promise<unknown> = Promise.resolve();
  private writtenVersion = -1;

  constructor(private readonly ctx: AppContext) {
    const fromFile = readSnapshotFile(ctx.config.DATA_DIR);
    this.snapshot = fromFile ?? EMPTY_SNAPSHOT;
    this.source = fromFile ? 'file' : 'empty';
    this.bundle = buildBundle(this.snapshot, ctx.config.PUBLIC_URL);
    ctx.readiness.add('notice', () => this.readiness());
  }

  /** Reloads from the database now (after a local change, a NOTIFY, a newer version). Serialised. */
  refresh(): Promise<void> {
    const run = this.chain.then(() => this.load());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** A sync nobody awaits (NOTIFY, reconnect, first use), tracked so that closing the context waits for it. */
  syncInBackground(): void {
    runLocalTask(this.ctx, 'noticeSync', async () => {
      await this.sync();
    });
  }

  /** Compares versions and reloads only when they differ; never throws. */
  async sync(): Promise<boolean> {
    try {
      const version = await withTimeout(currentVersion(this.ctx.knex));
      if (this.source !== 'database' || version !== this.snapshot.version) await this.refresh();
      else {
        this.markSynced();
        if (this.writtenVersion !== this.snapshot.version) await this.writeFiles(); // DATA_DIR was read-only last time
      }
      return true;
    } catch (err) {
      this.lastError = (err as Error).message;
      return false;
    }
  }

  private async load(): Promise<void> {
    const snapshot = await withTimeout(loadSnapshot(this.ctx.knex), QUERY_TIMEOUT_MS * 2);
    this.snapshot = snapshot;
    this.bundle = buildBundle(snapshot, this.ctx.config.PUBLIC_URL);
    this.source = 'database';
    this.markSynced();
    if (snapshot.version !== this.writtenVersion) await this.writeFiles();
  }

  private lastWriteFailureReport = 0;

  private async writeFiles(): Promise<void> {
    const { snapshot, bundle } = this;
    try {
      await writeSnapshotFiles(this.ctx.config.DATA_DIR, snapshot, bundle);
      this.writtenVersion = snapshot.version;
      await reportWriteSuccess(this.ctx.knex, 'notice');
    } catch (err) {
      // a read-only or full DATA_DIR must not stop the banner: /readyz reports data_dir, the alert says why
      logger.warn({ err }, 'notice snapshot files could not be written');
      // every sync retries the write; one report per few minutes is enough to keep the alert open
      if (Date.now() - this.lastWriteFailureReport > 5 * 60_000) {
        this.lastWriteFailureReport = Date.now();
        await reportWriteFailure(this.ctx.knex, 'notice', publicDir(this.ctx.config.DATA_DIR), err);
      }
    }
  }

  private markSynced(): void {
    this.lastSyncAt = new Date();
    this.lastError = null;
  }

  isStale(now = Date.now()): boolean {
    return !this.lastSyncAt || now - this.lastSyncAt.getTime() > STALE_AFTER_MS || this.lastError !== null;
  }

  private async readiness() {
    await this.sync();
    if (!this.isStale()) return { ok: true };
    const since = this.lastSyncAt ? formatJst(this.lastSyncAt) : `start (${this.source})`;
    return { ok: false, warnOnly: true, reason: `notice is stale: serving version ${this.snapshot.version} from memory since ${since}` };
  }

  /**
   * LISTEN on a dedicated connection (reconnecting with backoff), plus polling:
   * fast while LISTEN is down, slow as a safety net while it is up.
   */
  startSync(opts: { listen?: boolean } = {}): () => Promise<void> {
    let stopped = false;
    let client: pg.Client | null = null;
    let reconnectTimer: NodeJS.Timeout | null = null;
    let backoff = 500;

    // The runner skips a tick while the last sync still runs, and stop() waits for it.
    const { timer: poll } = startTimer(this.ctx.config, TIMERS.noticePoll, async () => {
      const fresh = this.lastSyncAt && Date.now() - this.lastSyncAt.getTime() < SLOW_POLL_MS;
      if (this.listening && fresh) return;
      await this.sync();
    });

    const connect = async () => {
      if (stopped) return;
      const c = new pg.Client({ connectionString: this.ctx.databaseUrl, connectionTimeoutMillis: 3000, keepAlive: true });
      client = c;
      const lost = () => {
        if (client !== c) return;
        client = null;
        this.listening = false;
        c.end().catch(() => undefined);
        if (!stopped) {
          // back to fast polling at once, and find out now whether the database itself is gone
          poll.trigger();
          reconnectTimer = setTimeout(connect, backoff);
          backoff = Math.min(backoff * 2, 5000);
        }
      };
      c.on('error', lost);
      c.on('end', lost);
      c.on('notification', (msg) => {
        if (msg.channel === NOTIFY_CHANNEL) this.syncInBackground();
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${NOTIFY_CHANNEL}`);
        this.listening = true;
        backoff = 500;
        this.syncInBackground(); // anything published while we were not listening
      } catch {
        lost();
      }
    };

    if (opts.listen !== false) void connect();
    return async () => {
      stopped = true;
      await poll.stop();
      if (reconnectTimer) clearTimeout(reconnectTimer);
      this.listening = false;
      const c = client;
      client = null;
      if (c) await c.end().catch(() => undefined);
      await this.chain;
    };
  }
}

const runtimes = new WeakMap<AppContext, NoticeRuntime>();

/** The context's runtime, created on first use with a first sync under way. */
export function runtimeFor(ctx: AppContext): NoticeRuntime {
  let rt = runtimes.get(ctx);
  if (!rt) {
    rt = new NoticeRuntime(ctx);
    runtimes.set(ctx, rt);
    rt.syncInBackground();
  }
  return rt;
}
