import type { Knex } from 'knex';
import type { AppContext } from '../../app-context';
import { recordAudit } from '../../audit/service';
import { NotFound, Conflict } from '../../http/errors';
import { translator } from '../../i18n';
import { CLOSED_STATES, closedStateFor, statesFor, type NoticeRow, type NoticeUpdateRow, type PublicNotice, type NoticeState } from './model';
import type { NoticeInput, UpdateInput } from './schema';
import { insertNotice, updateNoticeRow, findNotice, listNotices, insertUpdate, selectUpdates, bumpVersion } from './repo';
import { syncMirror } from './mirror';
import { toPublicNotice } from './snapshot';
import { runtimeFor } from './runtime';

/** Who acts: the audit label, and the TOYBOX user id when a signed-in user (for the mirror's created_by). */
export interface Actor {
  label: string;
  userId: number | null;
}

export interface NoticeDetail {
  notice: NoticeRow;
  updates: NoticeUpdateRow[];
}

function closedAt(state: NoticeState, previous: Date | null): Date | null {
  if (!CLOSED_STATES.includes(state)) return null;
  return previous ?? new Date();
}

async function lockNotice(trx: Knex.Transaction, id: number): Promise<NoticeRow> {
  const n = await findNotice(trx, id, true);
  if (!n) throw NotFound('notice.errors.not_found');
  return n;
}

/** Bumps the version, stamps the notice, re-syncs the mirror: the steps every public change shares. */
async function afterPublicChange(trx: Knex.Transaction, id: number, actor: Actor, publicUrl: string): Promise<number> {
  const version = await bumpVersion(trx);
  await updateNoticeRow(trx, id, { version });
  const notice = (await findNotice(trx, id))!;
  const updates = await selectUpdates(trx, [id]);
  const latest = updates.length > 1 ? updates[updates.length - 1]!.body_ja : null;
  await syncMirror(trx, notice, latest, actor.userId, publicUrl);
  return version;
}

/** After a commit: this process serves the change at once (and rewrites the snapshot files); others hear the NOTIFY. */
async function propagate(ctx: AppContext): Promise<void> {
  await runtimeFor(ctx).refresh();
}

/** Creates a notice as a draft, or published at once. Returns its id. */
export async function createNotice(ctx: AppContext, input: NoticeInput, actor: Actor, opts: { publish?: boolean } = {}): Promise<number> {
  const id = await ctx.knex.transaction(async (trx) => {
    const newId = await insertNotice(trx, input, actor.label);
    await recordAudit(trx, actor.label, 'notice.create', `notice:${newId}`, { kind: input.kind, severity: input.severity, state: input.state, title_ja: input.title_ja });
    if (opts.publish) await publishIn(trx, newId, actor, ctx.config.PUBLIC_URL);
    return newId;
  });
  if (opts.publish) await propagate(ctx);
  return id;
}

async function publishIn(trx: Knex.Transaction, id: number, actor: Actor, publicUrl: string): Promise<number> {
  const n = await lockNotice(trx, id);
  if (n.published_at) return n.version;
  await updateNoticeRow(trx, id, { published_at: new Date(), resolved_at: closedAt(n.state, null) });
  await insertUpdate(trx, { notice_id: id, state: n.state, body_ja: n.body_ja, body_en: n.body_en, actor: actor.label });
  const version = await afterPublicChange(trx, id, actor, publicUrl);
  await recordAudit(trx, actor.label, 'notice.publish', `notice:${id}`, { version });
  return version;
}

/** Publishes a draft (a published notice stays as it is). Returns the notice version. */
export async function publishNotice(ctx: AppContext, id: number, actor: Actor): Promise<number> {
  const version = await ctx.knex.transaction((trx) => publishIn(trx, id, actor, ctx.config.PUBLIC_URL));
  await propagate(ctx);
  return version;
}

/**
 * Saves edited fields. On a published notice this is a correction: the
 * first timeline entry takes the new body, and the version is bumped.
 */
