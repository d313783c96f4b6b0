import type http from 'node:http';
import type { Router, Request } from 'express';
import type { Command } from 'commander';
import type { AppContext } from '../app-context';
import type { BackgroundWork } from '../jobs/runner';

/** Answers a hot request before Express's router; returns true when it did. */
export type FastPath = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

export interface DashboardPanel {
  /** A view under views/, rendered inside /admin. */
  partial: string;
  locals: Record<string, unknown>;
  /** Shown before the other panels (the recovery checklist). */
  first?: boolean;
}

/** done: nothing left; todo: not started; warn: started but needs attention (stale, partial); fail: broken. */
export type RecoveryState = 'done' | 'todo' | 'warn' | 'fail';

/**
 * One line of the recovery checklist (/admin/recovery), computed live by the
 * feature that owns the facts. Texts are keys under `recovery.` in locales;
 * Date values in `vars` are shown in Japan time.
 */
export interface RecoveryCheck {
  /** Stable id; the checklist's order and titles are keyed by it (src/features/recovery/catalog.ts). */
  id: string;
  state: RecoveryState;
  detail: string;
  vars?: Record<string, string | number | Date>;
  /** While true, /admin opens /admin/recovery first (a critical incident notice is up). */
  urgent?: boolean;
}

/**
 * One capability of the portal. The app mounts each feature's pieces in a
 * fixed order; a feature never reaches into another feature's tables.
 */
export interface Feature {
  name: string;
  /** Mounted before sessions, body parsers and CSRF: webhooks, RFC 8058 one-click POSTs, public JSON. */
  publicRoutes?(ctx: AppContext): Router;
  /** Mounted after sessions and CSRF. */
  routes?(ctx: AppContext): Router;
  /** Served from memory before Express (see src/server.ts). */
  fastPath?(ctx: AppContext): FastPath;
  /**
   * Work this instance runs for its own pages, on every instance (the notice cache's LISTEN, the bootstrap
   * token); returns its stop function. Queue jobs and timers go in `background` instead.
   */
  start?(ctx: AppContext): Promise<() => Promise<void>>;
  /** Handlers for the queue jobs and timers declared in src/jobs/registry.ts (started by src/jobs/runner.ts). */
  background?: BackgroundWork;
  /** A panel on the staff dashboard at /admin. */
  dashboard?(ctx: AppContext, req: Request): Promise<DashboardPanel | null>;
  /** This feature's lines of the recovery checklist, from its own tables (see RecoveryCheck). */
  recoveryChecks?(ctx: AppContext): Promise<RecoveryCheck[]>;
  /** Where /admin should send staff first, or null (the recovery feature uses it during an incident). */
  adminLanding?(ctx: AppContext, req: Request): Promise<string | null>;
  /** Registers the feature's `recovery-portal` subcommands. */
  cli?(program: Command): void;
}
