import knexFactory, { type Knex } from 'knex';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { insertSubmissionRow, SUBMISSION_STATUSES } from '../../src/toybox/rows';
import { buildUser } from '../support/factories';

// The fixture writer writes TOYBOX's rows as TOYBOX's Django code would: a status its model knows,
// so the post shows on TOYBOX (whose lists filter on status = 'PUBLIC').
describe('TOYBOX row builders', () => {
  let db: TestDatabase;
  let knex: Knex;
  beforeAll(async () => {
    db = await createTestDatabase();
    knex = knexFactory({ client: 'pg', connection: db.url, pool: { min: 0, max: 2 } });
  });
  afterAll(async () => {
    await knex.destroy();
    await db.drop();
  });

  it('writes submissions.status as PUBLIC by default, and only TOYBOX values when asked', async () => {
    const u = await buildUser(knex);
    const visible = await insertSubmissionRow(knex, { author_id: u.id, title: 'みんなの投稿' });
    const hidden = await insertSubmissionRow(knex, { author_id: u.id, title: '非公開', status: 'PRIVATE' });
    const rows = await knex('public.submissions').whereIn('id', [visible, hidden]).orderBy('id').select('id', 'status');
    expect(rows.map((r) => r.status)).toEqual(['PUBLIC', 'PRIVATE']);
    const all = await knex('public.submissions').distinct('status').pluck('status');
    for (const s of all) expect(SUBMISSION_STATUSES).toContain(s);
  });
});
