import type { Knex } from 'knex';

// Personal data exports: cooldown bookkeeping, background jobs and the archives they leave for download.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.export_jobs (
      id uuid PRIMARY KEY,
      user_id bigint NOT NULL,
      requested_by text NOT NULL,
      counted boolean NOT NULL DEFAULT true,
      format text NOT NULL CHECK (format IN ('zip', 'json')),
      mode text NOT NULL CHECK (mode IN ('stream', 'background')),
      status text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'expired')),
      lang text NOT NULL DEFAULT 'ja',
      notify_email text,
      file_path text,
      file_name text,
      size_bytes bigint,
      sha256 text,
      row_count bigint,
      error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz,
      expires_at timestamptz
    );
    CREATE INDEX IF NOT EXISTS export_jobs_user_idx ON portal.export_jobs (user_id, created_at DESC);
    CREATE INDEX IF NOT EXISTS export_jobs_status_idx ON portal.export_jobs (status, expires_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.export_jobs');
}
