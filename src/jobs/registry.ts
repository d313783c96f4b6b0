import type { Config } from '../config';
import type { Lang } from '../i18n';

/**
 * Every piece of background work the portal runs, in one place: WHAT runs and
 * WHEN. Features keep the handlers (`Feature.background`); src/jobs/runner.ts
 * starts them from these declarations.
 *
 * Queue names are a contract with jobs already waiting in the database
 * (pg-boss's `portal_jobs` schema): never rename one in place. A new name
 * is a new queue, and jobs left under the old name would never run.
 */

/** A pg-boss queue. Jobs carry ids, not objects, and are safe to run twice (delivery is at least once). */
export interface QueueJob {
  readonly name: string;
  /** Attempts after the first failure; 0 for work that must not repeat on its own. */
  readonly retryLimit: number;
  /** Seconds before a retry (doubled per attempt when `retryBackoff`). */
  readonly retryDelay: number;
  readonly retryBackoff: boolean;
  /** Jobs fetched per poll; each completes or fails on its own. */
  readonly batchSize: number;
  readonly pollingIntervalSeconds: number;
  /** How long a job may run before pg-boss counts it failed (its default is 15 minutes). */
  readonly expireInSeconds?: number;
}

/**
 * Work a timer starts in this process. `every` is milliseconds (or read from
 * config); `cron` fires in Japan time. `runsOn: 'worker'` starts only where
 * WORKER=true; `every-instance` serves the instance's own pages (the notice
 * cache) and starts everywhere. `atStart`: `wait` runs a first tick before the
 * server listens (take over work a dead process left), `run` starts one
 * without waiting, `none` waits for the first interval.
 */
export interface TimerJob {
  readonly name: string;
  readonly every?: number | ((config: Config) => number);
  readonly cron?: (config: Config) => string;
  readonly runsOn: 'worker' | 'every-instance';
  readonly atStart: 'wait' | 'run' | 'none';
  /** Off when this returns false (a media backup without TOYBOX_MEDIA_DIR). */
  readonly enabled?: (config: Config) => boolean;
}

/**
 * Work started by a request that must run in the process that took it (it
 * reads a file spooled to this instance's disk). The runner tracks it, logs
 * its failure, and waits for it on stop.
 */
export interface LocalTask {
  readonly name: string;
}

const MINUTE = 60_000;

export const QUEUES = {
  /** Builds one export archive. Not retried by the queue: a failed build is a failed row the user sees and can request again. */
  exportBuild: { name: 'export.build', retryLimit: 0, retryDelay: 0, retryBackoff: false, batchSize: 1, pollingIntervalSeconds: 2 },
  /** Mints the export-only sign-in link in the worker, so the token never waits in the queue in plain text. */
  exportLoginLink: { name: 'export.login-link', retryLimit: 2, retryDelay: 10, retryBackoff: false, batchSize: 10, pollingIntervalSeconds: 2 },
  /** "Your archive is ready": sent after the build, so a mail outage never fails a finished archive. */
  exportReadyMail: { name: 'export.ready-mail', retryLimit: 5, retryDelay: 30, retryBackoff: true, batchSize: 10, pollingIntervalSeconds: 2 },
  /** Starts (or joins) a campaign's sending loop in this process; completes at once. pg-boss's defaults, written down. */
  campaignSend: { name: 'campaigns.send', retryLimit: 2, retryDelay: 0, retryBackoff: false, batchSize: 5, pollingIntervalSeconds: 2 },
  /** A campaign's test message to the admin who asked. */
  campaignTestSend: { name: 'campaigns.test-send', retryLimit: 3, retryDelay: 5, retryBackoff: true, batchSize: 5, pollingIntervalSeconds: 1 },
  /**
   * A backup started from /admin/backups, or by `backup run` in embedded mode (only the server can read the PGlite
   * files); the outcome is the job's output. Never retried: a failed backup is a row the admin sees. Hours allowed.
   */
  backupRun: { name: 'backups.run', retryLimit: 0, retryDelay: 0, retryBackoff: false, batchSize: 1, pollingIntervalSeconds: 1, expireInSeconds: 6 * 3600 },
  /** The double opt-in e-mail of a status subscription. */
  noticeConfirmMail: { name: 'notice.subscribers.confirm', retryLimit: 3, retryDelay: 10, retryBackoff: true, batchSize: 10, pollingIntervalSeconds: 1 },
  /** Mails queued status updates to subscribers; each delivery row keeps its own attempts, one job at a time (singleton). */
  noticeFanout: { name: 'notice.subscribers.fanout', retryLimit: 2, retryDelay: 0, retryBackoff: false, batchSize: 1, pollingIntervalSeconds: 1 },
  /**
   * One claims e-mail (a proof link, an account invitation) from src/mail/send-queue.ts: sent exactly once, never to a
   * suppressed address, at MAIL_RATE_PER_MINUTE. A failure that may pass is retried (30 s, 1, 2, 4, 8 min); the last one is 'failed'.
   */
  claimsMail: { name: 'claims.mail', retryLimit: 5, retryDelay: 30, retryBackoff: true, batchSize: 10, pollingIntervalSeconds: 1 },
} as const satisfies Record<string, QueueJob>;

