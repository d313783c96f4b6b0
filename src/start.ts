import type http from 'node:http';
import type { Config } from './config';
import { buildContext, type RunningContext } from './open-context';
import { createApp } from './app';
import { createHttpServer, listen } from './server';
import { features } from './features';
import { logger } from './logger';
import { startBackground } from './jobs/runner';

export interface RunningPortal {
  ctx: RunningContext;
  server: http.Server;
  port: number;
  stop(): Promise<void>;
}

/** Starts everything the server process runs: database, migrations, background work, HTTP. */
export async function startPortal(config: Config): Promise<RunningPortal> {
  const ctx = await buildContext(config);
  const stops: Array<() => Promise<void>> = [];
  for (const f of features) if (f.start) stops.push(await f.start(ctx));
  // Queue workers and timers the registry declares (worker-only ones where WORKER=true).
  stops.push(await startBackground(ctx, features));
  const fastPaths = features.flatMap((f) => (f.fastPath ? [f.fastPath(ctx)] : []));
  const server = createHttpServer(createApp(ctx), fastPaths);
  const port = await listen(server, config.PORT, config.HOST);
  logger.info({ port, embedded: config.embedded, url: config.PUBLIC_URL }, 'recovery portal listening');
  return {
    ctx,
    server,
    port,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const stop of stops.reverse()) await stop().catch((err: unknown) => logger.error({ err }, 'stop failed'));
      await ctx.close();
    },
  };
}
