import type { Feature } from '../feature';
import { isStaff } from '../../auth/user';
import { recoveryRoutes } from './routes';
import { buildChecklist, type Checklist } from './service';
import type { Request } from 'express';
import type { AppContext } from '../../app-context';
import { registerDoctorCommand } from './doctor-cli';
import { registerRehearsalCommand } from './rehearsal-cli';

/** /admin asks twice (landing, then the panel): one computation per request. */
const perRequest = new WeakMap<Request, Promise<Checklist>>();
function checklistFor(ctx: AppContext, req: Request): Promise<Checklist> {
  let p = perRequest.get(req);
  if (!p) {
    p = buildChecklist(ctx);
    perRequest.set(req, p);
  }
  return p;
}

/**
 * The recovery command center: /admin/recovery (every checklist line computed
 * live from the features' recoveryChecks), where /admin sends staff first
 * during an incident, `recovery-portal doctor` and `recovery-portal drill`.
 */
export const feature: Feature = {
  name: 'recovery',
  routes: recoveryRoutes,
  // During an incident (a critical notice is up, or no good backup exists) /admin opens the checklist; ?stay=1 opts out.
  async adminLanding(ctx, req) {
    if (req.query.stay !== undefined || !isStaff(req.user)) return null;
    return (await checklistFor(ctx, req)).urgent ? '/admin/recovery' : null;
  },
  async dashboard(ctx, req) {
    if (!isStaff(req.user)) return null;
    const list = await checklistFor(ctx, req);
    return { partial: 'recovery/panel', first: true, locals: { done: list.done, total: list.total, urgent: list.urgent } };
  },
  cli(program) {
    registerDoctorCommand(program);
    registerRehearsalCommand(program);
  },
};
