import type { AppContext } from '../../app-context';
import { recordAudit } from '../../audit/service';
import { NotFound } from '../../http/errors';
import { logger } from '../../logger';
import type { Feature, RecoveryCheck, RecoveryState } from '../feature';
import { CATALOG, SECTIONS, manualItem, type CatalogItem, type Section } from './catalog';
import { deleteTick, findTick, insertTick, selectTicks, type TickRow } from './repo';

/** What the page shows for one line: a provider's state, or one of the recovery feature's own. */
export type LineState = RecoveryState | 'unavailable' | 'error';

export interface ChecklistLine {
  id: string;
  section: Section | 'other';
  state: LineState;
  detail: string;
  vars: Record<string, string | number | Date>;
  manual: boolean;
  tick: TickRow | null;
  href?: string;
  command?: string;
  urgent: boolean;
}

export interface Checklist {
  lines: ChecklistLine[];
  sections: Array<{ id: Section | 'other'; lines: ChecklistLine[] }>;
  done: number;
  total: number;
  urgent: boolean;
}

const PROVIDER_TIMEOUT_MS = 5000;

/**
 * The features to ask. Read when called, not at import: this module is loaded
 * while src/features/index.ts is still discovering features, and that list is
 * the one place that knows them all.
 */
function allFeatures(): Feature[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('..') as { features: Feature[] }).features;
}

async function askProvider(ctx: AppContext, f: Feature): Promise<{ name: string; checks: RecoveryCheck[] | null; error: string | null }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${PROVIDER_TIMEOUT_MS / 1000} s`)), PROVIDER_TIMEOUT_MS);
    });
    return { name: f.name, checks: await Promise.race([f.recoveryChecks!(ctx), timeout]), error: null };
  } catch (err) {
    logger.warn({ err, feature: f.name }, 'recovery check failed');
    return { name: f.name, checks: null, error: (err as Error).message.slice(0, 200) };
  } finally {
    clearTimeout(timer);
  }
}

function lineFor(item: CatalogItem, found: RecoveryCheck | undefined, providerError: string | null | undefined, tick: TickRow | undefined): ChecklistLine {
  const base = { id: item.id, section: item.section, href: item.href, command: item.command, manual: item.provider === 'manual', tick: tick ?? null, urgent: false, vars: {} };
  if (item.provider === 'manual') {
    return tick ? { ...base, state: 'done', detail: 'manual.ticked', vars: { by: tick.ticked_by, at: tick.ticked_at } } : { ...base, state: 'todo', detail: 'manual.todo' };
  }
  if (found) return { ...base, state: found.state, detail: found.detail, vars: found.vars ?? {}, urgent: Boolean(found.urgent) };
  if (providerError) return { ...base, state: 'error', detail: 'check_failed', vars: { error: providerError } };
  return { ...base, state: 'unavailable', detail: 'unavailable' };
}

/**
 * Every checklist line, computed now: each feature's recoveryChecks in
 * parallel (a failing or slow one shows as "could not check", never breaks
 * the page), lines without a provider yet as "not available in this
 * version", hand-ticked lines from portal.recovery_ticks.
 */
export async function buildChecklist(ctx: AppContext, features: Feature[] = allFeatures()): Promise<Checklist> {
  const providers = features.filter((f) => f.recoveryChecks);
  const [answers, ticks] = await Promise.all([Promise.all(providers.map((f) => askProvider(ctx, f))), selectTicks(ctx.knex)]);
  const checks = new Map<string, RecoveryCheck>();
  const errors = new Map<string, string>();
  for (const a of answers) {
    if (a.error) errors.set(a.name, a.error);
    for (const c of a.checks ?? []) checks.set(c.id, c);
  }
  const tickMap = new Map(ticks.map((t) => [t.item, t]));
  const lines = CATALOG.map((item) => lineFor(item, checks.get(item.id), errors.get(item.provider), tickMap.get(item.id)));
  const known = new Set(CATALOG.map((i) => i.id));
  // A feature may report lines this catalog does not list yet (a newer feature): shown last, not dropped.
  for (const c of checks.values()) {
    if (!known.has(c.id)) lines.push({ id: c.id, section: 'other', state: c.state, detail: c.detail, vars: c.vars ?? {}, manual: false, tick: null, urgent: Boolean(c.urgent) });
  }
  const sections = [...SECTIONS, 'other' as const].map((id) => ({ id, lines: lines.filter((l) => l.section === id) })).filter((s) => s.lines.length);
  const counted = lines.filter((l) => l.state !== 'unavailable');
  return { lines, sections, done: counted.filter((l) => l.state === 'done').length, total: counted.length, urgent: lines.some((l) => l.urgent) };
}

/** Ticks a line the portal cannot check by itself; audited. Ticking a ticked line changes nothing. */
export async function tickItem(ctx: AppContext, item: string, actor: string, note: string | null): Promise<TickRow> {
  if (!manualItem(item)) throw NotFound('recovery.errors.not_manual');
  return ctx.knex.transaction(async (trx) => {
    const inserted = await insertTick(trx, { item, ticked_by: actor, note });
    if (!inserted) return (await findTick(trx, item))!;
    await recordAudit(trx, actor, 'recovery.tick', `recovery:${item}`, { note });
    return inserted;
  });
}

/** Unticks a line (it was not done after all); audited with who had ticked it. */
export async function untickItem(ctx: AppContext, item: string, actor: string): Promise<boolean> {
  if (!manualItem(item)) throw NotFound('recovery.errors.not_manual');
  return ctx.knex.transaction(async (trx) => {
    const removed = await deleteTick(trx, item);
    if (!removed) return false;
    await recordAudit(trx, actor, 'recovery.untick', `recovery:${item}`, { ticked_by: removed.ticked_by, ticked_at: removed.ticked_at.toISOString() });
    return true;
  });
}
