import { Router } from 'express';
import type { AppContext } from '../../app-context';
import { addressImportRoutes } from './addresses/import-routes';
import { addressBookRoutes } from './address-book/routes';
import { bounceWebhookRoutes } from './bounces/webhook-routes';
import { campaignConfirmRoutes } from './confirm/routes';
import { campaignAdminRoutes } from './lifecycle/routes';
import { oneClickUnsubscribeRoutes } from './links/public-routes';
import { unsubscribePageRoutes } from './links/routes';
import { reregisterRoutes } from './reregister/routes';
import { testSendRoutes } from './sending/test-send-routes';

/** Answered before the session (no cookie, no CSRF token): one-click unsubscribe and the bounce webhook. */
export function campaignPublicRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(oneClickUnsubscribeRoutes(ctx));
  router.use(bounceWebhookRoutes(ctx));
  return router;
}

/** Every campaigns page behind the session, in the order that matters. */
export function campaignRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(unsubscribePageRoutes(ctx)); // /u/:token (signed link)
  router.use(reregisterRoutes(ctx)); // /r/:token (signed link)
  // Static paths (/admin/campaigns/import, /addresses, /suppressions) and the confirmation steps before /admin/campaigns/:id/:action.
  router.use(addressImportRoutes(ctx));
  router.use(campaignConfirmRoutes(ctx)); // the confirmation steps before the actions they guard
  router.use(testSendRoutes(ctx));
  router.use(addressBookRoutes(ctx));
  router.use(campaignAdminRoutes(ctx));
  return router;
}
