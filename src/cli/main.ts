import { Command, CommanderError } from 'commander';
import { loadConfigOrExit } from '../config';
import { logger, sendLogsToStderr } from '../logger';
import { registerCoreCommands } from './core-commands';
import { cliCommands } from './commands';
import { CliError } from './context';

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
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      process.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  loadConfigOrExit(); // a bad environment stops here with exit code 2, before any command runs
  runCli(process.argv).then((code) => {
    process.exitCode = code;
  });
}
