import type { Lang } from '../../i18n';

export const KINDS = ['incident', 'maintenance'] as const;
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export const INCIDENT_STATES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export const MAINTENANCE_STATES = ['scheduled', 'in_progress', 'completed'] as const;
/** The parts of TOYBOX the status page lists with their own state (Statuspage's components). */
export const COMPONENTS = ['site', 'sign_in', 'uploads', 'cards', 'portal'] as const;
export type Component = (typeof COMPONENTS)[number];
/** States after which a notice leaves the banner and joins the status page's history. */
export const CLOSED_STATES: readonly string[] = ['resolved', 'completed'];

export type Kind = (typeof KINDS)[number];
export type Severity = (typeof SEVERITIES)[number];
export type NoticeState = (typeof INCIDENT_STATES)[number] | (typeof MAINTENANCE_STATES)[number];

export function statesFor(kind: Kind): readonly NoticeState[] {
  return kind === 'maintenance' ? MAINTENANCE_STATES : INCIDENT_STATES;
}

export function closedStateFor(kind: Kind): NoticeState {
  return kind === 'maintenance' ? 'completed' : 'resolved';
}

/** What an editor sets on a notice (times in UTC). */
export interface NoticeFields {
  kind: Kind;
  severity: Severity;
  state: NoticeState;
  title_ja: string;
  title_en: string;
  body_ja: string;
  body_en: string;
  starts_at: Date | null;
  ends_at: Date | null;
  mirror: boolean;
  /** Which components it affects (none: the whole service in general). */
  components: Component[];
}

/** A row of portal.notices. */
export interface NoticeRow extends NoticeFields {
  id: number;
  published_at: Date | null;
  resolved_at: Date | null;
  version: number;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

export interface NoticeUpdateRow {
  id: number;
  notice_id: number;
  at: Date;
  state: NoticeState;
  body_ja: string;
  body_en: string;
  actor: string;
}

export type Bilingual = Record<Lang, string>;

/** A notice as the public sees it: rendered, both languages, no author. */
export interface PublicNotice {
  id: number;
  kind: Kind;
  severity: Severity;
  state: NoticeState;
  version: number;
  title: Bilingual;
  /** HTML of the latest message (the newest timeline update, else the body). */
  message: Bilingual;
  /** The scheduled window in Japan time, for maintenance; empty otherwise. */
  when: Bilingual;
  startsAt: string | null;
  endsAt: string | null;
  publishedAt: string;
  /** When it began: an incident's typed start time (starts_at), else its publish time. Old snapshot files lack it. */
  startedAt?: string;
  /** Affected components; old snapshot files lack it. */
  components?: Component[];
  updatedAt: string;
  resolvedAt: string | null;
  timeline: Array<{ id: number; at: string; state: NoticeState; html: Bilingual }>;
}

/** Everything the public side serves, held in memory and in the snapshot file. */
export interface NoticeSnapshot {
  version: number;
  generatedAt: string;
  active: PublicNotice[];
  /** Closed notices of the last 90 days, newest first. */
  history: PublicNotice[];
}

export const EMPTY_SNAPSHOT: NoticeSnapshot = { version: 0, generatedAt: new Date(0).toISOString(), active: [], history: [] };
