import cliProgress from 'cli-progress';

/** A command's progress on stderr, so stdout stays clean for --json and pipes. */
export interface ProgressBar {
  /** Sets the total (and the label, when given) before the first step; after stop(), starts a new bar. */
  start(total: number, label?: string): void;
  /** The count so far, with an optional new total and a detail after the numbers; `force` draws even when throttled. */
  update(done: number, total?: number, detail?: string, force?: boolean): void;
  /** One step (or n) more. */
  tick(n?: number): void;
  /** Finishes the line. */
  stop(): void;
}

export const silentProgress: ProgressBar = { start: () => undefined, update: () => undefined, tick: () => undefined, stop: () => undefined };

export interface ProgressOptions {
  /** When stderr is not a terminal (a log file, cron): a plain line every few seconds, or nothing. */
  piped?: 'lines' | 'silent';
  /** What is counted ("files"), shown after the numbers with the time left. */
  unit?: string;
  stream?: NodeJS.WriteStream;
}

const PIPED_EVERY_MS = 2000;
const WIDTH = 30;

function asciiBar(done: number, total: number): string {
  const filled = total > 0 ? Math.min(WIDTH, Math.round((done / total) * WIDTH)) : WIDTH;
  return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}]`;
}

/** A line every few seconds: logs read top to bottom, so nothing is redrawn. */
function pipedLines(stream: NodeJS.WriteStream, initialLabel: string): ProgressBar {
  let label = initialLabel;
  let total = 0;
  let done = 0;
  let last = 0;
  const update = (n: number, t = total, detail = '', force = false) => {
    done = n;
    total = t;
    if (!force && Date.now() - last < PIPED_EVERY_MS) return;
    last = Date.now();
    stream.write(`${label} ${asciiBar(done, total)} ${done}/${total}${detail ? ` ${detail}` : ''}\n`);
  };
  return {
    start(t, l) {
      total = t;
      done = 0;
      if (l) label = l;
    },
    update,
    tick: (n = 1) => update(done + n),
    stop: () => undefined,
  };
}

/** Redrawn in place on a terminal (cli-progress). */
function terminalBar(stream: NodeJS.WriteStream, initialLabel: string, unit: string | undefined): ProgressBar {
  const format = `{label} [{bar}] {percentage}% {value}/{total}${unit ? ` ${unit}, {eta_formatted} left` : ''}{detail}`;
  const bar = new cliProgress.SingleBar({ stream, format, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
  let label = initialLabel;
  let started = false;
  const ensure = (total: number) => {
    if (started) return;
    started = true;
    bar.start(total, 0, { label, detail: '' });
  };
  return {
    start(total, l) {
      if (l) label = l;
      ensure(total);
    },
    update(done, total, detail = '') {
      ensure(total ?? 0);
      if (total !== undefined) bar.setTotal(total);
      bar.update(done, { label, detail: detail ? ` ${detail}` : '' });
    },
    tick(n = 1) {
      ensure(0);
      bar.increment(n);
    },
    stop() {
      if (started) bar.stop();
      started = false; // a later start() draws a new bar (a command with two passes)
    },
  };
}

/**
 * The one terminal progress helper for every CLI command: a bar redrawn in place when stderr is a
 * terminal; when it is piped, plain lines every few seconds (`piped: 'lines'`) or nothing (the default).
 */
export function terminalProgress(label = '', opts: ProgressOptions = {}): ProgressBar {
  const stream = opts.stream ?? process.stderr;
  if (stream.isTTY) return terminalBar(stream, label, opts.unit);
  return opts.piped === 'lines' ? pipedLines(stream, label) : silentProgress;
}
