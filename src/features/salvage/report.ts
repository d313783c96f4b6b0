import type { Knex } from 'knex';
import { findCurrentUsersLike, type CurrentUserHit } from '../../toybox/match-candidates';

export type Strength = 'strong' | 'medium' | 'weak';

export interface Match {
  user_id: number;
  display_id: string;
  reasons: Array<{ what: 'email' | 'studysphere_id' | 'display_id' | 'display_name'; value: string; strength: Strength }>;
  strength: Strength;
}

export interface Cluster {
  old_user_id: number;
  display_ids: string[];
  display_names: string[];
  emails: string[];
  studysphere_ids: number[];
  files: { total: number; by_kind: Record<string, number>; by_era: Record<string, number>; sample: string[] };
  /** Up to four old-era images (content hashes), for staff thumbnails. */
  thumbs: string[];
  games: string[];
  posts: Array<{ source_id: number; title: string; created_at: string | null; image: string | null }>;
  cards: number;
  facts: Record<string, number>;
  fact_lines: Array<{ kind: string; at: string | null; line: string }>;
  matches: Match[];
}

export interface SalvageReport {
  clusters: Cluster[];
  unattributed: { files: number; games: string[] };
}

interface OldUser {
  id: number;
  email: string | null;
  display_id: string;
  studysphere_user_id: number | null;
  display_name: string | null;
}

const STRENGTH: Record<Match['reasons'][number]['what'], Strength> = { email: 'strong', studysphere_id: 'strong', display_id: 'medium', display_name: 'weak' };
const RANK: Record<Strength, number> = { strong: 3, medium: 2, weak: 1 };

function cluster(map: Map<number, Cluster>, id: number): Cluster {
  let c = map.get(id);
  if (!c) {
    c = { old_user_id: id, display_ids: [], display_names: [], emails: [], studysphere_ids: [], files: { total: 0, by_kind: {}, by_era: {}, sample: [] }, thumbs: [], games: [], posts: [], cards: 0, facts: {}, fact_lines: [], matches: [] };
    map.set(id, c);
  }
  return c;
}

const addUnique = <T>(list: T[], v: T | null | undefined) => {
  if (v !== null && v !== undefined && v !== '' && !list.includes(v)) list.push(v);
};

async function oldDatabaseRows(knex: Knex, schemas: Array<{ id: number; schema: string }>) {
  const users: OldUser[] = [];
  const posts: Array<{ source_id: number; author_id: number; title: string; created_at: Date | null; image: string | null }> = [];
  const cards: Array<{ user_id: number; n: number }> = [];
  for (const { id, schema } of schemas) {
    const has = async (t: string) => (await knex.raw('SELECT to_regclass(?) AS r', [`${schema}.${t}`])).rows[0].r !== null;
    if (!(await has('users'))) continue;
    const meta = await has('user_meta');
    const q = knex.withSchema(schema).from('users as u').select('u.id', 'u.email', 'u.display_id', 'u.studysphere_user_id');
    if (meta) q.leftJoin('user_meta as m', 'm.user_id', 'u.id').select('m.display_name');
    users.push(...((await q) as OldUser[]));
    if (await has('submissions')) {
      const rows = await knex.withSchema(schema).from('submissions').select('author_id', 'title', 'created_at', 'image').orderBy('created_at');
      posts.push(...rows.map((r: { author_id: number; title: string; created_at: Date | null; image: string | null }) => ({ source_id: id, ...r })));
    }
    if (await has('user_cards')) cards.push(...((await knex.withSchema(schema).from('user_cards').groupBy('user_id').select('user_id').count('* as n')) as Array<{ user_id: number; n: number }>));
  }
  return { users, posts, cards };
}

function matchesFor(c: Cluster, current: CurrentUserHit[]): Match[] {
  const out = new Map<number, Match>();
  const hit = (u: CurrentUserHit, what: Match['reasons'][number]['what'], value: string) => {
    const m = out.get(u.id) ?? { user_id: u.id, display_id: u.display_id, reasons: [], strength: 'weak' as Strength };
    m.reasons.push({ what, value, strength: STRENGTH[what] });
    if (RANK[STRENGTH[what]] > RANK[m.strength]) m.strength = STRENGTH[what];
    out.set(u.id, m);
  };
  for (const u of current) {
    if (u.email && c.emails.some((e) => e.toLowerCase() === u.email!.toLowerCase())) hit(u, 'email', u.email);
    if (u.studysphere_user_id !== null && c.studysphere_ids.includes(u.studysphere_user_id)) hit(u, 'studysphere_id', String(u.studysphere_user_id));
    if (c.display_ids.includes(u.display_id)) hit(u, 'display_id', u.display_id);
    if (u.display_name && c.display_names.includes(u.display_name)) hit(u, 'display_name', u.display_name);
  }
  return [...out.values()].sort((a, b) => RANK[b.strength] - RANK[a.strength] || a.user_id - b.user_id);
}

/**
 * Everything salvaged, grouped per old user id: names and ids seen, files
 * (old era only: a new-era `2_...` is today's user 2), posts and cards from the
 * loaded old databases, facts from logs and Discord, and the current TOYBOX
 * users who plausibly are the same person, with how strong each sign is.
 */
