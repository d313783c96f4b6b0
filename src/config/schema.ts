import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const optionalUrl = z.url({ message: 'must be an absolute URL such as https://toybox.example' }).optional();

const port = z.coerce
  .number({ message: 'must be a number' })
  .int('must be a whole number')
  .min(0, 'must be between 0 and 65535')
  .max(65535, 'must be between 0 and 65535');

const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * Every environment variable the portal reads, with its default. The README's
 * configuration table documents the same list; keep the two in step.
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection URL')
    .optional(),
  DB_CONNECT_TIMEOUT_MS: z.coerce.number({ message: 'must be a number' }).int().min(100, 'must be at least 100').default(5000),
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number({ message: 'must be a number' }).int().min(100, 'must be at least 100').default(10000),
  DATA_DIR: z.string().min(1).default('./var'),
  PUBLIC_URL: optionalUrl,
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /**
   * TOYBOX's public site, or several origins separated by commas (https://toybox.example, https://www.toybox.example):
   * the first is the site's address (sign-up links, the API's Host); all may read /api/notice across origins.
   */
  TOYBOX_URL: z
    .string()
    .refine((v) => v.split(',').every((part) => /^https?:\/\/[^\s/]+/.test(part.trim()) && URL.canParse(part.trim())), {
      message: 'must be an absolute URL such as https://toybox.example, or several separated by commas',
    })
    .default('http://localhost:8000'),
  /** Where the portal calls TOYBOX's API server to server (an internal address such as http://web:8000); TOYBOX_URL when unset. */
  TOYBOX_API_URL: optionalUrl,
  TOYBOX_MEDIA_DIR: z.string().min(1).optional(),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
  MAIL_FROM: z.string().min(3).default('TOYBOX <noreply@toybox.local>'),
  /** Transactional e-mails (claims links and invitations) per minute, shared by every instance; 0 = no limit. */
  MAIL_RATE_PER_MINUTE: z.coerce.number({ message: 'must be a number' }).int('must be a whole number').min(0, 'must be 0 or more').default(60),
  DKIM_DOMAIN: z.string().optional(),
  DKIM_SELECTOR: z.string().optional(),
  DKIM_PRIVATE_KEY_FILE: z.string().optional(),
  BOUNCE_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty'], { message: 'must be auto, json or pretty' }).default('auto'),
  ENV_FILE: z.string().optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  TRUST_PROXY: z.string().default('loopback'),
  EXPORT_COOLDOWN_HOURS: z.coerce.number({ message: 'must be a number' }).min(0, 'must be 0 or more').default(24),
  LOGIN_HASH_CONCURRENCY: z.coerce.number({ message: 'must be a number' }).int().min(1, 'must be 1 or more').default(1),
  LOGIN_QUEUE_MAX: z.coerce.number({ message: 'must be a number' }).int().min(0, 'must be 0 or more').default(20),
  LOGIN_QUEUE_WAIT_MS: z.coerce.number({ message: 'must be a number' }).int().min(1, 'must be 1 or more').default(3000),
  CAMPAIGN_UPLOAD_TTL_HOURS: z.coerce.number({ message: 'must be a number' }).positive('must be more than 0').default(24),
  EXPORT_BACKGROUND_ROWS: z.coerce.number({ message: 'must be a number' }).int().min(1).default(50000),
  /** Ed25519 private key (PKCS#8 PEM) that signs export archives; unset: generated once into DATA_DIR/export-signing-key.pem. */
  EXPORT_SIGNING_KEY_FILE: z.string().min(1).optional(),
  BACKUP_DIR: z.string().optional(),
  BACKUP_DB_CRON: z.string().default('0 3 * * *'),
  BACKUP_MEDIA_CRON: z.string().default('0 4 * * 0'),
  BACKUP_KEEP_DAILY: z.coerce.number().int().min(1).default(7),
  BACKUP_KEEP_WEEKLY: z.coerce.number().int().min(0).default(4),
  BACKUP_KEEP_MONTHLY: z.coerce.number().int().min(0).default(6),
  BACKUP_OFFHOST_COMMAND: z.string().optional(),
  PG_BIN: z.string().optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  ALERT_WEBHOOK_URL: optionalUrl,
  BACKUP_WIPE_TABLES: z.string().default('users,submissions'),
  BACKUP_WIPE_MAX_DROP: z.coerce.number().min(0).max(1).default(0.5),
  BACKUP_WIPE_KEEP_DAYS: z.coerce.number().int().min(0).default(30),
  BACKUP_STALE_HOURS: z.coerce.number().min(1).default(26),
  ALERT_MIN_FREE_PERCENT: z.coerce.number().min(0).max(100).default(10),
  MONITOR_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(60),
  BOOTSTRAP_TOKEN_TTL_MINUTES: z.coerce.number().int().min(1).default(60),
  WORKER: boolish.default(true),
  SALVAGE_INCIDENT_AT: z.iso
    .datetime({ offset: true, message: 'must be an ISO time with offset, such as 2026-01-22T11:57:00Z' })
    .default('2026-01-22T11:57:00Z'),
  SALVAGE_PG_BIN: z.string().optional(),
  CLAIMS_MAX_FILES: z.coerce.number({ message: 'must be a number' }).int().min(1).max(200).default(20),
  CLAIMS_MAX_UPLOAD_MB: z.coerce.number({ message: 'must be a number' }).int().min(1).default(1024),
  TOYBOX_OLD_SECRET_KEY: z.string().min(1).optional(),
  CLAIMS_UNDO_HOURS: z.coerce.number({ message: 'must be a number' }).min(0).default(72),
});

export type Env = z.infer<typeof envSchema>;
