import { logger } from '../../src/logger';

// The portal in process would print every request; TEST_LOG_LEVEL=info shows them when debugging a test.
logger.level = process.env.TEST_LOG_LEVEL ?? 'silent';
