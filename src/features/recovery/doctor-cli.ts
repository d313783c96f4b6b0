import type { Command } from 'commander';
import { ConfigError, parseConfig } from '../../config';
import { CliError, printJson } from '../../cli/run-command';
import { EXIT } from '../../cli/exit-codes';
import { doctorExitCode, formatFinding, runDoctor } from './doctor';

/** `recovery-portal doctor [--json] [--strict] [--send-test-mail ADDRESS]`. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check the configuration: one line per finding with its fix (exit 0 all pass, 1 warnings with --strict, 2 failures)')
    .option('--json', 'print the findings as JSON')
    .option('--strict', 'exit 1 on warnings too')
    .option('--send-test-mail <address>', 'also send one real test message to this address')
    .action(async (opts: { json?: boolean; strict?: boolean; sendTestMail?: string }) => {
      let config;
      try {
        // Not loadConfigOrExit: doctor must not write a generated secret into the DATA_DIR it is about to judge.
        config = parseConfig(process.env);
      } catch (err) {
        if (err instanceof ConfigError) throw new CliError(`configuration: ${err.message}`, EXIT.invalid);
        throw err;
      }
      const findings = await runDoctor(config, { sendTestMail: opts.sendTestMail });
      const code = doctorExitCode(findings, Boolean(opts.strict));
      if (opts.json) printJson({ exitCode: code, findings });
      else for (const f of findings) process.stdout.write(`${formatFinding(f)}\n`);
      if (code !== 0) {
        const fails = findings.filter((f) => f.status === 'fail').length;
        const warns = findings.filter((f) => f.status === 'warn').length;
        throw new CliError(`doctor: ${fails} failure(s), ${warns} warning(s)`, code);
      }
    });
}
