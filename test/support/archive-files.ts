import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

/** Unpacks a ZIP archive into `work/name` with Info-ZIP (a forger's first step); returns that directory. */
export function unpackArchive(file: string, work: string, name: string): string {
  const dir = path.join(work, name);
  execFileSync('unzip', ['-q', '-o', file, '-d', dir]);
  return dir;
}

/** Zips a directory back up with Info-ZIP into `work/name.zip`, as someone editing an archive by hand would; returns the file. */
export function rezipArchive(dir: string, work: string, name: string): string {
  const out = path.join(work, `${name}.zip`);
  fs.rmSync(out, { force: true });
  execFileSync('zip', ['-q', '-r', '-X', out, '.'], { cwd: dir });
  return out;
}
