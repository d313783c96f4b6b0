import type { Knex } from 'knex';
import type { AppContext } from '../../app-context';
import { recordAudit } from '../../audit/service';
import { Conflict, NotFound, Forbidden, HttpError } from '../../http/errors';
import { type Lang } from '../../i18n';
import { LinkGone, type LinkNext } from '../../http/links';
import { queueMessage } from '../../mail/send-queue';
import * as catalogue from '../../salvage-catalogue';
import * as repo from './repo';
import { restoredByClaim } from './restore-repo';
import type { HashedUpload } from './upload';
import { verifyOldToken } from './old-token';
import * as mailRepo from './mail-repo';
import { EMAIL_LINK_MINUTES, emailLinkRef, hashToken, kickMessage, newLink } from './mail';
import type { ClaimRow, EvidenceKind, EvidenceRow } from './repo';

/** Proof levels of RECOVERY.md §3 that are approved without staff when nobody else claims the old id. */
export const AUTO_APPROVE_MAX_LEVEL = 3;

export interface Actor {
  id: number;
  display_id: string;
  actor: string;
}

interface Proof {
  kind: EvidenceKind;
  level: number;
  ref: string;
  details: Record<string, unknown>;
}

export interface ProofOutcome {
  old_user_id: number;
  status: repo.ClaimStatus;
  contested: boolean;
  level: number;
}

/**
 * Adds proofs for one old id to the person's claim and decides it, in one
 * transaction under the old id's lock: strong (level 1-3) and uncontested is
 * approved at once; a second claimant sends every open claim on the id to
 * staff (an automatic approval nobody has used yet goes back to the queue).
 */
export async function registerProofs(ctx: AppContext, who: Actor, oldUserId: number, proofs: Proof[], oldDisplayId: string | null = null): Promise<ProofOutcome> {
  const level = Math.min(...proofs.map((p) => p.level));
  return ctx.knex.transaction(async (trx) => {
    const existing = await repo.lockClaimsOnOldId(trx, oldUserId);
    const claim = await repo.upsertClaim(trx, who.id, oldUserId, level, oldDisplayId);
    for (const p of proofs) await repo.addEvidence(trx, claim.id, p);
    const others = existing.filter((c) => c.user_id !== who.id && c.status !== 'rejected');
    let { status, contested } = claim;
    if (claim.status === 'pending') {
      if (others.length) {
        contested = true;
        for (const o of others) await contest(trx, o, who);
      } else if (claim.level <= AUTO_APPROVE_MAX_LEVEL) {
        status = 'approved';
      }
      if (status !== claim.status || contested !== claim.contested) {
        await repo.updateClaim(trx, claim.id, { status, contested, ...(status === 'approved' ? { decided_by: 'auto', decided_at: new Date(), reason: `level ${claim.level}` } : {}) });
      }
    }
    await recordAudit(trx, who.actor, 'claims.proof', `old_user:${oldUserId}`, { claim: claim.id, kinds: [...new Set(proofs.map((p) => p.kind))], level: claim.level, status, contested });
    return { old_user_id: oldUserId, status, contested, level: claim.level };
  });
}

async function contest(trx: Knex.Transaction, other: ClaimRow, by: Actor): Promise<void> {
  const backToQueue = other.status === 'approved' && other.decided_by === 'auto' && !(await restoredByClaim(trx, other.id));
  await repo.updateClaim(trx, other.id, { contested: true, ...(backToQueue ? { status: 'pending', decided_by: null, decided_at: null, reason: null } : {}) });
  await recordAudit(trx, by.actor, 'claims.contested', `old_user:${other.old_user_id}`, { claim: other.id, returned_to_queue: backToQueue });
}

/** How much one matched file proves (RECOVERY.md §1, §3). */
export function fileLevel(f: catalogue.CatalogueFile): { level: number; why: string } {
  if (f.kind === 'post_video' || f.kind === 'game_file') return { level: 3, why: 'stored_as_uploaded' };
  if (f.kind === 'post_image') {
    if (f.uploaded_at && f.uploaded_at < catalogue.REENCODE_FROM) return { level: 3, why: 'stored_as_uploaded' };
    return { level: 6, why: 'reencoded_copy' };
  }
  // Thumbnails, posters, avatars and headers are pictures anyone who saw the page could have saved.
  return { level: 6, why: 'public_copy' };
}

