import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { parseEnv } from 'node:util';
import { envSchema, type Env } from './schema';
import { DATA_DIR_MODE, PRIVATE_FILE, ensurePrivateDirSync } from '../files/private';

export type Config = Readonly<
  Env & {
    DATA_DIR: string;
    PUBLIC_URL: string;
    SESSION_SECRET: string;
    TOYBOX_API_URL: string;
    /** Every origin TOYBOX_URL lists (the banner's CORS allow-list), the first being TOYBOX_URL's. */
    TOYBOX_ORIGINS: readonly string[];
    BACKUP_DIR: string;
    embedded: boolean;
  }
>;

export class ConfigError extends Error {
  constructor(
    public readonly variable: string,
    public readonly reason: string,
  ) {
    super(`${variable} ${reason}`);
  }
}

/** Parses the environment once; the first problem is reported as `VARIABLE reason`. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const raw = parsed.data;
  if (raw.NODE_ENV === 'production' && !raw.SESSION_SECRET) {
    throw new ConfigError('SESSION_SECRET', 'is required when NODE_ENV=production (at least 32 random characters)');
  }
  const dataDir = path.resolve(raw.DATA_DIR);
  const toyboxUrls = raw.TOYBOX_URL.split(',').map((u) => u.trim().replace(/\/+$/, '')).filter(Boolean);
  const publicUrl = (raw.PUBLIC_URL ?? `http://localhost:${raw.PORT}`).replace(/\/+$/, '');
  return Object.freeze({
    ...raw,
    DATA_DIR: dataDir,
    PUBLIC_URL: publicUrl,
    TOYBOX_URL: toyboxUrls[0]!,
    TOYBOX_ORIGINS: Object.freeze([...new Set(toyboxUrls.map((u) => new URL(u).origin))]),
    TOYBOX_API_URL: (raw.TOYBOX_API_URL ?? toyboxUrls[0]!).replace(/\/+$/, ''),
    SESSION_SECRET: raw.SESSION_SECRET ?? '',
    BACKUP_DIR: path.resolve(raw.BACKUP_DIR ?? path.join(dataDir, 'backups')),
    embedded: !raw.DATABASE_URL,
  });
}

/** Outside production the session secret is generated once and kept in DATA_DIR, so sessions survive restarts. */
export function withSessionSecret(config: Config): Config {
  if (config.SESSION_SECRET) return config;
  const file = path.join(config.DATA_DIR, 'session-secret');
  ensurePrivateDirSync(config.DATA_DIR, DATA_DIR_MODE);
  let secret: string;
  try {
    secret = fs.readFileSync(file, 'utf8').trim();
  } catch {
    secret = '';
  }
  if (!secret) {
    secret = crypto.randomBytes(32).toString('hex');
    try {
      fs.writeFileSync(file, secret, { mode: PRIVATE_FILE });
    } catch (err) {
      fs.rmSync(file, { force: true }); // half a secret (disk full) must not be read back next start
      throw err;
    }
  }
  fs.chmodSync(file, PRIVATE_FILE); // the umask cannot widen it; an older install may have
  return Object.freeze({ ...config, SESSION_SECRET: secret });
}

/**
 * The `.env` file (ENV_FILE, else `.env` in the working directory) under the
 * real environment: the server and the CLI started from the same directory
 * read the same DATA_DIR, DATABASE_URL and the rest. A variable set in the
 * environment wins over the file. No file is fine; a named file that is
 * missing or unreadable is a configuration error.
 */
export function withEnvFile(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const named = env.ENV_FILE;
  const file = path.resolve(named || '.env');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !named) return env;
    throw new ConfigError('ENV_FILE', `cannot be read (${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const fromFile = parseEnv(text) as Record<string, string>;
  const real = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)); // set, even empty, wins (as with dotenv)
  return { ...fromFile, ...real };
}

/** For entry points: a bad value stops the process with one line and exit code 2. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return withSessionSecret(parseConfig(withEnvFile(env)));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
