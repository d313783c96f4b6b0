/**
 * Campaign throughput: 10,000 messages through the portal's queue (outbox
 * rows claimed with SKIP LOCKED, 'sending' and 'sent' committed around each
 * SMTP transaction) against the same messages through a bare pooled
 * nodemailer loop, both to one local SMTP sink in this process, rate limit
 * off, in slices alternating which side goes first. Then the import
 * time of a 100,000-row CSV.
 *
 *   npx tsx bench/campaign.ts [--messages 10000] [--rows 100000] [--concurrency 10] [--connections 5] [--rounds 4]
 *
 * Needs PostgreSQL (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres):
 * a scratch database is created and dropped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig, withSessionSecret } from '../src/config';
import { buildContext } from '../src/open-context';
import { createMailer } from '../src/mail/mailer';
import { logger } from '../src/logger';
import { createTestDatabase } from '../test/support/database';
import { startControlledSink } from '../test/support/campaigns-sink';
import { importAddressFile } from '../src/features/campaigns/addresses/service';
import { createCampaign, startSending } from '../src/features/campaigns/lifecycle/service';
import { runCampaign } from '../src/features/campaigns/sending/sender';
import { buildMessage, prepareCampaign } from '../src/features/campaigns/sending/message';
import { getCampaign } from '../src/features/campaigns/lifecycle/service';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    rows: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '5' },
  },
});
const MESSAGES = Number(values.messages);
const ROWS = Number(values.rows);
const CONCURRENCY = Number(values.concurrency);
const CONNECTIONS = Number(values.connections);
const ROUNDS = Number(values.rounds);

const TEXT = '{{display_name}} 様\n\nTOYBOX のデータ消失により、アカウントの再登録をお願いしています。\n{{link}}\n\n配信停止: {{unsubscribe_link}}\n';

async function main() {
  logger.level = 'warn';
  const db = await createTestDatabase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-campaign-'));
  const sink = await startControlledSink();
  const config = withSessionSecret(parseConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, DATA_DIR: dir, SMTP_URL: sink.url, LOG_LEVEL: 'warn' }));
  const mailer = createMailer(config, { pool: true, maxConnections: CONNECTIONS });
  const ctx = await buildContext(config, { mailer });
  try {
    console.log(`campaign bench: ${MESSAGES} messages, ${CONCURRENCY} in flight, ${CONNECTIONS} pooled SMTP connections, ${os.cpus().length} cores`);

    // The messages in ROUNDS slices, alternating which side goes first (bare, portal, portal, bare, ...),
    // so that a busy neighbour on a shared machine weighs on both sides alike.
    const half = Math.floor(MESSAGES / ROUNDS);
    const makeCampaign = async (part: number): Promise<number> => {
      const listFile = path.join(dir, `list${part}.txt`);
      fs.writeFileSync(listFile, Array.from({ length: half }, (_, i) => `bench${part}-${i}@example.org`).join('\n'));
      await importAddressFile(ctx.knex, listFile, { format: 'list' });
      // Campaigns take every known, non-suppressed address: keep the first half out of the second campaign.
      await ctx.knex.raw(`INSERT INTO portal.suppressions (email_key, reason) SELECT email_key, 'manual' FROM portal.addresses WHERE email_key NOT LIKE ? ON CONFLICT DO NOTHING`, [`bench${part}-%`]);
      const { id } = await createCampaign(ctx.knex, { name: `bench ${part}`, subject_ja: 'TOYBOX 再登録のお願い', text_ja: TEXT, rate_per_minute: 0, concurrency: CONCURRENCY }, 'bench');
      return id;
    };

    const cpu = { bare: 0, portal: 0 };
    const cpuMs = (since: NodeJS.CpuUsage) => {
      const u = process.cpuUsage(since);
      return (u.user + u.system) / 1000;
    };
    const bareRun = async (campaignId: number): Promise<number> => {
      // The same rendered messages, straight into the same kind of pooled transport.
      const prepared = prepareCampaign((await getCampaign(ctx.knex, campaignId))!);
      const recipients = await ctx.knex('portal.campaign_recipients').where({ campaign_id: campaignId }).orderBy('id').select('id', 'email', 'display_id', 'name', 'lang');
      const messages = recipients.map((r) => buildMessage(config, prepared, { ...r, id: Number(r.id), message_id: `<bare-${r.id}@bench>` }));
      const bare = createMailer(config, { pool: true, maxConnections: CONNECTIONS });
      sink.received.length = 0;
      let next = 0;
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < messages.length) await bare.send(messages[next++]!);
        }),
      );
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      cpu.bare += cpuMs(cpu0);
      bare.close();
      if (sink.received.length !== messages.length) throw new Error(`baseline delivered ${sink.received.length}`);
      return secs;
    };

    const portalRun = async (campaignId: number): Promise<number> => {
      // Claim, commit 'sending', SMTP, commit 'sent', per recipient, rendering included.
      sink.received.length = 0;
      await startSending(ctx.knex, campaignId, 'bench');
      const cpu0 = process.cpuUsage();
      const t1 = process.hrtime.bigint();
      const outcome = await runCampaign(ctx, campaignId, { concurrency: CONCURRENCY });
      const secs = Number(process.hrtime.bigint() - t1) / 1e9;
      cpu.portal += cpuMs(cpu0);
      const perRecipient = sink.countByRecipient();
      if (outcome !== 'completed' || sink.received.length !== half || [...perRecipient.values()].some((n) => n !== 1)) {
        throw new Error(`portal run: ${outcome}, ${sink.received.length} delivered`);
      }
      return secs;
    };

    const bareSecs: number[] = [];
    const portalSecs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const id = await makeCampaign(round);
      if (round % 2 === 0) {
        bareSecs.push(await bareRun(id));
        portalSecs.push(await portalRun(id));
      } else {
        portalSecs.push(await portalRun(id));
        bareSecs.push(await bareRun(id));
      }
    }
    const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const bareRate = (ROUNDS * half) / total(bareSecs);
    const portalRate = (ROUNDS * half) / total(portalSecs);
    console.log(`bare pooled nodemailer loop : ${bareRate.toFixed(0)} msgs/s (${bareSecs.map((x) => x.toFixed(2)).join(' + ')} s)`);
    console.log(`portal queue (outbox rows)  : ${portalRate.toFixed(0)} msgs/s (${portalSecs.map((x) => x.toFixed(2)).join(' + ')} s), every recipient exactly once`);
    console.log(`ratio portal / bare         : ${(portalRate / bareRate).toFixed(2)} (goal >= 0.80)`);
    console.log(`CPU of this process per msg : bare ${(cpu.bare / (ROUNDS * half)).toFixed(3)} ms, portal ${(cpu.portal / (ROUNDS * half)).toFixed(3)} ms (the SMTP sink runs in it too)`);

    // Import: a 100,000-row CSV in one go.
    const csv = path.join(dir, 'big.csv');
    const lines = ['メールアドレス,表示ID,名前'];
    for (let i = 0; i < ROWS; i++) lines.push(`Import.${i}@Example.JP,user_${i},利用者${i}`);
    fs.writeFileSync(csv, lines.join('\r\n'));
    const t2 = process.hrtime.bigint();
    const r = await importAddressFile(ctx.knex, csv);
    const importSecs = Number(process.hrtime.bigint() - t2) / 1e9;
    console.log(`import ${ROWS} rows (CSV)     : ${importSecs.toFixed(2)} s (${(ROWS / importSecs).toFixed(0)} rows/s), imported ${r.imported}, rejected ${r.rejected.length}`);
    const t3 = process.hrtime.bigint();
    const again = await importAddressFile(ctx.knex, csv);
    const againSecs = Number(process.hrtime.bigint() - t3) / 1e9;
    console.log(`re-import same file         : ${againSecs.toFixed(2)} s, imported ${again.imported}, unchanged ${again.unchanged}`);
  } finally {
    await ctx.close();
    await sink.close();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
