import type { ChildProcess } from 'node:child_process';
import { runCliSync, spawnCli, type CliResult } from './cli';

export type { CliResult };

/** The real `recovery-portal salvage ...` in a child process, as the operator runs it. */
export function salvageCli(databaseUrl: string, dataDir: string, args: string[], env: Record<string, string> = {}): CliResult {
  return runCliSync(['salvage', ...args], { env: { DATABASE_URL: databaseUrl, DATA_DIR: dataDir, ...env }, timeoutMs: 180_000 });
}

/** Same, started in the background (for kill -9 tests); its output is drained, never read. */
export function spawnSalvageCli(databaseUrl: string, dataDir: string, args: string[]): ChildProcess {
  const child = spawnCli(['salvage', ...args], { env: { DATABASE_URL: databaseUrl, DATA_DIR: dataDir } });
  child.stdin!.end();
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}
