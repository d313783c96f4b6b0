import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/portal';
import { runCliSync } from '../support/cli';

function cli(args: string[], dataDir: string) {
  return runCliSync(args, { env: { DATABASE_URL: '', DATA_DIR: dataDir } });
}

describe('embedded mode (PGlite): same manifest, drill and CLI', () => {
  const dataDir = tempDir('portal-embedded-backup-');
  const restoreDir = tempDir('portal-embedded-restore-');
  afterAll(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(restoreDir, { recursive: true, force: true });
  });

  it('backs up with dumpDataDir, drills it in memory, verifies, and restores to a data directory', async () => {
    expect(cli(['seed-demo'], dataDir).code).toBe(0);
    const run = cli(['backup', 'run'], dataDir);
    expect(run.stderr).toContain('drill: passed');
    expect(run.code).toBe(0);
    const id = Number(run.stdout.trim());

    const [listed] = JSON.parse(cli(['backup', 'list', '--json'], dataDir).stdout) as Array<{ id: number; status: string; files: Array<{ name: string }>; row_counts: Record<string, number> }>;
    expect(listed).toMatchObject({ id, status: 'good', files: [{ name: 'toybox-pglite.tar.gz' }] });
    expect(listed!.row_counts.users).toBe(3);

    const verify = cli(['backup', 'verify', String(id), '--drill'], dataDir);
    expect(verify.stdout).toContain(`backup ${id}: OK`);
    expect(verify.code).toBe(0);

    const refused = cli(['backup', 'restore', String(id), '--target', 'postgres://nowhere/db'], dataDir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--target-dir');

    // PGlite does not load inside jest's VM: the restored copy is opened by the CLI, as an operator would.
    const restore = cli(['backup', 'restore', String(id), '--target-dir', path.join(restoreDir, 'pglite')], dataDir);
    expect(restore.code).toBe(0);
    const reopened = cli(['seed-demo', '--json'], restoreDir);
    expect(reopened.code).toBe(0);
    expect(JSON.parse(reopened.stdout)).toMatchObject({ created: false, users: 3 });
  });
});
