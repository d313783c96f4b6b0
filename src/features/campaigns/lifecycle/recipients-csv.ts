import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Knex } from 'knex';
import { recipientsForExport } from './repo';
import { csvRecord } from '../../../files/csv-cell';

const COLUMNS = [
  'email', 'display_id', 'lang', 'status', 'attempts', 'last_error', 'skip_reason',
  'sent_at', 'clicked_at', 'unsubscribed_at', 'soft_bounces', 'hard_bounced_at', 'reregistered',
] as const;

/** Per-recipient status as CSV (UTF-8 with BOM so Japanese Excel opens it), streamed row by row. */
export async function streamRecipientsCsv(knex: Knex, campaignId: number, out: Writable): Promise<void> {
  out.write(`\ufeff${COLUMNS.join(',')}\r\n`);
  const stream = recipientsForExport(knex, campaignId);
  for await (const row of stream as AsyncIterable<Record<string, unknown>>) {
    if (!out.write(csvRecord(COLUMNS.map((c) => row[c])))) await once(out, 'drain');
  }
  out.end();
}
