/**
 * Campaign throughput: 10,000 messages through the portal's queue (outbox
 * rows claimed with SKIP LOCKED, 'sending' and 'sent' committed around each
 * SMTP transaction) against the same messages through a bare pooled
 * nodemailer loop, both to one local SMTP sink in this process, rate limit
 * off. Then the import time of a 100,000-row CSV.
 *
 *   npx tsx bench/campaign.ts [--messages 10000] [--rows 100000] [--concurrency 10]
 *
 * Needs PostgreSQL (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres):
 * a scratch database is created and dropped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig, withSessionSecret } from '../src/config';
import { buildContext } from '../src/context';
import { createMailer } from '../src/mail/mailer';
import { logger } from '../src/logger';
import { createTestDatabase } from '../test/support/database';
import { startControlledSink } from '../test/support/campaigns-sink';
import { importAddressFile } from '../src/features/campaigns/addresses/service';
import { createCampaign, startSending } from '../src/features/campaigns/service';
import { runCampaign } from '../src/features/campaigns/sender';
import { buildMessage, prepareCampaign } from '../src/features/campaigns/message';
import { getCampaign } from '../src/features/campaigns/service';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    rows: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '10' },
    connections: { type: 'string', default: '5' },
  },
});
const MESSAGES = Number(values.messages);
const ROWS = Number(values.rows);
const CONCURRENCY = Number(values.concurrency);
const CONNECTIONS = Number(values.connections);

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

    const listFile = path.join(dir, 'list.txt');
    fs.writeFileSync(listFile, Array.from({ length: MESSAGES }, (_, i) => `bench${i}@example.org`).join('\n'));
    await importAddressFile(ctx.knex, listFile, { format: 'list' });
    const { id } = await createCampaign(ctx.knex, { name: 'bench', subject_ja: 'TOYBOX 再登録のお願い', text_ja: TEXT, rate_per_minute: 0, concurrency: CONCURRENCY }, 'bench');

    // Baseline: the same rendered messages, straight into the same kind of pooled transport.
    const prepared = prepareCampaign((await getCampaign(ctx.knex, id))!);
    const recipients = await ctx.knex('portal.campaign_recipients').where({ campaign_id: id }).orderBy('id').select('id', 'email', 'display_id', 'name', 'lang');
    const messages = recipients.map((r) => buildMessage(config, prepared, { ...r, id: Number(r.id), message_id: `<bare-${r.id}@bench>` }));
    const bare = createMailer(config, { pool: true, maxConnections: CONNECTIONS });
    sink.received.length = 0;
    let next = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < messages.length) await bare.send(messages[next++]!);
      }),
    );
    const bareSecs = Number(process.hrtime.bigint() - t0) / 1e9;
    bare.close();
    if (sink.received.length !== MESSAGES) throw new Error(`baseline delivered ${sink.received.length}`);
    const bareRate = MESSAGES / bareSecs;
    console.log(`bare pooled nodemailer loop : ${bareRate.toFixed(0)} msgs/s (${bareSecs.toFixed(2)} s)`);

    // The portal: claim, commit 'sending', SMTP, commit 'sent', per recipient, rendering included.
    sink.received.length = 0;
    await startSending(ctx.knex, id, 'bench');
    const t1 = process.hrtime.bigint();
    const outcome = await runCampaign(ctx, id, { concurrency: CONCURRENCY });
    const portalSecs = Number(process.hrtime.bigint() - t1) / 1e9;
    const perRecipient = sink.countByRecipient();
    if (outcome !== 'completed' || sink.received.length !== MESSAGES || [...perRecipient.values()].some((n) => n !== 1)) {
      throw new Error(`portal run: ${outcome}, ${sink.received.length} delivered`);
    }
    const portalRate = MESSAGES / portalSecs;
    console.log(`portal queue (outbox rows)  : ${portalRate.toFixed(0)} msgs/s (${portalSecs.toFixed(2)} s), every recipient exactly once`);
    console.log(`ratio portal / bare         : ${(portalRate / bareRate).toFixed(2)} (goal >= 0.80)`);

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