export interface FileMatchReport {
  name: string;
  size: number;
  matches: Array<{ path: string; kind: string; old_user_id: number | null; display_id: string | null; uploaded_at: Date | null; level: number; why: string }>;
}

/**
 * Proof by original files: the uploads were hashed as they streamed (never
 * stored); byte-identical catalogued files tie them to old ids. Returns, per
 * uploaded file, what it matched, and per old id what the claim became.
 */
export async function proveByFiles(ctx: AppContext, who: Actor, uploads: HashedUpload[]): Promise<{ files: FileMatchReport[]; outcomes: ProofOutcome[] }> {
  const found = await catalogue.filesWithHashes(ctx.knex, [...new Set(uploads.map((u) => u.sha256))]);
  const perOldId = new Map<number, Proof[]>();
  const files: FileMatchReport[] = [];
  for (const u of uploads) {
    const report: FileMatchReport = { name: u.name, size: u.size, matches: [] };
    for (const f of found.filter((x) => x.sha256 === u.sha256)) {
      const { level, why } = fileLevel(f);
      const ids = f.old_user_id !== null ? [f.old_user_id] : f.display_id ? await oldIdsForDisplayId(ctx.knex, f.display_id) : [];
      // A game folder names a display id, which was not unique: only one old account makes it proof.
      const effective = ids.length === 1 ? level : 6;
      report.matches.push({ path: f.rel_path, kind: f.kind, old_user_id: ids.length === 1 ? ids[0]! : f.old_user_id, display_id: f.display_id, uploaded_at: f.uploaded_at, level: effective, why });
      for (const id of ids) {
        const list = perOldId.get(id) ?? [];
        list.push({ kind: 'file_match', level: effective, ref: `${f.sha256}:${f.rel_path}`, details: { path: f.rel_path, kind: f.kind, uploaded_name: u.name, sha256: f.sha256, why } });
        perOldId.set(id, list);
      }
    }
    files.push(report);
  }
  const outcomes: ProofOutcome[] = [];
  for (const [oldId, proofs] of perOldId) outcomes.push(await registerProofs(ctx, who, oldId, proofs));
  return { files, outcomes };
}

async function oldIdsForDisplayId(knex: Knex, displayId: string): Promise<number[]> {
  const ids = new Set<number>([...(await catalogue.oldAccountsByDisplayId(knex, displayId)).map((a) => a.old_user_id), ...(await catalogue.oldIdsNamedInFiles(knex, displayId))]);
  return [...ids];
}

/** TOYBOX's placeholder for sign-ups without an address: not a mailbox anyone controls. */
export function isPlaceholderEmail(email: string): boolean {
  return /@toybox\.local$/i.test(email);
}

/**
 * Queues a one-time confirmation link to an address the person says is theirs (the claims.mail job sends it
 * exactly once, never to a suppressed address, at the outbound rate). The answer never says whether it matches an old account.
 */
export async function requestEmailProof(ctx: AppContext, who: Actor, email: string, lang: Lang): Promise<void> {
  if (isPlaceholderEmail(email)) throw new HttpError(422, 'claims.email.placeholder');
  const link = newLink(ctx, 'emailLink');
  const mailId = await ctx.knex.transaction(async (trx) => {
    const id = await mailRepo.insertEmailToken(trx, { user_id: who.id, email, token_hash: hashToken(link.token), link_nonce: link.nonce, expires_at: new Date(Date.now() + EMAIL_LINK_MINUTES * 60_000) });
    const queued = await queueMessage(trx, 'claimsEmailConfirm', emailLinkRef(id), email, lang);
    await recordAudit(trx, who.actor, 'claims.email_link_queued', `user:${who.id}`, {});
    return queued;
  });
  await kickMessage(ctx, mailId);
}

/** A dead e-mail proof link (unknown, or past its 60 minutes): ask for a new one on /recover (src/http/links.ts). */
export const EMAIL_LINK_NEXT: LinkNext = { href: '/recover', key: 'claims.email.link_next' };

/** The page the e-mailed link opens: 410 when the link is unknown or expired (a confirmed one may be confirmed again). */
export async function checkEmailLink(ctx: AppContext, token: string): Promise<void> {
  const row = await repo.findEmailToken(ctx.knex, hashToken(token));
  if (!row || row.expires_at < new Date()) throw new LinkGone(EMAIL_LINK_NEXT);
}

