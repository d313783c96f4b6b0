/**
 * The checklist, in the order of the first-hour runbook (docs/runbooks/first-hour.*.md)
 * and of `recovery-portal doctor`: tonight, this week, this month. Each line's
 * state comes from the feature named as its provider (Feature.recoveryChecks),
 * or, for what the portal cannot know, from a hand tick.
 */
export type Section = 'tonight' | 'week' | 'month';

export interface CatalogItem {
  id: string;
  section: Section;
  /** The feature whose recoveryChecks reports this line; 'manual' for hand-ticked lines. */
  provider: string;
  /** The page that does it. */
  href?: string;
  /** Or the one command that does it. */
  command?: string;
}

export const CATALOG: readonly CatalogItem[] = [
  { id: 'admin', section: 'tonight', provider: 'bootstrap', href: '/setup', command: 'recovery-portal admin create --email EMAIL --display-id ID' },
  { id: 'notice', section: 'tonight', provider: 'notice', href: '/admin/notices/new', command: 'recovery-portal notice publish --severity critical --title-ja TITLE --body-ja BODY' },
  { id: 'notice_mail', section: 'tonight', provider: 'notice', href: '/admin/notices' },
  { id: 'salvage', section: 'tonight', provider: 'salvage', href: '/admin/salvage', command: 'recovery-portal salvage find ROOT...' },
  { id: 'addresses', section: 'tonight', provider: 'campaigns', href: '/admin/campaigns/import', command: 'recovery-portal addresses import FILE' },
  { id: 'invitations', section: 'tonight', provider: 'campaigns', href: '/admin/campaigns', command: 'recovery-portal campaign send ID' },
  { id: 'backup_database', section: 'tonight', provider: 'backups', href: '/admin/backups', command: 'recovery-portal backup run' },
  { id: 'claims', section: 'week', provider: 'claims', href: '/admin/claims' },
  { id: 'backup_media', section: 'week', provider: 'backups', href: '/admin/backups', command: 'recovery-portal backup run --media' },
  { id: 'offhost', section: 'week', provider: 'backups', href: '/admin/backups', command: 'BACKUP_OFFHOST_COMMAND=... recovery-portal backup run' },
  { id: 'disk', section: 'week', provider: 'backups', href: '/admin/backups', command: 'recovery-portal doctor' },
  { id: 'provider_disk_check', section: 'week', provider: 'manual' },
  { id: 'vps_snapshots', section: 'week', provider: 'manual' },
  { id: 'alerts', section: 'month', provider: 'backups', href: '/admin/backups', command: 'recovery-portal backup test-alert' },
  { id: 'metrics', section: 'month', provider: 'backups', command: 'curl -fsS -H "Authorization: Bearer $METRICS_TOKEN" $PUBLIC_URL/metrics' },
  { id: 'staging', section: 'month', provider: 'manual' },
  { id: 'runbooks_read', section: 'month', provider: 'manual', href: '/admin/recovery#runbooks' },
];

export const SECTIONS: readonly Section[] = ['tonight', 'week', 'month'];

export function manualItem(id: string): CatalogItem | undefined {
  return CATALOG.find((i) => i.id === id && i.provider === 'manual');
}