export const TIMERS = {
  /** Running exports whose owner process is gone are taken over (a lock probe per running job). */
  exportRecoverOrphans: { name: 'export.recover-orphans', every: 30_000, runsOn: 'worker', atStart: 'wait' },
  /** Archives past their expiry are deleted. */
  exportSweepExpired: { name: 'export.sweep-expired', every: 10 * MINUTE, runsOn: 'worker', atStart: 'run' },
  /** Due scheduled campaigns start, and campaigns left 'sending' (after a restart) get a loop again. */
  campaignResumeSending: { name: 'campaigns.resume-sending', every: 30_000, runsOn: 'worker', atStart: 'wait' },
  /** Address uploads nobody mapped within CAMPAIGN_UPLOAD_TTL_HOURS are deleted. */
  campaignSweepUploads: { name: 'campaigns.sweep-uploads', every: 15 * MINUTE, runsOn: 'worker', atStart: 'run' },
  /** Every instance runs the schedule; an advisory lock and the unique (kind, scheduled_for) slot make one take each run. */
  backupDatabase: { name: 'backups.database', cron: (c) => c.BACKUP_DB_CRON, runsOn: 'worker', atStart: 'none' },
  backupMedia: { name: 'backups.media', cron: (c) => c.BACKUP_MEDIA_CRON, runsOn: 'worker', atStart: 'none', enabled: (c) => Boolean(c.TOYBOX_MEDIA_DIR) },
  /** Backups whose process is gone are failed, then alert conditions re-evaluated (free space, writability, staleness). */
  backupCheckAlerts: { name: 'backups.check-alerts', every: (c) => c.MONITOR_INTERVAL_SECONDS * 1000, runsOn: 'worker', atStart: 'run' },
  /** Kicks the status-mail fan-out when a new notice version is published here, and every minute anyway (retries). */
  noticeMailKick: { name: 'notice.mail-kick', every: 1000, runsOn: 'worker', atStart: 'wait' },
  /** The notice cache's safety-net poll: every second while LISTEN is down, every 10 s while it is up (the handler decides). */
  noticePoll: { name: 'notice.poll', every: 1000, runsOn: 'every-instance', atStart: 'run' },
  /** Claims e-mails left mid-send by a process that is gone go back to the queue; queued ones no job tried for 10 minutes get one. */
  claimsMailSweep: { name: 'claims.mail-sweep', every: 30_000, runsOn: 'worker', atStart: 'wait' },
} as const satisfies Record<string, TimerJob>;

export const LOCAL_TASKS = {
  /** An address import from /admin/campaigns/import: its spooled file is on this instance's disk. */
  campaignImport: { name: 'campaigns.import' },
  /** A notice sync nobody waits for (a NOTIFY, a reconnect, the first one): closing the context waits for it, so no query runs on a closed pool. */
  noticeSync: { name: 'notice.sync' },
} as const satisfies Record<string, LocalTask>;

export type QueueKey = keyof typeof QUEUES;
export type TimerKey = keyof typeof TIMERS;
export type LocalTaskKey = keyof typeof LOCAL_TASKS;

/** What each queue's jobs carry: ids and small choices, never whole records or secrets. */
export interface QueuePayloads {
  exportBuild: { exportJobId: string };
  exportLoginLink: { userId: number; lang: Lang };
  exportReadyMail: { exportJobId: string };
  campaignSend: { campaignId: number };
  campaignTestSend: { campaignId: number; lang: Lang; to: string; actor: string };
  backupRun: { kind: 'database' | 'media'; trigger: string };
  noticeConfirmMail: { subscriberId: number; nonce: string };
  noticeFanout: Record<string, never>;
  claimsMail: { mailId: number };
}
