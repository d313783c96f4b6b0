import { useTestPortal } from '../support/portal-stack';
import { importCandidates } from '../../src/features/campaigns/addresses/service';
import {
  CampaignStateError,
  cancelCampaign,
  createCampaign,
  pauseCampaign,
  resumeCampaign,
  retryFailed,
  scheduleCampaign,
  startSending,
  updateDraft,
} from '../../src/features/campaigns/lifecycle/service';
import type { CampaignStatus } from '../../src/features/campaigns/lifecycle/repo';

type Action = 'send' | 'schedule' | 'pause' | 'resume' | 'cancel' | 'retry' | 'edit';
const STATES: CampaignStatus[] = ['draft', 'scheduled', 'sending', 'paused', 'completed', 'cancelled'];

/** What each action may start from (the product's rules, written out so a change to them is a visible change here). */
const ALLOWED: Record<Action, CampaignStatus[]> = {
  send: ['draft', 'scheduled', 'sending'], // sending -> sending is a no-op, not a refusal
  schedule: ['draft', 'scheduled'],
  pause: ['sending', 'scheduled', 'paused'],
  resume: ['paused', 'sending'],
  cancel: ['draft', 'scheduled', 'sending', 'paused', 'cancelled'],
  retry: ['scheduled', 'sending', 'paused', 'completed'],
  edit: ['draft'],
};

const template = { name: 't', subject_ja: '件名', text_ja: '{{link}}', rate_per_minute: 0, concurrency: 1 };

describe('campaign state transitions: a refused change changes nothing', () => {
  const portal = useTestPortal();
  let serial = 0;

  async function campaignIn(status: CampaignStatus): Promise<number> {
    await importCandidates(portal.ctx.knex, [{ line: 1, raw: `first${serial}@example.org` }], 'test');
    const { id } = await createCampaign(portal.ctx.knex, template, 'test');
    await portal.ctx.knex('portal.campaigns').where({ id }).update({ status, scheduled_at: status === 'scheduled' ? new Date(Date.now() + 3_600_000) : null });
    return id;
  }

  async function everything(id: number) {
    const knex = portal.ctx.knex;
    return {
      campaign: await knex('portal.campaigns').where({ id }).first(),
      recipients: await knex('portal.campaign_recipients').where({ campaign_id: id }).orderBy('id').select('id', 'status', 'next_attempt_at'),
      audit: await knex('portal.audit_log').where({ target: `campaign:${id}` }).select('id'),
    };
  }

  const run: Record<Action, (id: number) => Promise<unknown>> = {
    send: (id) => startSending(portal.ctx.knex, id, 'test'),
    schedule: (id) => scheduleCampaign(portal.ctx.knex, id, new Date(Date.now() + 7_200_000), 'test'),
    pause: (id) => pauseCampaign(portal.ctx.knex, id, 'test'),
    resume: (id) => resumeCampaign(portal.ctx.knex, id, 'test'),
    cancel: (id) => cancelCampaign(portal.ctx.knex, id, 'test'),
    retry: (id) => retryFailed(portal.ctx.knex, id, 'test'),
    edit: (id) => updateDraft(portal.ctx.knex, id, { ...template, name: 'edited' }, 'test'),
  };

  const refused = (Object.keys(ALLOWED) as Action[]).flatMap((action) => STATES.filter((s) => !ALLOWED[action].includes(s)).map((s) => [action, s] as const));

  it.each(refused)('%s from %s is refused and leaves campaign, recipients and audit log as they were', async (action, status) => {
    const id = await campaignIn(status);
    // An address imported since: a refused move must not quietly add it as a recipient.
    serial += 1;
    await importCandidates(portal.ctx.knex, [{ line: 1, raw: `late${serial}@example.org` }], 'test');
    const before = await everything(id);
    await expect(run[action](id)).rejects.toBeInstanceOf(CampaignStateError);
    expect(await everything(id)).toEqual(before);
  });

  it('an allowed move adds the late addresses, changes state and is audited in the same transaction', async () => {
    const id = await campaignIn('draft');
    serial += 1;
    await importCandidates(portal.ctx.knex, [{ line: 1, raw: `joiner${serial}@example.org` }], 'test');
    const before = await everything(id);
    await scheduleCampaign(portal.ctx.knex, id, new Date(Date.now() + 60_000), 'test');
    const after = await everything(id);
    expect(after.campaign.status).toBe('scheduled');
    expect(after.recipients.length).toBeGreaterThan(before.recipients.length);
    expect(after.audit.length).toBe(before.audit.length + 1);
  });
});
