import { Command, CommanderError } from 'commander';
import { loadConfigOrExit } from '../config';
import { logger, sendLogsToStderr } from '../logger';
import { registerCoreCommands } from './core-commands';
import { cliCommands } from './commands';
import { EXIT, exitCodeFor } from './exit-codes';
import { HttpError } from '../http/errors';
import { translator } from '../i18n';

/** `recovery-portal`: the operator's tool on the host, reading the same environment as the server. */
export function buildProgram(): Command {
  const program = new Command('recovery-portal')
    .description('TOYBOX recovery portal: operator commands (same environment variables as the server)')
    .showHelpAfterError()
    .exitOverride();
  registerCoreCommands(program);
  for (const register of cliCommands) register(program);
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  // Logs go to stderr so stdout stays clean for --json and printed ids.
  logger.level = process.env.LOG_LEVEL ?? 'warn';
  sendLogsToStderr();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    // Domain errors carry a message key: the operator reads the English text, never a stack.
    const message = err instanceof HttpError ? translator('en')(err.messageKey, err.vars) : (err as Error).message;
    process.stderr.write(`error: ${message}\n`);
    return exitCodeFor(err);
  }
}

if (require.main === module) {
  loadConfigOrExit(); // a bad environment stops here with exit code 2, before any command runs
  runCli(process.argv).then((code) => {
    process.exitCode = code;
  });
}
