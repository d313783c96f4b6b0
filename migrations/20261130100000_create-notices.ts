import type { Knex } from 'knex';

// Incidents and scheduled maintenance shown on the banner and the status page.
// `version` is the global notice version at this notice's last public change;
// the banner remembers dismissals per (id, version).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.notices (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('incident', 'maintenance')),
      severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
      state text NOT NULL,
      title_ja text NOT NULL,
      title_en text NOT NULL DEFAULT '',
      body_ja text NOT NULL,
      body_en text NOT NULL DEFAULT '',
      starts_at timestamptz,
      ends_at timestamptz,
      mirror boolean NOT NULL DEFAULT false,
      published_at timestamptz,
      resolved_at timestamptz,
      version bigint NOT NULL DEFAULT 0,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS notices_published_idx ON portal.notices (published_at DESC) WHERE published_at IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.notices');
}
