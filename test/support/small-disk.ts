import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

export interface SmallDisk {
  dir: string;
  freeBytes(): number;
  /** Fills the disk with a ballast file until only `leaveBytes` are free (0: completely full). */
  fill(leaveBytes?: number): void;
  /** Deletes the ballast: the operator freed space. */
  release(): void;
  unmount(): void;
}

/**
 * A real size-capped filesystem: a tmpfs of `size` (needs root, as the CI
 * container runs). Writes beyond it fail with ENOSPC exactly as on a full disk.
 */
export function mountSmallDisk(size = '1m'): SmallDisk {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'small-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  const ballast = path.join(dir, 'ballast');
  const freeBytes = () => {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  };
  return {
    dir,
    freeBytes,
    fill(leaveBytes = 0) {
      const fd = fs.openSync(ballast, 'a');
      try {
        const chunk = Buffer.alloc(4096, 1);
        while (freeBytes() > leaveBytes) {
          try {
            fs.writeSync(fd, chunk, 0, Math.min(chunk.length, Math.max(1, freeBytes() - leaveBytes)));
          } catch {
            break; // full
          }
        }
      } finally {
        fs.closeSync(fd);
      }
    },
    release() {
      fs.rmSync(ballast, { force: true });
    },
    unmount() {
      try {
        execFileSync('umount', [dir]);
      } catch {
        execFileSync('umount', ['-l', dir]); // something still has a file open: detach now, freed when closed
      }
      fs.rmdirSync(dir);
    },
  };
}
