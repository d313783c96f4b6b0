/**
 * The wipe guard: a new backup whose row counts collapsed against the last
 * good one is kept but marked suspect. Here, an unnoticed `migrate` on an
 * empty volume would otherwise have rotated every good copy away in a week.
 */
export type RowCounts = Record<string, number>;

export interface WipeRule {
  tables: string[];
  /** A drop by more than this fraction (0.5 = half) is suspect. */
  maxDrop: number;
}

export function wipeRuleFrom(config: { BACKUP_WIPE_TABLES: string; BACKUP_WIPE_MAX_DROP: number }): WipeRule {
  const tables = config.BACKUP_WIPE_TABLES.split(',').map((t) => t.trim()).filter(Boolean);
  return { tables, maxDrop: config.BACKUP_WIPE_MAX_DROP };
}

/** Reasons (one per collapsed table) this backup looks like a wipe; empty when it does not. */
export function detectWipe(previous: RowCounts | null, current: RowCounts, rule: WipeRule): string[] {
  if (!previous) return [];
  const reasons: string[] = [];
  for (const table of rule.tables) {
    const before = previous[table] ?? 0;
    const after = current[table] ?? 0;
    if (before === 0) continue;
    if (after === 0) reasons.push(`${table}: ${before} -> 0`);
    else if (after < before * (1 - rule.maxDrop)) reasons.push(`${table}: ${before} -> ${after} (-${Math.round((1 - after / before) * 100)}%)`);
  }
  return reasons;
}