export async function editNotice(ctx: AppContext, id: number, input: NoticeInput, actor: Actor): Promise<{ published: boolean }> {
  const published = await ctx.knex.transaction(async (trx) => {
    const before = await lockNotice(trx, id);
    if (input.kind !== before.kind && before.published_at) input = { ...input, kind: before.kind };
    await updateNoticeRow(trx, id, { ...input, resolved_at: before.published_at ? closedAt(input.state, before.resolved_at) : null });
    const changed = (Object.keys(input) as Array<keyof NoticeInput>).filter((k) => String(input[k]) !== String(before[k]));
    if (before.published_at) {
      const [first] = await selectUpdates(trx, [id]);
      if (first) await trx('portal.notice_updates').where({ id: first.id }).update({ body_ja: input.body_ja, body_en: input.body_en });
      const version = await afterPublicChange(trx, id, actor, ctx.config.PUBLIC_URL);
      await recordAudit(trx, actor.label, 'notice.edit', `notice:${id}`, { changed, version });
    } else {
      await recordAudit(trx, actor.label, 'notice.edit', `notice:${id}`, { changed, draft: true });
    }
    return before.published_at !== null;
  });
  if (published) await propagate(ctx);
  return { published };
}

/** Adds a dated timeline update (optionally changing the state) and publishes it. */
export async function addUpdate(ctx: AppContext, id: number, input: UpdateInput, actor: Actor): Promise<number> {
  const version = await ctx.knex.transaction(async (trx) => {
    const n = await lockNotice(trx, id);
    const state = (input.state || n.state) as NoticeState;
    if (!statesFor(n.kind).includes(state)) throw Conflict('notice.errors.bad_state');
    await updateNoticeRow(trx, id, { state, resolved_at: closedAt(state, n.resolved_at) });
    if (!n.published_at) await updateNoticeRow(trx, id, { published_at: new Date() });
    await insertUpdate(trx, { notice_id: id, state, body_ja: input.body_ja, body_en: input.body_en, actor: actor.label });
    const v = await afterPublicChange(trx, id, actor, ctx.config.PUBLIC_URL);
    await recordAudit(trx, actor.label, 'notice.update', `notice:${id}`, { state, from: n.state, version: v });
    return v;
  });
  await propagate(ctx);
  return version;
}

/** Closes a notice (resolved / completed) with a standard update in both languages. */
export async function resolveNotice(ctx: AppContext, id: number, actor: Actor, message?: UpdateInput): Promise<number> {
  const n = await findNotice(ctx.knex, id);
  if (!n) throw NotFound('notice.errors.not_found');
  if (CLOSED_STATES.includes(n.state) && n.published_at) throw Conflict('notice.errors.already_closed');
  const key = n.kind === 'maintenance' ? 'notice.completed_default' : 'notice.resolved_default';
  const body = message ?? { body_ja: translator('ja')(key), body_en: translator('en')(key) };
  return addUpdate(ctx, id, { ...body, state: closedStateFor(n.kind) }, actor);
}

/** Turns the TOYBOX mirror on or off; off removes exactly what it wrote. */
export async function setMirror(ctx: AppContext, id: number, on: boolean, actor: Actor): Promise<void> {
  await ctx.knex.transaction(async (trx) => {
    const n = await lockNotice(trx, id);
    await updateNoticeRow(trx, id, { mirror: on });
    const updates = await selectUpdates(trx, [id]);
    const latest = updates.length > 1 ? updates[updates.length - 1]!.body_ja : null;
    const result = await syncMirror(trx, { ...n, mirror: on }, latest, actor.userId, ctx.config.PUBLIC_URL);
    await recordAudit(trx, actor.label, on ? 'notice.mirror_on' : 'notice.mirror_off', `notice:${id}`, { ...result });
  });
}

export async function getNotice(ctx: AppContext, id: number): Promise<NoticeDetail> {
  const notice = await findNotice(ctx.knex, id);
  if (!notice) throw NotFound('notice.errors.not_found');
  return { notice, updates: await selectUpdates(ctx.knex, [id]) };
}

export async function listAllNotices(ctx: AppContext): Promise<NoticeRow[]> {
  return listNotices(ctx.knex);
}

/** What the banner and status page would show for these (unsaved) fields. */
export function previewNotice(input: NoticeInput, existing?: NoticeDetail): PublicNotice {
  const now = new Date();
  const base = existing?.notice;
  const updates = existing?.updates.length ? existing.updates.map((u, i) => (i === 0 ? { ...u, body_ja: input.body_ja, body_en: input.body_en } : u)) : [{ id: 0, at: now, state: input.state, body_ja: input.body_ja, body_en: input.body_en }];
  return toPublicNotice(
    { ...input, id: base?.id ?? 0, published_at: base?.published_at ?? now, resolved_at: base?.resolved_at ?? null, version: (base?.version ?? 0) + 1, updated_at: now },
    updates,
  );
}
