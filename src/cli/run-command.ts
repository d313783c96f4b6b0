import { loadConfigOrExit, type Config } from '../config';
import { buildContext, type RunningContext } from '../open-context';

/** A failure the operator can act on: printed as one line on stderr with this exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    public readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Opens the portal's context for one command and always closes it. */
export async function withContext<T>(fn: (ctx: RunningContext) => Promise<T>, config: Config = loadConfigOrExit()): Promise<T> {
  const ctx = await buildContext(config);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
