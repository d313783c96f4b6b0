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

// The server logs to stdout for the log collector; the CLI moves logs to stderr so
// that stdout carries only what a script reads (printed ids, --json).
const stdout = pino.destination({ fd: 1, sync: true }); // sync: a fatal line before exit is never lost
const stderr = pino.destination({ fd: 2, sync: true });
let target = stdout;
const switchable = { write: (line: string) => target.write(line) };

export function sendLogsToStderr(): void {
  target = stderr;
}

/** Sends every log line to `dest` until the returned function is called (tests read what would be logged). */
export function captureLogs(dest: { write(line: string): unknown }): () => void {
  const previous = target;
  target = dest as typeof target;
  return () => {
    target = previous;
  };
}

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): pino.Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'recovery-portal' } },
    switchable,
  );
}

/** The process-wide logger; entry points set its level from the config. */
export const logger = createLogger();
