import http from 'node:http';
import type { Express } from 'express';
import type { FastPath } from './features/feature';

/**
 * The HTTP server: fast paths (the banner, requested on every TOYBOX page
 * view) answer from memory before Express's router; everything else goes to
 * the app.
 */
export function createHttpServer(app: Express, fastPaths: FastPath[]): http.Server {
  const server = http.createServer((req, res) => {
    for (const fast of fastPaths) if (fast(req, res)) return;
    app(req, res);
  });
  server.keepAliveTimeout = 65_000; // longer than common proxies' idle timeout
  return server;
}

export function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}
