/**
 * What noting the banner's origin (for /admin/recovery) costs the fast path:
 * the real /banner.js handler called in process, with no Origin (nothing
 * recorded, the baseline), with TOYBOX's Origin, and with only a Referer
 * (parsed to its origin). Alternating slices in one run; prints ns/request
 * and the ratio to the baseline.
 *
 *   npx tsx bench/banner-sightings.ts     (BENCH_ITERATIONS=200000 BENCH_ROUNDS=5)
 */
import type http from 'node:http';
import { parseConfig, withSessionSecret } from '../src/config';
import { buildContext } from '../src/open-context';
import { createNoticeFastPath } from '../src/features/notice/fast-path';
import { flushSightings, readSightings } from '../src/sightings';
import { createTestDatabase } from '../test/support/database';
import { tempDir } from '../test/support/portal';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TOYBOX = 'https://toybox.example';

/** Just enough of a ServerResponse for the handler: it only calls writeHead and end. */
const res = { writeHead: () => res, end: () => undefined } as unknown as http.ServerResponse;

function request(headers: Record<string, string>): http.IncomingMessage {
  return { url: '/banner.js', method: 'GET', headers } as unknown as http.IncomingMessage;
}

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const config = withSessionSecret(parseConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, DATA_DIR: tempDir(), LOG_LEVEL: 'silent', TOYBOX_URL: TOYBOX }));
  const ctx = await buildContext(config);
  const fast = createNoticeFastPath(ctx);
  const cases: Array<[string, http.IncomingMessage]> = [
    ['no Origin (baseline)', request({})],
    ['Origin: TOYBOX', request({ origin: TOYBOX })],
    ['Referer only', request({ referer: `${TOYBOX}/posts/12?x=1` })],
  ];
  const totals = new Map<string, number>(cases.map(([n]) => [n, 0]));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, req] of cases) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < ITERATIONS; i += 1) fast(req, res);
      totals.set(name, totals.get(name)! + Number(process.hrtime.bigint() - t0));
    }
  }
  await flushSightings(ctx.knex);
  const seen = await readSightings(ctx.knex, 'banner_origin');
  const base = totals.get(cases[0]![0])! / (ROUNDS * ITERATIONS);
  console.log(`fast path /banner.js, in process, ${ROUNDS} x ${ITERATIONS} calls per case (alternating)`);
  for (const [name] of cases) {
    const ns = totals.get(name)! / (ROUNDS * ITERATIONS);
    console.log(`${name.padEnd(22)} ${ns.toFixed(0).padStart(6)} ns/request   ratio ${(ns / base).toFixed(2)}`);
  }
  console.log(`recorded: ${seen.map((s) => `${s.key} x${s.hits}`).join(', ')} (one upsert per 5 s window)`);
  await ctx.close();
  await db.drop();
}

void main();
