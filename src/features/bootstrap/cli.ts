import type { Command } from 'commander';
import { z } from 'zod';
import { CliError, withContext, printJson } from '../../cli/run-command';
import { EXIT } from '../../cli/exit-codes';
import { cliActor } from '../../audit/service';
import { translator } from '../../i18n';
import type { ToyboxUser } from '../../toybox/users';
import { normalizeEmail, DEFAULT_ADMIN_ROLE, type AdminRole } from '../../toybox/superusers';
import type { PasswordProblem } from '../../auth/password-rules';
import { parseCliInput } from '../../cli/field-errors';
import { cliAccountSchema, CLI_FLAGS } from './schema';
import { BootstrapRefused, clashingFields, createSuperuserFromCli, findOneUser, passwordProblems, promoteUser, setPassword, type NewSuperuser } from './service';
import { Prompter, readPasswordFromStdin } from './prompt';
import { ensureBootstrapToken, type Log } from './tokens';
import type { RunningContext } from '../../open-context';

// Exit codes (README "Exit codes"): bad input or password rules, duplicate account, no such (or ambiguous) account.
const EXIT_INVALID = EXIT.invalid;
const EXIT_DUPLICATE = EXIT.refused;
const EXIT_NOT_FOUND = EXIT.notFound;

const t = translator('en');
const describeProblems = (problems: PasswordProblem[]) => problems.map((p) => t(p.key, p.vars)).join(' ');

function summary(u: ToyboxUser) {
  return { id: u.id, email: u.email, display_id: u.display_id, role: u.role, is_staff: u.is_staff, is_superuser: u.is_superuser, is_active: u.is_active };
}

const ROLE_HELP =
  "admin (default): role ADMIN, opens Django admin (/admin/) and TOYBOX's console (/admin/console/), the account that runs the site; " +
  "superuser: role SUPERUSER, exactly what manage.py createsuperuser makes, opens Django admin only (the console admits only ADMIN)";

const ROLE_SAYS: Record<AdminRole, string> = {
  ADMIN: "role ADMIN: can open Django admin (/admin/) and TOYBOX's console (/admin/console/)",
  SUPERUSER: "role SUPERUSER: can open Django admin (/admin/); TOYBOX's console (/admin/console/) admits only ADMIN",
};

const roleOnly = cliAccountSchema.pick({ role: true });
const emailAndId = cliAccountSchema.pick({ email: true, display_id: true });
const passwordOnly = cliAccountSchema.pick({ password: true });

/** --role through the web form's role field (admin or superuser, any case); absent is the default. */
function parseRole(value: string | undefined): AdminRole {
  if (value === undefined) return DEFAULT_ADMIN_ROLE;
  return parseCliInput(roleOnly, { role: value }, CLI_FLAGS).role;
}

type FieldSchema = (typeof cliAccountSchema.shape)['email'] | (typeof cliAccountSchema.shape)['display_id'];

async function refuseClashes(ctx: RunningContext, email: string | null, displayId: string | null): Promise<void> {
  const clash = await clashingFields(ctx.knex, email, displayId);
  if (clash.email) {
    throw new CliError(
      `a user with e-mail ${clash.email.email} already exists (id ${clash.email.id}, display id ${clash.email.display_id}); to make that account a superuser run: recovery-portal admin promote ${clash.email.email}`,
      EXIT_DUPLICATE,
    );
  }
  if (clash.display_id) {
    throw new CliError(`display id ${displayId} is already used by user ${clash.display_id.id} (${clash.display_id.email ?? 'no e-mail'}); choose another display id`, EXIT_DUPLICATE);
  }
}

