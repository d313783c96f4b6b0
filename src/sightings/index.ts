import type { Knex } from 'knex';
import { logger } from '../logger';

/**
 * "Last seen" facts that hot paths record without waiting on the database:
 * the banner loaded from an origin, /metrics scraped. A record is a Map
 * update in memory; the counts are upserted into portal.sightings a few
 * seconds later in one statement, so the fast path never touches the
 * database. A crash loses at most one window of counts, which only ever
 * delays a "seen" tick.
 */

export interface Sighting {
  kind: string;
  key: string;
  first_seen: Date;
  last_seen: Date;
  hits: number;
}

const FLUSH_AFTER_MS = 5000;
/** Distinct keys kept per window: a client sending random Origin headers cannot grow memory or the table. */
const MAX_KEYS_PER_WINDOW = 32;
/** Rows not seen for this long are deleted when their kind is flushed. */
const KEEP_DAYS = 30;

interface Pending {
  kind: string;
  key: string;
  hits: number;
  first: number;
  last: number;
}

class Recorder {
  /** kind -> key -> counts: no string building on the hot path. */
  private pending = new Map<string, Map<string, Pending>>();
  private size = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly knex: Knex) {}

  record(kind: string, key: string, now = Date.now()): void {
    let byKey = this.pending.get(kind);
    if (!byKey) this.pending.set(kind, (byKey = new Map()));
    const p = byKey.get(key);
    if (p) {
      p.hits += 1;
      p.last = now;
    } else {
      if (this.size >= MAX_KEYS_PER_WINDOW) return;
      byKey.set(key, { kind, key, hits: 1, first: now, last: now });
      this.size += 1;
    }
    // Idle portals keep no timer; the first record of a window schedules its flush.
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_AFTER_MS);
      this.timer.unref();
    }
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = [...this.pending.values()].flatMap((m) => [...m.values()]);
    this.pending.clear();
    this.size = 0;
    this.flushing = this.flushing.then(() => (batch.length ? this.write(batch) : undefined));
    return this.flushing;
  }

  private async write(batch: Pending[]): Promise<void> {
    try {
      const values = batch.map(() => '(?, ?, to_timestamp(?::double precision / 1000), to_timestamp(?::double precision / 1000), ?)').join(', ');
      await this.knex.raw(
        `INSERT INTO portal.sightings AS s (kind, key, first_seen, last_seen, hits) VALUES ${values}
         ON CONFLICT (kind, key) DO UPDATE SET last_seen = greatest(s.last_seen, excluded.last_seen), hits = s.hits + excluded.hits`,
        batch.flatMap((p) => [p.kind, p.key, p.first, p.last, p.hits]),
      );
      const kinds = [...new Set(batch.map((p) => p.kind))];
      await this.knex('portal.sightings').whereIn('kind', kinds).where('last_seen', '<', this.knex.raw(`now() - make_interval(days => ?)`, [KEEP_DAYS])).delete();
    } catch (err) {
      // Database down or closing: these counts are dropped; the next window records afresh.
      logger.debug({ err }, 'sightings not flushed');
    }
  }
}

const recorders = new WeakMap<Knex, Recorder>();

function recorderFor(knex: Knex): Recorder {
  let r = recorders.get(knex);
  if (!r) {
    r = new Recorder(knex);
    recorders.set(knex, r);
  }
  return r;
}

/** Counts one sighting in memory (no I/O). */
export function recordSighting(knex: Knex, kind: string, key: string): void {
  recorderFor(knex).record(kind, key);
}

/** Writes what was counted now (tests, and the recovery page before it reads). */
export function flushSightings(knex: Knex): Promise<void> {
  return recorders.get(knex)?.flush() ?? Promise.resolve();
}

/** What was seen of a kind, most recent first. */
export async function readSightings(knex: Knex, kind: string): Promise<Sighting[]> {
  const rows = await knex('portal.sightings').where({ kind }).orderBy('last_seen', 'desc').limit(50).select<Array<Sighting & { hits: string | number }>>('*');
  return rows.map((r) => ({ ...r, hits: Number(r.hits) }));
}
