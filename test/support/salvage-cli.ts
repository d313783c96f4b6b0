import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

const ROOT = path.resolve(__dirname, '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real `recovery-portal salvage ...` in a child process, as the operator runs it. */
export function salvageCli(databaseUrl: string, dataDir: string, args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'salvage', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: databaseUrl, DATA_DIR: dataDir, NODE_ENV: 'test', ...env },
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Same, started in the background (for kill -9 tests). */
export function spawnSalvageCli(databaseUrl: string, dataDir: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'salvage', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: databaseUrl, DATA_DIR: dataDir, NODE_ENV: 'test' },
    stdio: 'ignore',
  });
}
