import type { Command } from 'commander';
import { loadConfigOrExit } from '../../config';
import { CliError } from '../../cli/run-command';
import { EXIT } from '../../cli/exit-codes';
import { Rehearsal, currentCli } from './rehearsal';

/** `recovery-portal drill`: the first-hour runbook rehearsed on a scratch copy, timed, cleaned up even when interrupted. */
export function registerRehearsalCommand(program: Command): void {
  program
    .command('drill')
    .description('rehearse the first-hour runbook on a scratch copy restored from the latest backup (mail to a scratch outbox); prints each step\'s time; removes the copy afterwards, also on Ctrl-C (exit 130)')
    .action(async () => {
      const config = loadConfigOrExit();
      if (config.embedded) throw new CliError('drill needs PostgreSQL (DATABASE_URL): the embedded database cannot hold a second, scratch database', EXIT.refused);
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const rehearsal = new Rehearsal(config, currentCli(), say);
      say(`rehearsal on scratch database ${rehearsal.scratch}, scratch directory ${rehearsal.dir}`);
      let cleaning: Promise<void> | null = null;
      const cleanUp = () => (cleaning ??= rehearsal.cleanUp());
      const onSignal = (signal: NodeJS.Signals) => {
        process.stderr.write(`${signal}: stopping the current step and removing the copy\n`);
        void rehearsal
          .interrupt()
          .then(cleanUp)
          .catch((err: Error) => process.stderr.write(`cleanup failed: ${err.message}\n`))
          .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const started = Date.now();
      try {
        await rehearsal.runAll((name) => program.commands.some((c) => c.name() === name));
        say(`total ${((Date.now() - started) / 1000).toFixed(1)} s: every step passed`);
      } catch (err) {
        if ((err as Error).message === 'interrupted') return new Promise<void>(() => undefined); // the signal handler exits
        await cleanUp();
        throw new CliError(`rehearsal stopped after ${((Date.now() - started) / 1000).toFixed(1)} s: ${(err as Error).message}`, EXIT.failed);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      await cleanUp();
    });
}
