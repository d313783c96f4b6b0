import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export type ClaimStatus = 'pending' | 'approved' | 'rejected';
export type EvidenceKind = 'file_match' | 'email' | 'sso' | 'token' | 'statement';

export interface ClaimRow {
  id: number;
  user_id: number;
  old_user_id: number;
  old_display_id: string | null;
  status: ClaimStatus;
  level: number;
  contested: boolean;
  decided_by: string | null;
  decided_at: Date | null;
  reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface EvidenceRow {
  id: number;
  claim_id: number;
  kind: EvidenceKind;
  level: number;
  ref: string;
  details: Record<string, unknown>;
  created_at: Date;
}

const CLAIMS = 'portal.claims';
const EVIDENCE = 'portal.claim_evidence';
const TOKENS = 'portal.claim_email_tokens';

const asClaim = (r: ClaimRow | undefined): ClaimRow | undefined => (r ? { ...r, id: Number(r.id), user_id: Number(r.user_id) } : undefined);

/** The claim for this (person, old id), created pending at `level` when new; a stronger level lowers it. */
export async function upsertClaim(db: Db, userId: number, oldUserId: number, level: number, oldDisplayId: string | null): Promise<ClaimRow> {
  const { rows } = await db.raw<{ rows: ClaimRow[] }>(
    `INSERT INTO ${CLAIMS} (user_id, old_user_id, old_display_id, level)
     VALUES (?, ?, ?, ?)
     ON CONFLICT (user_id, old_user_id) DO UPDATE
       SET level = LEAST(${CLAIMS}.level, EXCLUDED.level),
           old_display_id = coalesce(${CLAIMS}.old_display_id, EXCLUDED.old_display_id),
           updated_at = now()
     RETURNING *`,
    [userId, oldUserId, oldDisplayId, level],
  );
  return asClaim(rows[0])!;
}

export async function addEvidence(db: Db, claimId: number, e: { kind: EvidenceKind; level: number; ref: string; details: Record<string, unknown> }): Promise<void> {
  await db(EVIDENCE)
    .insert({ claim_id: claimId, kind: e.kind, level: e.level, ref: e.ref, details: JSON.stringify(e.details) })
    .onConflict(['claim_id', 'kind', 'ref'])
    .ignore();
}

/** Every claim on this old id, locked: what decides whether a claim is contested. */
export async function lockClaimsOnOldId(trx: Knex.Transaction, oldUserId: number): Promise<ClaimRow[]> {
  // The advisory lock serialises claims on one old id even before any row exists for it.
  await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`claims:old:${oldUserId}`]);
  const rows = await trx(CLAIMS).where({ old_user_id: oldUserId }).forUpdate().orderBy('id');
  return rows.map((r: ClaimRow) => asClaim(r)!);
}

export async function updateClaim(db: Db, id: number, patch: Partial<Pick<ClaimRow, 'status' | 'contested' | 'decided_by' | 'decided_at' | 'reason'>>): Promise<void> {
  await db(CLAIMS).where({ id }).update({ ...patch, updated_at: db.fn.now() });
}

export async function getClaim(db: Db, id: number): Promise<ClaimRow | undefined> {
  return asClaim(await db(CLAIMS).where({ id }).first());
}

export async function lockClaim(trx: Knex.Transaction, id: number): Promise<ClaimRow | undefined> {
  return asClaim(await trx(CLAIMS).where({ id }).forUpdate().first());
}

export async function claimsOfUser(db: Db, userId: number): Promise<ClaimRow[]> {
  return (await db(CLAIMS).where({ user_id: userId }).orderBy('id')).map((r: ClaimRow) => asClaim(r)!);
}

export async function claimsByStatus(db: Db, status: ClaimStatus): Promise<ClaimRow[]> {
  return (await db(CLAIMS).where({ status }).orderBy('created_at')).map((r: ClaimRow) => asClaim(r)!);
}

export async function claimsOnOldIds(db: Db, oldUserIds: number[]): Promise<ClaimRow[]> {
  if (!oldUserIds.length) return [];
  return (await db(CLAIMS).whereIn('old_user_id', oldUserIds).orderBy('id')).map((r: ClaimRow) => asClaim(r)!);
}

export async function evidenceOf(db: Db, claimIds: number[]): Promise<EvidenceRow[]> {
  if (!claimIds.length) return [];
  return (await db(EVIDENCE).whereIn('claim_id', claimIds).orderBy('id')).map((r: EvidenceRow) => ({ ...r, claim_id: Number(r.claim_id) }));
}

export async function countByStatus(db: Db): Promise<Record<string, number>> {
  const rows = await db(CLAIMS).groupBy('status').select('status').count<{ status: string; count: string }[]>('* as count');
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.count)]));
}

// ---- e-mail confirmation links

/** The link's row, read without a lock (the page the link opens; only the confirm POST locks it). */
export async function findEmailToken(db: Db, tokenHash: string): Promise<{ expires_at: Date } | undefined> {
  return db(TOKENS).where({ token_hash: tokenHash }).first('expires_at');
}

export async function lockEmailToken(trx: Knex.Transaction, tokenHash: string): Promise<{ id: number; user_id: number; email: string; expires_at: Date; confirmed_at: Date | null } | undefined> {
  const row = await trx(TOKENS).where({ token_hash: tokenHash }).forUpdate().first();
  return row ? { ...row, id: Number(row.id), user_id: Number(row.user_id) } : undefined;
}

export async function markEmailConfirmed(db: Db, id: number): Promise<void> {
  await db(TOKENS).where({ id }).update({ confirmed_at: db.fn.now() });
}

export async function confirmedEmails(db: Db, userId: number): Promise<string[]> {
  const rows = await db(TOKENS).where({ user_id: userId }).whereNotNull('confirmed_at').distinct('email');
  return rows.map((r: { email: string }) => r.email);
}

export async function hasApprovedClaim(db: Db, userId: number, oldUserId: number): Promise<boolean> {
  return Boolean(await db(CLAIMS).where({ user_id: userId, old_user_id: oldUserId, status: 'approved' }).first('id'));
}

/** The TOYBOX accounts behind claims, for the staff queue (never the password hash). */
export async function claimants(db: Db, userIds: number[]): Promise<Array<{ id: number; display_id: string; email: string | null }>> {
  if (!userIds.length) return [];
  return (await db('public.users').whereIn('id', userIds).select('id', 'display_id', 'email')).map((u: { id: string; display_id: string; email: string | null }) => ({ ...u, id: Number(u.id) }));
}

/** The StudySphere user id TOYBOX holds for this account (set only by a StudySphere sign-in). */
export async function studysphereIdOf(db: Db, userId: number): Promise<number | null> {
  const row = await db('public.users').where({ id: userId }).first('studysphere_user_id');
  return row?.studysphere_user_id ?? null;
}

/** Who holds each of these old ids now (the approved claim), as old id -> TOYBOX user id. */
export async function grantedOldIds(db: Db, oldUserIds: number[]): Promise<Map<number, number>> {
  if (!oldUserIds.length) return new Map();
  const rows = await db(CLAIMS).whereIn('old_user_id', [...new Set(oldUserIds)]).where({ status: 'approved' }).select('old_user_id', 'user_id');
  return new Map(rows.map((r: { old_user_id: number; user_id: string }) => [Number(r.old_user_id), Number(r.user_id)]));
}
