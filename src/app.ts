import path from 'node:path';
import crypto from 'node:crypto';
import express, { type Express } from 'express';
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import { pinoHttp } from 'pino-http';
import type { AppContext } from './app-context';
import { logger } from './logger';
import { redactRequestPath } from './http/redact-url';
import { securityHeaders } from './http/security';
import { i18nMiddleware } from './http/language';
import { csrfProtection, csrfToken } from './http/csrf';
import { normaliseBody } from './http/multipart';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { configurePassport } from './auth/passport';
import { hashGateFrom } from './auth/hash-gate';
import { refuseSignInWhileSaturated } from './auth/busy';
import { authRoutes } from './auth/routes';
import { pageRoutes } from './pages/routes';
import { adminRoutes } from './admin/routes';
import { capturedMailRoutes } from './mail/captured/routes';
import { healthRoutes } from './http/health-routes';
import { features as allFeatures } from './features';
import type { Feature } from './features/feature';

const ROOT = path.resolve(__dirname, '..');

function trustProxySetting(value: string): boolean | string | number {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/** Builds the Express app. It never listens: src/server.ts does, and tests run it in process. */
export function createApp(ctx: AppContext, features: Feature[] = allFeatures): Express {
  const { config, knex } = ctx;
  const app = express();
  app.set('trust proxy', trustProxySetting(config.TRUST_PROXY));
  app.set('view engine', 'ejs');
  app.set('views', path.join(ROOT, 'views'));
  app.disable('x-powered-by');

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const id = crypto.randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // Tokens must never land in the logs: no query strings, and path tokens redacted (src/http/redact-url.ts).
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, path: redactRequestPath(req.url) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' },
    }),
  );
  app.use(securityHeaders);
  app.use(i18nMiddleware);
  app.use('/static', express.static(path.join(ROOT, 'public'), { maxAge: '1h', index: false }));
  app.use(healthRoutes(ctx));
  const hashGate = hashGateFrom(config);
  app.use(refuseSignInWhileSaturated(hashGate));

  for (const feature of features) if (feature.publicRoutes) app.use(feature.publicRoutes(ctx));

  app.use(express.urlencoded({ extended: false, limit: '1mb' }));
  app.use(express.json({ limit: '1mb' }));
  const PgStore = connectPgSimple(session);
  const secure = config.PUBLIC_URL.startsWith('https://');
  app.use(
    session({
      name: secure ? '__Host-portal.sid' : 'portal.sid',
      secret: config.SESSION_SECRET,
      store: new PgStore({
        pool: ctx.pgPool,
        schemaName: 'portal',
        tableName: 'sessions',
        createTableIfMissing: false,
        pruneSessionInterval: 600,
        // The store's own errors (a prune racing a closing pool) go to the portal's log, not to the console.
        errorLog: (...args: unknown[]) => logger.warn({ err: args.find((a) => a instanceof Error) }, String(args[0])),
      }),
      resave: false,
      saveUninitialized: false,
      rolling: true,
      proxy: config.TRUST_PROXY !== 'false',
      cookie: { httpOnly: true, sameSite: 'lax', secure, maxAge: 8 * 3600 * 1000, path: '/' },
    }),
  );
  const passport = configurePassport(knex, hashGate);
  app.use(passport.initialize());
  app.use(passport.session());
  app.use(csrfProtection);
  app.use(normaliseBody);
  app.use((req, res, next) => {
    res.locals.user = req.user ?? null;
    res.locals.csrfToken = () => csrfToken(req);
    res.locals.path = req.path;
    res.locals.toyboxUrl = config.TOYBOX_URL;
    res.locals.publicUrl = config.PUBLIC_URL;
    next();
  });

  app.use(pageRoutes(ctx));
  app.use(authRoutes(ctx));
  app.use(adminRoutes(ctx, features));
  app.use(capturedMailRoutes(ctx));
  for (const feature of features) if (feature.routes) app.use(feature.routes(ctx));

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
