import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import supertest from 'supertest';
import { csrfFrom } from './portal';

const ROOT = path.resolve(__dirname, '..', '..');

export interface PortalProcess {
  child: ChildProcess;
  url: string;
  /** Everything it logged so far (JSON lines). */
  output(): string;
  exited: Promise<number | null>;
  /** A crash: SIGKILL to its whole process group (pg_dump and tar die with it, as under systemd or a container). */
  kill(): Promise<void>;
  /** A clean stop (SIGTERM), waited for. */
  stop(): Promise<void>;
}

/**
 * `node src/main.ts` as the operator runs it, in its own process group, listening on an
 * ephemeral port; resolves once it logged "recovery portal listening".
 */
export async function spawnPortal(env: Record<string, string>): Promise<PortalProcess> {
  const child = spawn('node', ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`portal did not start:\n${out}`)), 60_000);
    const look = () => {
      const m = /"port":(\d+)[^\n]*recovery portal listening/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', look);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`portal exited with ${code} before listening:\n${out}`));
    });
  });
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) signalGroup('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) signalGroup('SIGTERM');
      const t = setTimeout(() => signalGroup('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A cookie-keeping client of a running portal process, signed in through its login form. */
export async function signedInProcessAgent(url: string, login: string, password: string): Promise<ReturnType<typeof supertest.agent>> {
  const agent = supertest.agent(url);
  const page = await agent.get('/login');
  const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), login, password });
  if (res.status !== 303) throw new Error(`sign-in as ${login} failed with HTTP ${res.status}`);
  return agent;
}

export interface CliProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** SIGKILL to its process group: pg_dump or tar under it die too. */
  kill(): Promise<void>;
}

/** `recovery-portal ARGS` in its own process group. */
export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn('node', ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await exited;
    },
  };
}