export async function buildReport(knex: Knex, filter?: string): Promise<SalvageReport> {
  const clusters = new Map<number, Cluster>();
  const schemas = (await knex('portal.salvage_sources').where({ kind: 'database', status: 'complete' }).whereNotNull('schema_name').select('id', 'schema_name')).map((r: { id: number; schema_name: string }) => ({ id: r.id, schema: r.schema_name }));
  const old = await oldDatabaseRows(knex, schemas);
  const byDisplayId = new Map<string, number>();
  for (const u of old.users) {
    const c = cluster(clusters, Number(u.id));
    addUnique(c.display_ids, u.display_id);
    addUnique(c.display_names, u.display_name);
    addUnique(c.emails, u.email);
    addUnique(c.studysphere_ids, u.studysphere_user_id === null ? null : Number(u.studysphere_user_id));
    byDisplayId.set(u.display_id, Number(u.id));
  }
  for (const p of old.posts) cluster(clusters, Number(p.author_id)).posts.push({ source_id: p.source_id, title: p.title, created_at: p.created_at ? new Date(p.created_at).toISOString() : null, image: p.image });
  for (const r of old.cards) cluster(clusters, Number(r.user_id)).cards += Number(r.n);

  const files = await knex('portal.salvage_files').where({ era: 'old' }).whereNotNull('old_user_id').groupBy('old_user_id', 'kind').select('old_user_id', 'kind').count('* as n').min('rel_path as sample');
  for (const f of files as Array<{ old_user_id: number; kind: string; n: number; sample: string }>) {
    const c = cluster(clusters, Number(f.old_user_id));
    c.files.total += Number(f.n);
    c.files.by_kind[f.kind] = (c.files.by_kind[f.kind] ?? 0) + Number(f.n);
    c.files.by_era.old = (c.files.by_era.old ?? 0) + Number(f.n);
    if (c.files.sample.length < 5) c.files.sample.push(f.sample);
  }
  const images = await knex.raw<{ rows: Array<{ old_user_id: number; sha256: string }> }>(
    `SELECT old_user_id, sha256 FROM (
       SELECT DISTINCT ON (f.old_user_id, f.sha256) f.old_user_id, f.sha256, f.rel_path
         FROM portal.salvage_files f JOIN portal.salvage_blobs b USING (sha256)
        WHERE f.era = 'old' AND f.old_user_id IS NOT NULL AND b.width IS NOT NULL AND f.original_stem IS NULL
        ORDER BY f.old_user_id, f.sha256, f.rel_path) x
     ORDER BY old_user_id, rel_path`,
  );
  for (const r of images.rows) {
    const c = cluster(clusters, Number(r.old_user_id));
    if (c.thumbs.length < 4) c.thumbs.push(r.sha256);
  }
  const games = (await knex('portal.salvage_files').whereNotNull('game_folder').distinct('game_folder', 'display_id')) as Array<{ game_folder: string; display_id: string }>;
  const unattributedGames: string[] = [];
  const facts = await knex('portal.salvage_facts').orderBy('occurred_at').select('kind', 'old_user_id', 'display_id', 'display_name', 'occurred_at', 'source_line');
  for (const f of facts as Array<{ kind: string; old_user_id: number | null; display_id: string | null; display_name: string | null; occurred_at: Date | null; source_line: string }>) {
    const id = f.old_user_id ?? (f.display_id ? byDisplayId.get(f.display_id) : undefined);
    if (id === undefined || id === null) continue;
    const c = cluster(clusters, Number(id));
    c.facts[f.kind] = (c.facts[f.kind] ?? 0) + 1;
    addUnique(c.display_names, f.display_name);
    addUnique(c.display_ids, f.display_id);
    if (c.fact_lines.length < 20) c.fact_lines.push({ kind: f.kind, at: f.occurred_at ? new Date(f.occurred_at).toISOString() : null, line: f.source_line });
  }
  for (const g of games) {
    const id = byDisplayId.get(g.display_id);
    if (id === undefined) unattributedGames.push(g.game_folder);
    else addUnique(cluster(clusters, id).games, g.game_folder);
  }
  const list = [...clusters.values()].sort((a, b) => a.old_user_id - b.old_user_id);
  const current = await findCurrentUsersLike(knex, {
    emails: list.flatMap((c) => c.emails),
    studysphereIds: list.flatMap((c) => c.studysphere_ids),
    displayIds: list.flatMap((c) => c.display_ids),
    displayNames: list.flatMap((c) => c.display_names),
  });
  for (const c of list) c.matches = matchesFor(c, current);
  const unattributedFiles = Number((await knex('portal.salvage_files').whereNull('old_user_id').whereNull('game_folder').count('* as n'))[0]!.n);
  const needle = filter?.trim().toLowerCase();
  const shown = needle
    ? list.filter((c) => String(c.old_user_id) === needle || [...c.display_ids, ...c.display_names, ...c.emails].some((v) => v.toLowerCase().includes(needle)))
    : list;
  return { clusters: shown, unattributed: { files: unattributedFiles, games: unattributedGames.sort() } };
}
