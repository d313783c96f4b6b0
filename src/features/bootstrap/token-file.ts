import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../files/atomic-write';

/** Where the one-time setup token is written for the operator on the host (mode 0600). */
export function tokenFilePath(dataDir: string): string {
  return path.join(dataDir, 'bootstrap-token');
}

/**
 * Written to a temporary file created 0600 and renamed over the old one, so
 * the token is never readable by others, not even for a moment, and a reader
 * never sees half a token.
 */
export async function writeTokenFile(dataDir: string, token: string): Promise<string> {
  const file = tokenFilePath(dataDir);
  await writeFileAtomic(file, `${token}\n`, { mode: 0o600 });
  return file;
}

export async function readTokenFile(dataDir: string): Promise<string | null> {
  try {
    return (await fs.promises.readFile(tokenFilePath(dataDir), 'utf8')).trim();
  } catch {
    return null;
  }
}

export async function removeTokenFile(dataDir: string): Promise<void> {
  await fs.promises.rm(tokenFilePath(dataDir), { force: true });
}
