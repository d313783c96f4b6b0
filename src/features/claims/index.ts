import type { Feature } from '../feature';
import { claimsRoutes } from './routes';
import { registerClaimsCli } from './cli';
import { claimCounts } from './service';
import { claimsRecoveryChecks } from './recovery';
import { claimsBackground } from './mail';

/**
 * Claims and restore: a re-registered person proves an old account was theirs
 * (original files, a confirmed e-mail, or a statement for staff) and gets
 * its posts, profile pictures and cards back into their new account.
 */
export const feature: Feature = {
  name: 'claims',
  routes: claimsRoutes,
  async dashboard(ctx) {
    return { partial: 'claims/panel', locals: { claimCounts: await claimCounts(ctx) } };
  },
  recoveryChecks: claimsRecoveryChecks,
  cli: registerClaimsCli,
  background: claimsBackground,
};
