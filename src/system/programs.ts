import { spawn } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program without a shell; output is kept (trimmed to the last 64 KB) for the record. */
export function runProgram(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; shell?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // A timed-out child is sent SIGTERM and reported with its non-zero status.
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, shell: opts.shell ?? false, stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs });
    let stdout = '';
    let stderr = '';
    const keep = (acc: string, chunk: Buffer) => (acc + chunk.toString('utf8')).slice(-65_536);
    child.stdout.on('data', (c: Buffer) => (stdout = keep(stdout, c)));
    child.stderr.on('data', (c: Buffer) => (stderr = keep(stderr, c)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** First line of `<program> --version`, or null when it is missing. */
export async function programVersion(cmd: string): Promise<string | null> {
  try {
    const r = await runProgram(cmd, ['--version']);
    return r.code === 0 ? (r.stdout.split('\n')[0] ?? '').trim() : null;
  } catch {
    return null;
  }
}
