import { startTestPortal, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { claimsRecoveryChecks } from '../../src/features/claims/recovery';
import { runCliSync } from '../support/cli';


describe('recovery-portal claims (the real CLI in a child process)', () => {
  let portal: TestPortal;
  const run = (args: string[]) => runCliSync(['claims', ...args], { env: { DATABASE_URL: portal.db.url, DATA_DIR: portal.dataDir }, timeoutMs: 60_000 });

  beforeAll(async () => {
    portal = await startTestPortal();
  });
  afterAll(async () => portal?.close());

  it('lists the queue, decides a claim with a reason (audited), and refuses bad input with documented exit codes', async () => {
    const knex = portal.ctx.knex;
    expect(await claimsRecoveryChecks(portal.ctx)).toEqual([{ id: 'claims', state: 'todo', detail: 'claims.none' }]);
    const u = await buildUser(knex, { display_id: 'claimant_cli' });
    const [claim] = await knex('portal.claims').insert({ user_id: u.id, old_user_id: 42, level: 6, old_display_id: 'oldie' }).returning('id');
    await knex('portal.claim_evidence').insert({ claim_id: claim.id, kind: 'statement', level: 6, ref: 'oldie', details: JSON.stringify({ display_id: 'oldie' }) });

    expect(await claimsRecoveryChecks(portal.ctx)).toEqual([{ id: 'claims', state: 'warn', detail: 'claims.waiting', vars: { pending: 1, oldest: expect.any(Date) } }]);
    const queue = run(['queue', '--json']);
    expect(queue.code).toBe(0);
    expect(JSON.parse(queue.stdout)).toEqual([{ old_user_id: 42, claims: [expect.objectContaining({ id: Number(claim.id), user: 'claimant_cli', status: 'pending', level: 6 })] }]);

    expect(run(['decide', String(claim.id), 'maybe', '--reason', 'unsure']).code).toBe(2);
    expect(run(['decide', '999999', 'approve', '--reason', 'no such']).code).toBe(4);
    expect((await knex('portal.claims').where({ id: claim.id }).first()).status).toBe('pending');

    const ok = run(['decide', String(claim.id), 'approve', '--reason', 'matches the staff mailbox']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('approved');
    expect(await knex('portal.claims').where({ id: claim.id }).first()).toMatchObject({ status: 'approved', reason: 'matches the staff mailbox' });
    expect(await claimsRecoveryChecks(portal.ctx)).toEqual([{ id: 'claims', state: 'done', detail: 'claims.clear', vars: { approved: 1, restores: 0 } }]);
    const audit = await knex('portal.audit_log').where({ action: 'claims.approve' }).first();
    expect(audit.actor).toMatch(/^cli:/);

    expect(run(['restore-account', '777']).code).toBe(4);
  });
});
