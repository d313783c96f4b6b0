import type { Command } from 'commander';
import { CliError, withContext, printJson } from '../../cli/context';
import { cliActor } from '../../audit/service';
import { HttpError } from '../../http/errors';
import { decideClaim, staffQueue } from './service';

/** `claims queue` and `claims decide`: the staff queue from the host's shell, audited like the web page. */
export function registerClaimsCli(program: Command): void {
  const claims = program.command('claims').description('ownership claims on old accounts (see docs/claims.md)');
  claims
    .command('queue')
    .description('claims waiting for staff: weak proof, or two people claiming one old id')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const queue = await staffQueue(ctx);
        if (opts.json) return printJson(queue.map((g) => ({ old_user_id: g.old_user_id, claims: g.claims.map((c) => ({ id: c.id, user: c.claimant?.display_id ?? null, status: c.status, level: c.level, contested: c.contested, evidence: c.evidence.map((e) => ({ kind: e.kind, level: e.level, details: e.details })) })) })));
        for (const g of queue) {
          process.stdout.write(`old user ${g.old_user_id}\n`);
          for (const c of g.claims) process.stdout.write(`  claim ${c.id}  ${c.claimant?.display_id ?? '?'}  ${c.status}  level ${c.level}${c.contested ? '  contested' : ''}  evidence ${c.evidence.length}\n`);
        }
        if (!queue.length) process.stdout.write('queue is empty\n');
      });
    });
  claims
    .command('decide <claim> <decision>')
    .description('approve or reject a claim (decision: approve | reject)')
    .requiredOption('--reason <text>', 'why (kept in the audit log and shown to staff)')
    .action(async (claim: string, decision: string, opts: { reason: string }) => {
      if (!/^\d+$/.test(claim)) throw new CliError('claim must be a numeric id', 2);
      if (decision !== 'approve' && decision !== 'reject') throw new CliError('decision must be approve or reject', 2);
      if (opts.reason.trim().length < 3) throw new CliError('--reason must say why (3 characters or more)', 2);
      await withContext(async (ctx) => {
        try {
          const c = await decideClaim(ctx, cliActor(), Number(claim), decision, opts.reason.trim());
          process.stdout.write(`claim ${c.id}: ${c.status}\n`);
        } catch (err) {
          if (err instanceof HttpError && err.status === 404) throw new CliError(`no claim ${claim}`, 3);
          if (err instanceof HttpError && err.status === 409) throw new CliError(`old user already granted to claim ${String(err.vars.claim)}`, 4);
          throw err;
        }
      });
    });
}
