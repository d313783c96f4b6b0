import type { Lang, Translate } from '../i18n';
import type { PortalUser } from '../auth/user';

declare global {
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends PortalUser {}
    interface Request {
      lang: Lang;
      t: Translate;
      /** Set by http/validate.ts; read it typed through the validator's `of(req)`. */
      valid?: unknown;
    }
  }
}

export {};
