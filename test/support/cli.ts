import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export const ROOT = path.resolve(__dirname, '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Variables added to the test process's environment (the CLI reads the same environment as the server). */
  env?: Record<string, string>;
  /** Start from an empty environment (PATH and HOME only) plus `env`: nothing leaks in from the test run. */
  cleanEnv?: boolean;
  stdin?: string;
  timeoutMs?: number;
}

function environment(opts: CliOptions): NodeJS.ProcessEnv {
  const base = opts.cleanEnv ? { PATH: process.env.PATH, HOME: process.env.HOME } : process.env;
  return { ...base, LOG_LEVEL: 'warn', NODE_ENV: 'test', ...opts.env };
}

/** The real `recovery-portal` CLI in its own process, as the operator runs it; waits for it to exit. */
export function runCliSync(args: string[], opts: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: environment(opts),
    input: opts.stdin,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking the test's event loop (for tests that serve HTTP or SMTP in process meanwhile). */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, opts);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(opts.stdin ?? '');
  });
}

/** A running CLI process, for tests that kill it mid-work. */
export function spawnCli(args: string[], opts: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: environment(opts) });
}

/** A running CLI whose output is collected as it comes: for tests that interrupt or kill it mid-work. */
export function watchCli(args: string[], opts: CliOptions = {}) {
  const child = spawnCli(args, opts);
  child.stdin!.end();
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}
