import fs from 'node:fs';
import type { Command } from 'commander';
import { CliError, withContext, printJson } from '../../cli/run-command';
import { EXIT } from '../../cli/exit-codes';
import { cliActor } from '../../audit/service';
import { importAddressFile, NotAMailFolder } from './addresses/service';
import { MappingError, type ImportFormat, type InputEncoding } from './addresses/parse';
import {
  createCampaign,
  startSending,
  pauseCampaign,
  resumeCampaign,
  cancelCampaign,
  retryFailed,
  scheduleCampaign,
  getCampaign,
  campaignProgress,
  CampaignInvalid,
  CampaignStateError,
} from './lifecycle/service';
import { runCampaign, DEFAULT_LEASE_SECONDS } from './sending/sender';
import { importBounceMbox } from './bounces/service';
import { terminalProgress } from '../../cli/progress-bar';
import { normaliseAddress } from './addresses/normalise';
import { formatJst } from '../../i18n/tokyo-time';
import { blockAddress } from './addresses/suppressions';

const readText = (file: string) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, EXIT.invalid);
  }
};

function campaignId(value: string): number {
  if (!/^\d+$/.test(value)) throw new CliError(`campaign id must be a number, got "${value}"`, EXIT.invalid);
  return Number(value);
}

function intOption(name: string, min: number, max: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`${name} must be a whole number from ${min} to ${max}`, EXIT.invalid);
    return n;
  };
}

async function stateful<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CampaignStateError) throw new CliError(err.message, EXIT.refused);
    throw err;
  }
}

function registerAddresses(program: Command): void {
  const addresses = program.command('addresses').description('known addresses for re-registration campaigns');
  addresses
    .command('import <file>')
    .description('import addresses from a CSV/TSV, a plain list, a mail log, an mbox or a folder of .eml files')
    .option('--format <format>', 'csv | list | maillog | mbox (detected when omitted)')
    .option('--encoding <encoding>', 'utf-8 | shift_jis (detected when omitted)')
    .option('--column <name>', 'the address column: header name or 1-based number (found by header or content when omitted)')
    .option('--source <label>', 'source label kept on each address (default: format:file name)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { format?: string; encoding?: string; column?: string; source?: string; json?: boolean }) => {
      if (opts.format && !['csv', 'list', 'maillog', 'mbox'].includes(opts.format)) throw new CliError('--format must be csv, list, maillog or mbox', EXIT.invalid);
      const encoding = opts.encoding?.toLowerCase().replace('sjis', 'shift_jis').replace('cp932', 'shift_jis').replace('utf8', 'utf-8');
      if (encoding && !['utf-8', 'shift_jis'].includes(encoding)) throw new CliError('--encoding must be utf-8 or shift_jis', EXIT.invalid);
      if (!fs.existsSync(file)) throw new CliError(`no such file: ${file}`, EXIT.invalid);
      await withContext(async (ctx) => {
        const bar = terminalProgress('importing', { piped: 'lines' });
        const started = Date.now();
        let result;
        try {
          result = await importAddressFile(
            ctx.knex,
            file,
            { format: opts.format as ImportFormat | undefined, encoding: encoding as InputEncoding | undefined, column: opts.column, source: opts.source },
            (done, total) => bar.update(done, total, '', done === total),
          );
        } catch (err) {
          if (err instanceof MappingError) throw new CliError(`${err.message} (use --column)`, EXIT.invalid);
          if (err instanceof NotAMailFolder) throw new CliError(err.message, EXIT.invalid);
          throw err;
        }
        bar.stop();
        if (opts.json) return printJson({ ...result, seconds: (Date.now() - started) / 1000 });
        const out = process.stdout;
        out.write(`format: ${result.format}, rows: ${result.total}\n`);
        out.write(`imported: ${result.imported}\nmerged: ${result.merged} (unchanged: ${result.unchanged})\nrejected: ${result.rejected.length}\n`);
        for (const r of result.rejected) out.write(`  ${r.file ? `${r.file}:` : 'line '}${r.line}: ${r.reason} ${JSON.stringify(r.value)}\n`);
      });
    });

  addresses
    .command('block <email...>')
    .description('add addresses to the suppression list (never mailed by any campaign)')
    .option('--reason <text>', 'note kept with the block')
    .action(async (emails: string[], o: { reason?: string }) => {
      const keys = emails.map((e) => {
        const n = normaliseAddress(e);
        if (!n.ok) throw new CliError(`not an address: ${e} (${n.reason})`, EXIT.invalid);
        return n.key;
      });
      await withContext(async (ctx) => {
        for (const k of keys) process.stdout.write(`${k}: ${(await blockAddress(ctx.knex, k, o.reason ?? `blocked by ${cliActor()}`, cliActor())) ? 'blocked' : 'already suppressed'}\n`);
      });
    });
}

