import type { Express } from 'express';

/** One method and path the app answers, as registered (Express path syntax). */
export interface RegisteredRoute {
  method: string;
  path: string;
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

/**
 * Every route the app registers, read from Express 5's router (nested
 * routers included), so a test walking it covers routes added later.
 * `router.all(...)` is reported as method ALL.
 */
export function registeredRoutes(app: Express): RegisteredRoute[] {
  const out: RegisteredRoute[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const method of Object.keys(layer.route.methods)) {
          for (const p of paths) out.push({ method: method === '_all' ? 'ALL' : method.toUpperCase(), path: prefix + p });
        }
      } else if (layer.handle?.stack) {
        if (typeof layer.rawPath !== 'string') throw new Error(`cannot read a router mounted on ${String(layer.rawPath)}`);
        walk(layer.handle.stack, prefix + (layer.rawPath === '/' ? '' : layer.rawPath));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out;
}

/** The routes that may change state: everything but GET, HEAD and OPTIONS. */
export function stateChangingRoutes(app: Express): RegisteredRoute[] {
  return registeredRoutes(app).filter((r) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method));
}
