/** A one-line progress display on stderr: redrawn in place on a terminal, a line every few seconds otherwise. */
export function progressLine(label: string) {
  const tty = process.stderr.isTTY;
  let lastPrint = 0;
  return {
    update(done: number, total: number, extra = '', force = false) {
      const now = Date.now();
      if (!force && now - lastPrint < (tty ? 200 : 2000)) return;
      lastPrint = now;
      const width = 30;
      const filled = total > 0 ? Math.round((done / total) * width) : width;
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
      const line = `${label} ${bar} ${done}/${total}${extra ? ` ${extra}` : ''}`;
      process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}
