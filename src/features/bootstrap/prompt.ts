import readline from 'node:readline';
import { CliError } from '../../cli/run-command';
import { EXIT } from '../../cli/exit-codes';

/**
 * Line prompts for the CLI. Typed passwords are not echoed on a terminal;
 * piped input (no terminal) is read line by line, so the same questions can
 * be scripted. Prompts go to stderr, keeping stdout for results.
 */
export class Prompter {
  private readonly rl: readline.Interface;
  private readonly lines: AsyncIterator<string>;
  private muted = false;

  constructor(
    input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
    private readonly output: NodeJS.WritableStream = process.stderr,
  ) {
    this.rl = readline.createInterface({ input, output, terminal: Boolean(input.isTTY), prompt: '' });
    // readline echoes keystrokes through this method; while muted only the line end gets through.
    const internal = this.rl as unknown as { _writeToOutput(s: string): void };
    const write = internal._writeToOutput.bind(this.rl);
    internal._writeToOutput = (s: string) => {
      if (!this.muted) write(s);
      else if (/[\r\n]/.test(s)) write('\n');
    };
    this.lines = this.rl[Symbol.asyncIterator]();
  }

  async ask(question: string, opts: { hidden?: boolean } = {}): Promise<string> {
    this.output.write(question);
    this.muted = Boolean(opts.hidden);
    try {
      const next = await this.lines.next();
      if (next.done) throw new CliError('input ended before every question was answered', EXIT.invalid);
      return next.value;
    } finally {
      this.muted = false;
    }
  }

  say(line: string): void {
    this.output.write(`${line}\n`);
  }

  close(): void {
    this.rl.close();
  }
}

/** `--password-stdin`: everything on stdin, minus one trailing newline (as `docker login --password-stdin`). */
export async function readPasswordFromStdin(input: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (!password) throw new CliError('no password on stdin (pipe it in: printf %s "$PASSWORD" | recovery-portal ...)', EXIT.invalid);
  return password;
}