/** Asks like Django's createsuperuser: each answer is checked at once and asked again until it is acceptable. */
async function askNewSuperuser(ctx: RunningContext, p: Prompter, given: { email?: string; displayId?: string }): Promise<NewSuperuser> {
  const askField = async (question: string, name: 'email' | 'display_id', preset?: string): Promise<string> => {
    const field: FieldSchema = cliAccountSchema.shape[name];
    for (;;) {
      // a value given as a flag is checked once, as the web form checks it: a bad one exits 2
      if (preset !== undefined) return (parseCliInput(z.object({ [name]: field }), { [name]: preset }, CLI_FLAGS) as Record<string, string>)[name]!;
      const r = field.safeParse(await p.ask(question));
      if (r.success) return r.data;
      p.say(`Error: ${t(r.error.issues[0]!.message)}`);
    }
  };
  /** Asks until the answer is valid and no user has it yet; a taken value given as a flag is refused at once. */
  const askUnused = async (name: 'email' | 'display_id', question: string, preset: string | undefined, taken: (userId: number) => string): Promise<string> => {
    for (;;) {
      const value = await askField(question, name, preset);
      const [email, displayId] = name === 'email' ? [value, null] : [null, value];
      const clash = (await clashingFields(ctx.knex, email, displayId))[name];
      if (!clash) return value;
      if (preset !== undefined) await refuseClashes(ctx, email, displayId);
      p.say(`Error: ${taken(clash.id)}`);
    }
  };
  const email = await askUnused('email', 'E-mail address: ', given.email, (id) => `that e-mail address is already used by user ${id} (use "admin promote" to make it a superuser).`);
  const displayId = await askUnused('display_id', 'Display id (login id, a-z 0-9 _): ', given.displayId, (id) => `that display id is already used by user ${id}.`);
  const password = await askNewPassword(p, { email: normalizeEmail(email), display_id: displayId });
  return { email, display_id: displayId, password };
}

async function askNewPassword(p: Prompter, user: { email: string | null; display_id: string }): Promise<string> {
  for (;;) {
    const password = await p.ask('Password: ', { hidden: true });
    const again = await p.ask('Password (again): ', { hidden: true });
    if (password !== again) {
      p.say("Error: your passwords didn't match.");
      continue;
    }
    if (!password) {
      p.say("Error: blank passwords aren't allowed.");
      continue;
    }
    const problems = passwordProblems(password, user);
    if (!problems.length) return password;
    for (const problem of problems) p.say(`Error: ${t(problem.key, problem.vars)}`);
  }
}

function explain(err: unknown, identifier?: string): never {
  if (!(err instanceof BootstrapRefused)) throw err;
  switch (err.reason) {
    case 'password':
      throw new CliError(`password refused: ${describeProblems(err.detail.problems ?? [])}`, EXIT_INVALID);
    case 'clash':
      throw new CliError('that e-mail address or display id is already used by another account', EXIT_DUPLICATE);
    case 'not_found':
      throw new CliError(`no TOYBOX user with e-mail or display id ${identifier}`, EXIT_NOT_FOUND);
    case 'ambiguous':
      throw new CliError(`display id ${identifier} is used by more than one account; give the e-mail address instead`, EXIT_NOT_FOUND);
    case 'suspended':
      throw new CliError(`${identifier} is suspended; add --unsuspend to lift the suspension and promote`, EXIT_INVALID);
    default:
      throw new CliError(`refused: ${err.reason}`, EXIT_INVALID);
  }
}

