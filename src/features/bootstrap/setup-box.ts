import { chooseLogFormat } from '../../log-format';

/** The first-run message as a framed block: what to open, where the token is, until when. */
export function formatSetupBox(lines: string[]): string {
  const width = Math.max(...lines.map((l) => l.length));
  const bar = '─'.repeat(width + 2);
  return [`┌${bar}┐`, ...lines.map((l) => `│ ${l.padEnd(width)} │`), `└${bar}┘`].join('\n');
}

/**
 * At a terminal the operator sees the setup address and token file framed
 * below the log lines (the log line stays, for collectors). Never the token
 * itself: it is in the 0600 file.
 */
export function printSetupBox(info: { setupUrl: string; file: string; expiresAt: Date }, out: NodeJS.WriteStream = process.stdout): void {
  if (chooseLogFormat({ isTTY: out.isTTY, nodeEnv: process.env.NODE_ENV, override: process.env.LOG_FORMAT }) !== 'pretty') return;
  const box = formatSetupBox([
    'First run: no TOYBOX superuser yet. Create one in the browser:',
    '',
    `  1. Open       ${info.setupUrl}`,
    `  2. Enter the setup token from ${info.file}`,
    `     (cat ${info.file}; valid until ${info.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
  ]);
  out.write(`\n${box}\n\n`);
}
