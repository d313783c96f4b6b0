import pino from 'pino';

/** Paths whose values never reach the log, wherever they appear. */
export const REDACT_PATHS = [
  'password',
  'password_confirm',
  'token',
  '*.password',
  '*.token',
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  'req.body',
];

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): pino.Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'recovery-portal' } });
}

/** The process-wide logger; entry points set its level from the config. */
export const logger = createLogger();
