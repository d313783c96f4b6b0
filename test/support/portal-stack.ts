import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import type { BackgroundWork } from '../../src/jobs/runner';
import { startBackground } from '../../src/jobs/runner';
import type { QueueKey } from '../../src/jobs/registry';
import { startTestPortal, tempDir, type TestPortal } from './portal';
import { launchBrowser } from './browser';
import { startSmtpSink, type SmtpSink } from './smtp-sink';
import { workQueues } from './background';

/** What `smtp` may start instead of the usual sink (e.g. `startControlledSink`): its `url` becomes SMTP_URL. */
export interface SmtpServerLike {
  readonly url: string;
  close(): Promise<void>;
}

export interface PortalStackOptions<S extends SmtpServerLike = SmtpSink> {
  /** Environment for the portal; a function is called once the SMTP sink is up (it gets the sink, if any). */
  env?: Record<string, string> | ((sink: S | null) => Record<string, string>);
  /** An SMTP sink in process (`true`: `startSmtpSink`; a function: that server), passed to the portal as SMTP_URL. */
  smtp?: boolean | (() => Promise<S>);
  /** Listen on a random port (implied by `browser`); `base` is the URL. */
  listen?: boolean;
  /** A headless Chromium (and a listening portal). */
  browser?: boolean;
  /** Runs these features' background work (timers and queues) with the real runner. */
  background?: ReadonlyArray<{ name: string; background?: BackgroundWork }>;
  /** Works only these queues, no timers (see `workQueues`). */
  queues?: QueueKey[];
}

/** What `startPortal` started; asking for a part the options did not start throws, naming the option. */
export interface PortalStack<S extends SmtpServerLike = SmtpSink> {
  readonly portal: TestPortal;
  readonly sink: S;
  readonly browser: Browser;
  /** The listening portal's base URL. */
  readonly base: string;
  /** Stops everything started, in reverse order (browser, background, portal, sink). */
  close(): Promise<void>;
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the portal stack was not started with ${what}`);
  return value;
}

/**
 * The portal in process against a fresh database, with what a test needs around it: an SMTP sink, a
 * listening server, background work, a headless Chromium. If starting any part fails, the parts already
 * started are stopped before the error is thrown.
 */
export async function startPortal<S extends SmtpServerLike = SmtpSink>(opts: PortalStackOptions<S> = {}): Promise<PortalStack<S>> {
  const stops: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  const parts: { portal?: TestPortal; sink?: S; browser?: Browser; base?: string } = {};
  try {
    if (opts.smtp) {
      // With `smtp: true` S is its default, SmtpSink.
      const sink = (parts.sink = await (opts.smtp === true ? (startSmtpSink() as unknown as Promise<S>) : opts.smtp()));
      stops.push(() => sink.close());
    }
    const env = typeof opts.env === 'function' ? opts.env(parts.sink ?? null) : (opts.env ?? {});
    const portal = (parts.portal = await startTestPortal({ ...(parts.sink ? { SMTP_URL: parts.sink.url } : {}), ...env }));
    stops.push(() => portal.close());
    if (opts.listen || opts.browser) parts.base = await portal.listen();
    if (opts.background) stops.push(await startBackground(portal.ctx, opts.background));
    if (opts.queues) stops.push(await workQueues(portal.ctx, opts.queues));
    if (opts.browser) {
      const browser = (parts.browser = await launchBrowser());
      stops.push(() => browser.close());
    }
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return {
    get portal() {
      return need(parts.portal, 'a portal');
    },
    get sink() {
      return need(parts.sink, '{ smtp: true }');
    },
    get browser() {
      return need(parts.browser, '{ browser: true }');
    },
    get base() {
      return need(parts.base, '{ listen: true } or { browser: true }');
    },
    close,
  };
}

/**
 * `startPortal` for one describe block (or file): started in beforeAll, closed in afterAll. The parts are
 * read through the returned object inside tests and hooks (`web.portal`, `web.sink`, ...).
 */
export function usePortal<S extends SmtpServerLike = SmtpSink>(opts: PortalStackOptions<S> = {}): PortalStack<S> {
  const started = useStarted('the portal stack', () => startPortal<S>(opts), (stack) => stack.close());
  return readThrough(started, ['portal', 'sink', 'browser', 'base', 'close']);
}

/**
 * Starts something in beforeAll and stops it in afterAll, for one describe block or file; the returned
 * function gives it inside tests and hooks (and throws, naming `what`, before it has started).
 */
export function useStarted<T>(what: string, start: () => Promise<T>, stop: (started: T) => Promise<void>): () => T {
  let started: { value: T } | undefined;
  beforeAll(async () => {
    started = { value: await start() };
  });
  afterAll(async () => {
    if (started) await stop(started.value);
  });
  return () => {
    if (!started) throw new Error(`${what} starts in beforeAll: use it inside a test or hook`);
    return started.value;
  };
}

/**
 * A portal (no SMTP, no browser, no background) for one describe block or file: started in beforeAll,
 * closed in afterAll. The returned portal stands for the started one inside tests and hooks.
 */
export function useTestPortal(env: PortalStackOptions['env'] = {}): TestPortal {
  const web = usePortal({ env });
  return portalThrough(() => web.portal, () => web.close());
}

/** A TestPortal that reads through to `get()` on each use: for a portal started later, in a hook. */
export function portalThrough(get: () => TestPortal, close: () => Promise<void> = () => get().close()): TestPortal {
  return Object.assign(readThrough(get, ['config', 'ctx', 'app', 'db', 'dataDir', 'agent', 'listen']), { close });
}

/**
 * An object whose `keys` read through to `get()` on each use (methods bound to it): stands for something a
 * hook starts later, so a describe block can name it at collection time.
 */
export function readThrough<T extends object, K extends keyof T>(get: () => T, keys: readonly K[]): Pick<T, K> {
  const through = {} as Pick<T, K>;
  for (const key of keys) {
    Object.defineProperty(through, key, {
      enumerable: true,
      get() {
        const target = get();
        const value = target[key];
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }
  return through;
}

/** A temporary directory for one describe block or file: made now (so it can go into `env`), removed in afterAll. */
export function useTempDir(prefix: string): string {
  const dir = tempDir(prefix);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
