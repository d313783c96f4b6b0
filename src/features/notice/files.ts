import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../files/atomic-write';
import { PUBLIC_DIR, PUBLIC_FILE, ensurePrivateDir } from '../../files/private';
import type { NoticeSnapshot } from './model';
import type { PublicBundle } from './bundle';

/** Where the full snapshot lives (read at start) and where the static copies go (served by Caddy when the portal is down). */
export function snapshotPath(dataDir: string): string {
  return path.join(dataDir, 'notice-snapshot.json');
}

export function publicDir(dataDir: string): string {
  return path.join(dataDir, 'public');
}

export function readSnapshotFile(dataDir: string): NoticeSnapshot | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(snapshotPath(dataDir), 'utf8')) as NoticeSnapshot;
    return typeof parsed.version === 'number' && Array.isArray(parsed.active) && Array.isArray(parsed.history) ? parsed : null;
  } catch {
    return null;
  }
}

/** The snapshot and the three public files, each replaced atomically; the snapshot last, so it never runs ahead of them. */
export async function writeSnapshotFiles(dataDir: string, snapshot: NoticeSnapshot, bundle: PublicBundle): Promise<void> {
  const dir = publicDir(dataDir);
  // Public by definition, and read by Caddy (possibly as its own user) when the portal is down.
  await ensurePrivateDir(dir, PUBLIC_DIR);
  const pub = { mode: PUBLIC_FILE };
  await writeFileAtomic(path.join(dir, 'notice.json'), bundle.api.body, pub);
  await writeFileAtomic(path.join(dir, 'banner.js'), bundle.js.body, pub);
  await writeFileAtomic(path.join(dir, 'banner.html'), bundle.html.ja.body, pub);
  await writeFileAtomic(path.join(dir, 'banner.en.html'), bundle.html.en.body, pub);
  await writeFileAtomic(snapshotPath(dataDir), JSON.stringify(snapshot)); // 0600: drafts' history is not public
}