/**
 * Confirms an address by its link (signed in as the person who asked) and
 * claims every old account whose row holds that address: a recovered row plus
 * control of its e-mail is level 1.
 */
export async function confirmEmailProof(ctx: AppContext, who: Actor, token: string): Promise<{ email: string; outcomes: ProofOutcome[] }> {
  const email = await ctx.knex.transaction(async (trx) => {
    const row = await repo.lockEmailToken(trx, hashToken(token));
    if (!row || row.expires_at < new Date()) throw new LinkGone(EMAIL_LINK_NEXT);
    if (row.user_id !== who.id) throw Forbidden('claims.email.other_user');
    if (!row.confirmed_at) await repo.markEmailConfirmed(trx, row.id);
    await recordAudit(trx, who.actor, 'claims.email_confirmed', `user:${who.id}`, {});
    return row.email;
  });
  const outcomes: ProofOutcome[] = [];
  for (const acc of await catalogue.oldAccountsByEmail(ctx.knex, email)) {
    outcomes.push(await registerProofs(ctx, who, acc.old_user_id, [{ kind: 'email', level: 1, ref: email.toLowerCase(), details: { email, old_display_id: acc.display_id } }], acc.display_id));
  }
  return { email, outcomes };
}

/** Old accounts the person's StudySphere sign-in ties them to, not yet claimed by them. */
export async function ssoSuggestions(ctx: AppContext, userId: number): Promise<catalogue.OldAccount[]> {
  const ssId = await repo.studysphereIdOf(ctx.knex, userId);
  if (ssId === null) return [];
  const mine = new Set((await repo.claimsOfUser(ctx.knex, userId)).map((c) => c.old_user_id));
  return (await catalogue.oldAccountsByStudysphereId(ctx.knex, ssId)).filter((a) => !mine.has(a.old_user_id));
}

/**
 * Proof by StudySphere: TOYBOX sets studysphere_user_id only on a StudySphere
 * sign-in, so the same id on an old account is a fresh SSO login equal to the
 * old one (level 2).
 */
export async function proveBySso(ctx: AppContext, who: Actor): Promise<ProofOutcome[]> {
  const ssId = await repo.studysphereIdOf(ctx.knex, who.id);
  if (ssId === null) throw new HttpError(422, 'claims.sso.none');
  const outcomes: ProofOutcome[] = [];
  for (const acc of await catalogue.oldAccountsByStudysphereId(ctx.knex, ssId)) {
    outcomes.push(await registerProofs(ctx, who, acc.old_user_id, [{ kind: 'sso', level: 2, ref: String(ssId), details: { old_display_id: acc.display_id } }], acc.display_id));
  }
  if (!outcomes.length) throw new HttpError(422, 'claims.sso.no_match');
  return outcomes;
}

/**
 * Proof by an old sign-in token still in the person's browser: signed by the
 * old site's key and issued before the incident, it names the old id (level 2).
 * The token itself is never stored or logged, only its id and issue time.
 */
export async function proveByOldToken(ctx: AppContext, who: Actor, token: string): Promise<ProofOutcome> {
  const key = ctx.config.TOYBOX_OLD_SECRET_KEY;
  if (!key) throw new HttpError(422, 'claims.token.unavailable');
  const claims = verifyOldToken(token, key, new Date(ctx.config.SALVAGE_INCIDENT_AT));
  if (!claims) throw new HttpError(422, 'claims.token.invalid');
  const acc = await catalogue.oldAccount(ctx.knex, claims.user_id);
  return registerProofs(ctx, who, claims.user_id, [{ kind: 'token', level: 2, ref: claims.jti ?? claims.issued_at.toISOString(), details: { token_type: claims.token_type, issued_at: claims.issued_at.toISOString() } }], acc?.display_id ?? null);
}

/** A stated old display id: public knowledge, so it only ever sends a claim to staff (level 6). */
export async function stateOldDisplayId(ctx: AppContext, who: Actor, displayId: string): Promise<ProofOutcome[]> {
  const ids = await oldIdsForDisplayId(ctx.knex, displayId);
  if (!ids.length) throw new HttpError(422, 'claims.statement.not_found');
  const outcomes: ProofOutcome[] = [];
  for (const id of ids) outcomes.push(await registerProofs(ctx, who, id, [{ kind: 'statement', level: 6, ref: displayId.toLowerCase(), details: { display_id: displayId } }], displayId));
  return outcomes;
}

