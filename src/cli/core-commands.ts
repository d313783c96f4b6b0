import type { Command } from 'commander';
import { loadConfigOrExit } from '../config';
import { openDatabase } from '../db';
import { migrateLatest } from '../db/migrate';
import { seedDemo, RealDataPresent, DEMO_PASSWORD } from '../toybox/demo-seed';
import { CliError, withContext, printJson } from './run-command';
import { EXIT } from './exit-codes';

export function registerCoreCommands(program: Command): void {
  program
    .command('migrate')
    .description("run the portal's database migrations (schema portal); safe to run any time")
    .option('--json', 'print the applied migrations as JSON')
    .action(async (opts: { json?: boolean }) => {
      const db = await openDatabase(loadConfigOrExit());
      try {
        const applied = await migrateLatest(db.knex);
        if (opts.json) printJson({ applied });
        else process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'already up to date\n');
      } finally {
        await db.close();
      }
    });

  program
    .command('seed-demo')
    .description('fill an embedded or scratch database with a labelled demo data set (refuses real data)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      await withContext(async (ctx) => {
        try {
          const result = await seedDemo(ctx.knex);
          if (opts.json) printJson(result);
          else if (result.created) process.stdout.write(`demo data created: users demo_admin, demo_hanako, demo_taro (password: ${DEMO_PASSWORD})\n`);
          else process.stdout.write(`demo data already present (${result.users} users)\n`);
        } catch (err) {
          if (err instanceof RealDataPresent) throw new CliError(`refusing to seed: ${err.message}; seed-demo only runs on an empty or demo database`, EXIT.refused);
          throw err;
        }
      });
    });
}
