import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number, label: string): void;
  tick(n?: number): void;
  stop(): void;
}

export const silentProgress: Progress = { start: () => undefined, tick: () => undefined, stop: () => undefined };

/** A bar on stderr when it is a terminal (stdout stays clean for --json); nothing otherwise. */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return silentProgress;
  const bar = new cliProgress.SingleBar(
    { stream, format: '{label} [{bar}] {percentage}% {value}/{total} files, {eta_formatted} left', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total, label) => bar.start(total, 0, { label }),
    tick: (n = 1) => bar.increment(n),
    stop: () => bar.stop(),
  };
}