export interface ClaimView extends ClaimRow {
  evidence: EvidenceRow[];
  old: catalogue.OldAccount | null;
}

async function withEvidence(knex: Knex, claims: ClaimRow[]): Promise<ClaimView[]> {
  const evidence = await repo.evidenceOf(knex, claims.map((c) => c.id));
  const out: ClaimView[] = [];
  for (const c of claims) out.push({ ...c, evidence: evidence.filter((e) => e.claim_id === c.id), old: await catalogue.oldAccount(knex, c.old_user_id) });
  return out;
}

/** The person's own claims with their evidence. */
export async function myClaims(ctx: AppContext, userId: number): Promise<ClaimView[]> {
  return withEvidence(ctx.knex, await repo.claimsOfUser(ctx.knex, userId));
}

export interface QueueGroup {
  old_user_id: number;
  facts: catalogue.OldFact[];
  claims: Array<ClaimView & { claimant: { id: number; display_id: string; email: string | null } | null }>;
}

/** Staff queue: every old id with a pending claim, or contested, with all its claims side by side. */
export async function staffQueue(ctx: AppContext): Promise<QueueGroup[]> {
  const pending = await repo.claimsByStatus(ctx.knex, 'pending');
  const approved = (await repo.claimsByStatus(ctx.knex, 'approved')).filter((c) => c.contested);
  const ids = [...new Set([...pending, ...approved].map((c) => c.old_user_id))];
  const all = await withEvidence(ctx.knex, await repo.claimsOnOldIds(ctx.knex, ids));
  const users = await repo.claimants(ctx.knex, [...new Set(all.map((c) => c.user_id))]);
  const facts = new Map<number, catalogue.OldFact[]>();
  for (const id of ids) facts.set(id, await catalogue.factsForOldId(ctx.knex, id));
  return ids.map((id) => ({
    old_user_id: id,
    facts: facts.get(id) ?? [],
    claims: all.filter((c) => c.old_user_id === id).map((c) => ({ ...c, claimant: users.find((u) => u.id === c.user_id) ?? null })),
  }));
}

/** Staff approve or reject one claim with a reason; an old id already granted to someone else cannot be approved again. */
export async function decideClaim(ctx: AppContext, staffActor: string, claimId: number, decision: 'approve' | 'reject', reason: string): Promise<ClaimRow> {
  return ctx.knex.transaction(async (trx) => {
    const target = await repo.getClaim(trx, claimId);
    if (!target) throw NotFound('claims.admin.not_found');
    const onId = await repo.lockClaimsOnOldId(trx, target.old_user_id);
    const claim = onId.find((c) => c.id === claimId)!;
    if (decision === 'approve') {
      const holder = onId.find((c) => c.status === 'approved' && c.id !== claimId);
      if (holder) throw Conflict('claims.admin.already_granted', { claim: holder.id });
    }
    const status = decision === 'approve' ? 'approved' : 'rejected';
    await repo.updateClaim(trx, claimId, { status, decided_by: staffActor, decided_at: new Date(), reason });
    // The contest is settled once no other claim on the id waits: it leaves the queue.
    if (!onId.some((c) => c.id !== claimId && c.status === 'pending')) {
      for (const c of onId.filter((x) => x.contested)) await repo.updateClaim(trx, c.id, { contested: false });
    }
    await recordAudit(trx, staffActor, `claims.${decision}`, `old_user:${claim.old_user_id}`, { claim: claimId, user: claim.user_id, reason, previous: claim.status });
    return { ...claim, status, reason };
  });
}

/** The person's approved claim by id, or a refusal (another person's claim is "not found"). */
export async function approvedClaimOf(knex: Knex, userId: number, claimId: number): Promise<ClaimRow> {
  const claim = await repo.getClaim(knex, claimId);
  if (!claim || claim.user_id !== userId) throw NotFound('claims.restore.no_claim');
  if (claim.status !== 'approved') throw Conflict('claims.restore.not_approved');
  return claim;
}

export async function claimCounts(ctx: AppContext): Promise<Record<string, number>> {
  return repo.countByStatus(ctx.knex);
}
