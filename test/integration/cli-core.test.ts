import { runCliSync } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { buildUser } from '../support/factories';
import { createKnex } from '../../src/db';

const cli = (args: string[], env: Record<string, string> = {}) => runCliSync(args, { env, timeoutMs: 60_000 });

describe('recovery-portal CLI (core)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('prints help for the program and its commands', () => {
    const help = cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('migrate');
    expect(help.stdout).toContain('seed-demo');
    expect(cli(['seed-demo', '--help']).stdout).toContain('labelled demo data set');
  });

  it('migrates idempotently', () => {
    const first = cli(['migrate', '--json'], { DATABASE_URL: db.url });
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).applied.length).toBeGreaterThan(0);
    const second = cli(['migrate'], { DATABASE_URL: db.url });
    expect(second.stdout.trim()).toBe('already up to date');
  });

  it('refuses to seed demo data into a database with real users', async () => {
    const knex = createKnex(db.url, 1);
    try {
      await buildUser(knex, { email: 'real.person@example.com' });
      const r = cli(['seed-demo'], { DATABASE_URL: db.url });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('refusing to seed: the users table holds 1 non-demo rows');
      const count = await knex('users').count<{ count: string }[]>('id as count');
      expect(Number(count[0]!.count)).toBe(1);
    } finally {
      await knex.destroy();
    }
  });

  it('fails with a clear message and non-zero exit on an unknown command or bad environment', () => {
    const unknown = cli(['frobnicate']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const bad = cli(['migrate'], { DATABASE_URL: 'mysql://nope' });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('configuration error: DATABASE_URL must be a postgres:// connection URL');
  });
});
