import type http from 'node:http';
import type { Router, Request } from 'express';
import type { Command } from 'commander';
import type { AppContext } from '../app-context';

/** Answers a hot request before Express's router; returns true when it did. */
export type FastPath = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

export interface DashboardPanel {
  /** A view under views/, rendered inside /admin. */
  partial: string;
  locals: Record<string, unknown>;
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
  /** Background work started by the server process (workers, schedules, listeners); returns its stop function. */
  start?(ctx: AppContext): Promise<() => Promise<void>>;
  /**
   * True when `start` serves this instance's own pages (the notice cache, the
   * bootstrap token) and must run even with WORKER=false; otherwise `start` is
   * queue/schedule work that only worker instances run.
   */
  startOnEveryInstance?: boolean;
  /** A panel on the staff dashboard at /admin. */
  dashboard?(ctx: AppContext, req: Request): Promise<DashboardPanel | null>;
  /** Registers the feature's `recovery-portal` subcommands. */
  cli?(program: Command): void;
}
