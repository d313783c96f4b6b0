import { loadConfigOrExit } from './config';
import { logger } from './logger';
import { startPortal } from './start';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  logger.level = config.LOG_LEVEL;
  if (config.embedded) {
    logger.info({ dataDir: config.DATA_DIR }, 'DATABASE_URL is unset: using the embedded database (PGlite)');
  }
  const portal = await startPortal(config);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    portal.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  logger.fatal({ err }, 'the portal could not start');
  process.exit(1);
});
