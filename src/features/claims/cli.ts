import type { Command } from 'commander';
import { CliError, withContext, printJson } from '../../cli/run-command';
import { cliActor } from '../../audit/service';
import { HttpError } from '../../http/errors';
import { decideClaim, staffQueue } from './service';
import { restoreAbandonedAccount, type InvitationState } from './accounts';
import { formatJst } from '../../i18n/tokyo-time';
import { undo } from './undo';
import { EXIT } from '../../cli/exit-codes';

/** What happened to the invitation, as the CLI says it (the staff page says the same in its language). */
function invitationLine(inv: InvitationState | null): string {
  if (!inv) return '';
  if (inv.state === 'queued') return ', invitation queued (the worker sends it)';
  if (inv.state === 'already') return inv.delivery === 'sent' ? `, invitation already sent ${formatJst(inv.at)}: not sent again` : `, invitation already queued ${formatJst(inv.at)}: not queued again`;
  if (inv.state === 'suppressed') return ', invitation not sent: address suppressed (bounce, complaint, unsubscribe or block)';
  return ', invitation not sent: no usable e-mail address';
}

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
      if (!/^\d+$/.test(claim)) throw new CliError('claim must be a numeric id', EXIT.invalid);
      if (decision !== 'approve' && decision !== 'reject') throw new CliError('decision must be approve or reject', EXIT.invalid);
      if (opts.reason.trim().length < 3) throw new CliError('--reason must say why (3 characters or more)', EXIT.invalid);
      await withContext(async (ctx) => {
        try {
          const c = await decideClaim(ctx, cliActor(), Number(claim), decision, opts.reason.trim());
          process.stdout.write(`claim ${c.id}: ${c.status}\n`);
        } catch (err) {
          if (err instanceof HttpError && err.status === 404) throw new CliError(`no claim ${claim}`, EXIT.notFound);
          if (err instanceof HttpError && err.status === 409) throw new CliError(`old user already granted to claim ${String(err.vars.claim)}`, EXIT.refused);
          throw err;
        }
      });
    });
  claims
    .command('restore-account <old-id>')
    .description('bring back an old account whose owner never re-registered (unusable password), with everything it had')
    .option('--display-id <id>', 'user id to give it when the old one is now someone else\'s')
    .option('--invite', 'e-mail the owner (old address) a link to set a password')
    .option('--json', 'print as JSON')
    .action(async (oldId: string, opts: { displayId?: string; invite?: boolean; json?: boolean }) => {
      if (!/^\d+$/.test(oldId)) throw new CliError('old-id must be a number', EXIT.invalid);
      await withContext(async (ctx) => {
        try {
          const r = await restoreAbandonedAccount(ctx, cliActor(), Number(oldId), { invite: Boolean(opts.invite), displayId: opts.displayId, lang: 'ja' });
          if (opts.json) return printJson(r);
          process.stdout.write(`${r.already ? 'already restored' : 'restored'}: user ${r.user_id} (${r.display_id}), ${r.restore?.posts ?? 0} posts, ${r.restore?.cards ?? 0} cards${invitationLine(r.invitation)}\n`);
        } catch (err) {
          if (err instanceof HttpError && err.status === 404) throw new CliError(`no old account ${oldId} in the loaded records`, EXIT.notFound);
          if (err instanceof HttpError && err.status === 409) {
            if (err.messageKey === 'claims.account.claimed') throw new CliError('someone claims this old id; review the claims first', EXIT.refused);
            if (err.messageKey === 'claims.account.display_id_taken') throw new CliError(`display id ${String(err.vars.display_id)} is taken; pass --display-id`, EXIT.refused);
            throw new CliError(`refused: ${err.messageKey}`, EXIT.refused);
          }
          if (err instanceof HttpError && err.status === 422) throw new CliError('--display-id must be 3-30 letters, digits or _', EXIT.invalid);
          throw err;
        }
      });
    });
  claims
    .command('undo <restore-id>')
    .description("undo a person's restore (staff: also after the grace period, e.g. after rejecting a claim that was used)")
    .action(async (restoreId: string) => {
      if (!/^\d+$/.test(restoreId)) throw new CliError('restore-id must be a number', EXIT.invalid);
      await withContext(async (ctx) => {
        try {
          const r = await undo(ctx, { id: 0, display_id: 'cli', actor: cliActor() }, Number(restoreId), { staff: true });
          process.stdout.write(`restore ${restoreId} undone: ${r.removed} rows removed\n`);
        } catch (err) {
          if (err instanceof HttpError && err.status === 404) throw new CliError(`no restore ${restoreId}`, EXIT.notFound);
          if (err instanceof HttpError && err.status === 409) throw new CliError(err.messageKey === 'claims.undo.in_use' ? 'others reacted to or saved restored posts since; remove those first' : 'already undone', EXIT.refused);
          throw err;
        }
      });
    });
}
