import pino from 'pino';
import pretty from 'pino-pretty';
import { chooseLogFormat } from './log-format';

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
// At a terminal outside production, pino-pretty: local times, colours, no epoch numbers.
// Logging starts before the config is read, so this decides from the environment like pino does for LOG_LEVEL.
function destinationFor(fd: 1 | 2, isTTY: boolean | undefined) {
  const format = chooseLogFormat({ isTTY, nodeEnv: process.env.NODE_ENV, override: process.env.LOG_FORMAT });
  if (format === 'json') return pino.destination({ fd, sync: true }); // sync: a fatal line before exit is never lost
  return pretty({ destination: fd, sync: true, colorize: isTTY === true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss', ignore: 'pid,hostname,service' });
}
const stdout = destinationFor(1, process.stdout.isTTY);
const stderr = destinationFor(2, process.stderr.isTTY);
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