function printProgress(label: string) {
  const bar = terminalProgress(label, { piped: 'lines' });
  const started = Date.now();
  let firstSent: number | null = null;
  return {
    bar,
    onProgress(c: { sent: number; failed: number; skipped: number; total: number; queued: number; sending: number }, force = false) {
      firstSent ??= c.sent;
      const secs = (Date.now() - started) / 1000;
      const rate = secs > 0 ? (c.sent - firstSent) / secs : 0;
      const left = c.queued + c.sending;
      const eta = rate > 0 ? `${Math.ceil(left / rate)}s` : '-';
      bar.update(c.sent + c.failed + c.skipped, c.total, `sent ${c.sent} failed ${c.failed} skipped ${c.skipped} ${rate.toFixed(1)}/s ETA ${eta}`, force);
    },
  };
}

function registerCampaign(program: Command): void {
  const campaign = program.command('campaign').description('re-registration campaigns (exactly one message per recipient)');

  campaign
    .command('create')
    .description('create a draft campaign with every imported, non-suppressed address; prints its id')
    .requiredOption('--name <name>', 'campaign name (for admins)')
    .requiredOption('--subject-ja <subject>', 'Japanese subject')
    .requiredOption('--text-ja <file>', 'Japanese plain-text body ({{display_name}}, {{link}}, {{unsubscribe_link}} ...)')
    .option('--html-ja <file>', 'Japanese HTML body')
    .option('--subject-en <subject>', 'English subject')
    .option('--text-en <file>', 'English plain-text body')
    .option('--html-en <file>', 'English HTML body')
    .option('--rate <perMinute>', 'messages per minute, 0 = no limit', intOption('--rate', 0, 1_000_000), 60)
    .option('--concurrency <n>', 'parallel SMTP transactions per sending process', intOption('--concurrency', 1, 50), 2)
    .option('--pause-after <n>', 'pause after this many consecutive failures', intOption('--pause-after', 1, 100000), 10)
    .option('--json', 'print the result as JSON')
    .action(async (o: Record<string, string | number | boolean | undefined>) => {
      const input = {
        name: String(o.name),
        subject_ja: String(o.subjectJa),
        text_ja: readText(String(o.textJa)),
        html_ja: o.htmlJa ? readText(String(o.htmlJa)) : null,
        subject_en: o.subjectEn ? String(o.subjectEn) : null,
        text_en: o.textEn ? readText(String(o.textEn)) : null,
        html_en: o.htmlEn ? readText(String(o.htmlEn)) : null,
        rate_per_minute: Number(o.rate),
        concurrency: Number(o.concurrency),
        pause_after_failures: Number(o.pauseAfter),
      };
      await withContext(async (ctx) => {
        try {
          const r = await createCampaign(ctx.knex, input, cliActor());
          if (o.json) printJson(r);
          else {
            process.stdout.write(`${r.id}\n`);
            process.stderr.write(`campaign ${r.id} created (draft) with ${r.recipients} recipients\n`);
          }
        } catch (err) {
          if (err instanceof CampaignInvalid) throw new CliError(`template rejected: ${err.message}`, EXIT.invalid);
          throw err;
        }
      });
    });

  campaign
    .command('send <id>')
    .description('send in the foreground with a progress bar until done (safe to interrupt and run again)')
    .option('--lease <seconds>', 'lease on claimed rows before another sender may take them over', intOption('--lease', 1, 3600), DEFAULT_LEASE_SECONDS)
    .option('--quiet', 'no progress bar')
    .action(async (idArg: string, o: { lease: number; quiet?: boolean }) => {
      const id = campaignId(idArg);
      await withContext(async (ctx) => {
        const c = await getCampaign(ctx.knex, id);
        if (!c) throw new CliError(`campaign ${id} not found`, EXIT.notFound);
        if (c.status === 'draft' || c.status === 'scheduled') await stateful(() => startSending(ctx.knex, id, cliActor()));
        else if (c.status === 'paused') throw new CliError(`campaign ${id} is paused (${c.pause_reason ?? ''}); run \`campaign resume ${id}\` first`, EXIT.refused);
        else if (c.status === 'cancelled') throw new CliError(`campaign ${id} is cancelled`, EXIT.refused);
        const abort = new AbortController();
        const stop = () => {
          process.stderr.write('\nstopping after the messages in flight...\n');
          abort.abort();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        const p = printProgress(`campaign ${id}`);
        try {
          const outcome = await runCampaign(ctx, id, { leaseSeconds: o.lease, signal: abort.signal, onProgress: o.quiet ? undefined : p.onProgress });
          const final = await campaignProgress(ctx.knex, (await getCampaign(ctx.knex, id))!);
          if (!o.quiet) {
            p.onProgress(final, true);
            p.bar.stop();
          }
          process.stdout.write(`${outcome}: sent ${final.sent}, failed ${final.failed}, skipped ${final.skipped}, remaining ${final.remaining}\n`);
          if (outcome === 'paused') throw new CliError(`campaign paused: ${final.pause_reason ?? ''}`, EXIT.refused);
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      });
    });

  campaign
    .command('schedule <id>')
    .description("start sending at a given time (the server's worker starts it)")
    .requiredOption('--at <time>', 'ISO 8601 time, e.g. 2026-12-01T10:00:00+09:00')
    .action(async (idArg: string, o: { at: string }) => {
      const id = campaignId(idArg);
      const at = new Date(o.at);
      if (Number.isNaN(at.getTime())) throw new CliError(`--at is not a time: ${o.at}`, EXIT.invalid);
      await withContext(async (ctx) => {
        if (!(await getCampaign(ctx.knex, id))) throw new CliError(`campaign ${id} not found`, EXIT.notFound);
        await stateful(() => scheduleCampaign(ctx.knex, id, at, cliActor()));
        process.stdout.write(`campaign ${id}: scheduled for ${formatJst(at)}\n`);
      });
    });

  campaign
    .command('status <id>')
    .description('counts per recipient state, rate and funnel')
    .option('--json', 'print as JSON')
    .action(async (idArg: string, o: { json?: boolean }) => {
      const id = campaignId(idArg);
      await withContext(async (ctx) => {
        const c = await getCampaign(ctx.knex, id);
        if (!c) throw new CliError(`campaign ${id} not found`, EXIT.notFound);
        const p = await campaignProgress(ctx.knex, c);
        if (o.json) return printJson({ id, name: c.name, ...p });
        process.stdout.write(`campaign ${id} "${c.name}": ${p.status}${p.pause_reason ? ` (${p.pause_reason})` : ''}\n`);
        process.stdout.write(`queued ${p.queued}, sending ${p.sending}, sent ${p.sent}, failed ${p.failed}, skipped ${p.skipped}, total ${p.total}\n`);
        process.stdout.write(`funnel: imported ${p.total} -> sent ${p.sent} -> clicked ${p.clicked} -> re-registered ${p.reregistered}\n`);
      });
    });

  const simple: Array<[string, string, (k: Parameters<typeof pauseCampaign>[0], id: number, actor: string) => Promise<unknown>]> = [
    ['pause', 'stop claiming new recipients (messages in flight finish)', pauseCampaign],
    ['resume', 'continue a paused campaign from where it stopped', resumeCampaign],
    ['cancel', 'stop for good; recipients not yet sent are never sent', cancelCampaign],
  ];
  for (const [name, description, fn] of simple) {
    campaign
      .command(`${name} <id>`)
      .description(description)
      .action(async (idArg: string) => {
        const id = campaignId(idArg);
        await withContext(async (ctx) => {
          if (!(await getCampaign(ctx.knex, id))) throw new CliError(`campaign ${id} not found`, EXIT.notFound);
          await stateful(() => fn(ctx.knex, id, cliActor()));
          process.stdout.write(`campaign ${id}: ${(await getCampaign(ctx.knex, id))!.status}\n`);
        });
      });
  }

  campaign
    .command('retry-failed <id>')
    .description('queue the recipients whose send failed for a new pass (never those already sent)')
    .action(async (idArg: string) => {
      const id = campaignId(idArg);
      await withContext(async (ctx) => {
        if (!(await getCampaign(ctx.knex, id))) throw new CliError(`campaign ${id} not found`, EXIT.notFound);
        const n = await stateful(() => retryFailed(ctx.knex, id, cliActor()));
        process.stdout.write(`requeued ${n} failed recipients; run \`campaign send ${id}\` (or let the server's worker) to send them\n`);
      });
    });

  campaign
    .command('bounces <file>')
    .description('import an mbox of RFC 3464 delivery-status reports (hard bounces suppress, soft ones count) and mailto: unsubscribe requests')
    .option('--json', 'print as JSON')
    .action(async (file: string, o: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const r = await importBounceMbox(ctx.knex, await fs.promises.readFile(file), file, ctx.config.SESSION_SECRET);
        if (o.json) return printJson(r);
        process.stdout.write(`reports: ${r.reports}, hard: ${r.hard}, soft: ${r.soft}, duplicates: ${r.duplicates}, unsubscribes: ${r.unsubscribes}, unreadable: ${r.unreadable}\n`);
      });
    });
}

export function registerCampaignCli(program: Command): void {
  registerAddresses(program);
  registerCampaign(program);
}
