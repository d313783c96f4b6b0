import type { Command } from 'commander';
import { cliActor } from '../../audit/service';
import { translator } from '../../i18n';
import { CliError, withContext, printJson } from '../../cli/run-command';
import { EXIT } from '../../cli/exit-codes';
import { parseNoticeInput, parseUpdateInput, idParam, type FieldErrors } from './schema';
import * as service from './service';

const t = translator('en');

function invalid(errors: FieldErrors): CliError {
  const flags: Record<string, string> = { starts_at: '--starts', ends_at: '--ends', kind: '--maintenance' };
  const lines = Object.entries(errors).map(([field, messages]) => `${flags[field] ?? `--${field.replace(/_/g, '-')}`}: ${messages.map((m) => t(m.key, m.vars)).join(' ')}`);
  return new CliError(lines.join('; '), EXIT.invalid);
}

function parseId(value: string): number {
  const r = idParam.safeParse(value);
  if (!r.success) throw new CliError(`not a notice id: ${value}`, EXIT.invalid);
  return r.data;
}


interface PublishOpts {
  severity: string;
  titleJa: string;
  bodyJa: string;
  titleEn?: string;
  bodyEn?: string;
  maintenance?: boolean;
  starts?: string;
  ends?: string;
  state?: string;
  mirror?: boolean;
  draft?: boolean;
}

/** `recovery-portal notice ...`: the same actions as the web admin, for when the web admin is unreachable. */
export function registerNoticeCommands(program: Command): void {
  const notice = program.command('notice').description('incident and maintenance notices (banner, /status)');

  notice
    .command('publish')
    .description('publish a new incident (or --maintenance); prints the new id')
    .requiredOption('--severity <level>', 'info | warning | critical')
    .requiredOption('--title-ja <text>', 'Japanese title')
    .requiredOption('--body-ja <markdown>', 'Japanese body (Markdown)')
    .option('--title-en <text>', 'English title')
    .option('--body-en <markdown>', 'English body (Markdown)')
    .option('--maintenance', 'scheduled maintenance instead of an incident')
    .option('--starts <time>', 'start, ISO 8601 or "YYYY-MM-DD HH:MM" in Japan time')
    .option('--ends <time>', 'end, same formats')
    .option('--state <state>', 'initial state (default: investigating / scheduled)')
    .option('--mirror', "also mirror it into TOYBOX's announcements / site_maintenance")
    .option('--draft', 'save without publishing')
    .action(async (o: PublishOpts) => {
      const parsed = parseNoticeInput({
        kind: o.maintenance ? 'maintenance' : 'incident',
        severity: o.severity,
        state: o.state,
        title_ja: o.titleJa,
        title_en: o.titleEn ?? '',
        body_ja: o.bodyJa,
        body_en: o.bodyEn ?? '',
        starts_at: o.starts,
        ends_at: o.ends,
        mirror: Boolean(o.mirror),
      });
      if (!parsed.ok) throw invalid(parsed.errors);
      const id = await withContext((ctx) => service.createNotice(ctx, parsed.value, { label: cliActor(), userId: null }, { publish: !o.draft }));
      process.stdout.write(`${id}\n`);
    });

  notice
    .command('update <id>')
    .description('add a timeline update (and optionally change the state)')
    .requiredOption('--body-ja <markdown>', 'Japanese update (Markdown)')
    .option('--body-en <markdown>', 'English update (Markdown)')
    .option('--state <state>', 'new state')
    .action(async (idArg: string, o: { bodyJa: string; bodyEn?: string; state?: string }) => {
      const id = parseId(idArg);
      const parsed = parseUpdateInput({ body_ja: o.bodyJa, body_en: o.bodyEn ?? '', state: o.state });
      if (!parsed.ok) throw invalid(parsed.errors);
      const version = await withContext((ctx) => service.addUpdate(ctx, id, parsed.value, { label: cliActor(), userId: null }));
      process.stdout.write(`notice ${id} updated (version ${version})\n`);
    });

  notice
    .command('resolve <id>')
    .description('mark an incident resolved (maintenance: completed)')
    .action(async (idArg: string) => {
      const id = parseId(idArg);
      const version = await withContext((ctx) => service.resolveNotice(ctx, id, { label: cliActor(), userId: null }));
      process.stdout.write(`notice ${id} closed (version ${version})\n`);
    });

  notice
    .command('list')
    .description('list notices, newest first')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const rows = await withContext((ctx) => service.listAllNotices(ctx));
      if (o.json) {
        printJson(
          rows.map((n) => ({
            id: n.id, kind: n.kind, severity: n.severity, state: n.state, title_ja: n.title_ja, title_en: n.title_en,
            published: n.published_at !== null, published_at: n.published_at, resolved_at: n.resolved_at,
            starts_at: n.starts_at, ends_at: n.ends_at, version: n.version, mirror: n.mirror, updated_at: n.updated_at,
          })),
        );
        return;
      }
      if (rows.length === 0) process.stdout.write('no notices\n');
      for (const n of rows) {
        process.stdout.write(`${n.id}\t${n.kind}\t${n.severity}\t${n.state}\t${n.published_at ? 'published' : 'draft'}\tv${n.version}\t${n.title_ja}\n`);
      }
    });
}