export function registerBootstrapCommands(program: Command): void {
  const admin = program.command('admin').description("TOYBOX's superusers: create one (like createsuperuser), promote an account, set a password");

  admin
    .command('create')
    .description('create a TOYBOX superuser, as `manage.py createsuperuser` would; prompts unless --password-stdin')
    .option('--email <email>', 'e-mail address (Django admin signs in with it)')
    .option('--display-id <id>', 'display id: the login id on the site (a-z, 0-9, _; 3-30 characters)')
    .option('--password-stdin', 'read the password from stdin (no prompts; --email and --display-id required)')
    .option('--role <role>', ROLE_HELP)
    .option('--json', 'print the created account as JSON')
    .action(async (opts: { email?: string; displayId?: string; passwordStdin?: boolean; role?: string; json?: boolean }) => {
      const role = parseRole(opts.role);
      await withContext(async (ctx) => {
        let input: NewSuperuser;
        if (opts.passwordStdin) {
          if (!opts.email || !opts.displayId) throw new CliError('--password-stdin needs --email and --display-id', EXIT_INVALID);
          const { email, display_id: displayId } = parseCliInput(emailAndId, { email: opts.email, display_id: opts.displayId }, CLI_FLAGS);
          await refuseClashes(ctx, email, displayId);
          const { password } = parseCliInput(passwordOnly, { password: await readPasswordFromStdin() }, CLI_FLAGS);
          input = { email, display_id: displayId, password };
        } else {
          const prompter = new Prompter();
          try {
            input = await askNewSuperuser(ctx, prompter, { email: opts.email, displayId: opts.displayId });
          } finally {
            prompter.close();
          }
        }
        const user = await createSuperuserFromCli(ctx, { ...input, role }, cliActor()).catch((err: unknown) => explain(err));
        if (opts.json) printJson(summary(user));
        else process.stdout.write(`superuser created: ${user.display_id} <${user.email}> (id ${user.id}), ${ROLE_SAYS[role]}\n`);
      });
    });

  admin
    .command('promote')
    .description('make an existing TOYBOX account (for example one re-registered through the site) a superuser')
    .argument('<email>', 'the account: e-mail address (or display id)')
    .option('--unsuspend', 'also lift a suspension on the account')
    .option('--role <role>', ROLE_HELP)
    .option('--json', 'print the account as JSON')
    .action(async (email: string, opts: { unsuspend?: boolean; role?: string; json?: boolean }) => {
      const role = parseRole(opts.role);
      await withContext(async (ctx) => {
        const { user, changed } = await promoteUser(ctx, email, cliActor(), { unsuspend: opts.unsuspend, role }).catch((err: unknown) => explain(err, email));
        if (opts.json) printJson({ ...summary(user), changed });
        else
          process.stdout.write(
            changed
              ? `promoted to superuser: ${user.display_id} <${user.email}> (id ${user.id}), ${ROLE_SAYS[role]}\n`
              : `${user.display_id} is already an active superuser with role ${role}; nothing changed\n`,
          );
      });
    });

  admin
    .command('setup-token')
    .description('run the start-up check now: keep a valid /setup token, or issue a fresh one to DATA_DIR/bootstrap-token (printed on stderr)')
    .action(async () => {
      await withContext(async (ctx) => {
        const toStderr: Log = { warn: (_o, msg) => process.stderr.write(`${msg}\n`), info: (_o, msg) => process.stderr.write(`${msg}\n`), error: (_o, msg) => process.stderr.write(`${msg}\n`) };
        const result = await ensureBootstrapToken(ctx, toStderr);
        if (result === 'closed') throw new CliError('an active superuser exists, so /setup is closed and no token was issued; use "admin set-password" or "admin promote"', EXIT_DUPLICATE);
      });
    });

  admin
    .command('set-password')
    .description("set a TOYBOX account's password (Django's pbkdf2_sha256, TOYBOX's password rules); prompts unless --password-stdin")
    .argument('<email>', 'the account: e-mail address (or display id)')
    .option('--password-stdin', 'read the password from stdin instead of prompting')
    .action(async (email: string, opts: { passwordStdin?: boolean }) => {
      await withContext(async (ctx) => {
        let password: string;
        if (opts.passwordStdin) password = parseCliInput(passwordOnly, { password: await readPasswordFromStdin() }, CLI_FLAGS).password;
        else {
          const prompter = new Prompter();
          try {
            const target = await findOneUser(ctx, email).catch((err: unknown) => explain(err, email));
            password = await askNewPassword(prompter, target);
          } finally {
            prompter.close();
          }
        }
        const user = await setPassword(ctx, email, password, cliActor()).catch((err: unknown) => explain(err, email));
        process.stdout.write(`password set for ${user.display_id} <${user.email}> (id ${user.id})\n`);
      });
    });
}
