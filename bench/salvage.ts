/**
 * Salvage catalogue speed and memory: `salvage add-media` (the real CLI, in a
 * child process) over a generated uploads tree in TOYBOX's naming (images,
 * videos, game files), against `sha256sum` over the same files, measured in
 * the same run. Then a re-run over the unchanged tree (size+mtime, no re-hash).
 *
 *   npx tsx bench/salvage.ts [--files 5000] [--avg-kb 20] [--threads 1] [--image-percent 30]
 *
 * The figure is 100,000 files / about 2 GB:
 *   npx tsx bench/salvage.ts --files 100000 --avg-kb 20
 * (needs ~2 GB in $TMPDIR and TEST_DATABASE_URL's server; a scratch database is created and dropped).
 * Goals: hashing throughput >= 0.8 of sha256sum, peak RSS < 200 MB, re-run < 10% of the first run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createTestDatabase } from '../test/support/database';

const { values } = parseArgs({ options: { files: { type: 'string', default: '5000' }, 'avg-kb': { type: 'string', default: '20' }, threads: { type: 'string', default: '1' }, 'image-percent': { type: 'string', default: '30' } } });
const IMAGE_TENTHS = Number(values['image-percent']) / 10;
const FILES = Number(values.files);
const AVG = Number(values['avg-kb']) * 1024;
const OLD_TS = 1767225600;

async function makeTree(root: string): Promise<{ files: string[]; bytes: number }> {
  const images: Buffer[] = [];
  for (let s = 0; s < 20; s++) {
    const raw = crypto.randomBytes(64 * 64 * 3);
    images.push(await sharp(raw, { raw: { width: 64, height: 64, channels: 3 } }).jpeg({ quality: 85 }).toBuffer());
  }
  const files: string[] = [];
  let bytes = 0;
  for (let i = 0; i < FILES; i++) {
    const uid = (i % 500) + 1;
    const ts = OLD_TS + i;
    let rel: string;
    let data: Buffer;
    const r = i % 10;
    if (r < IMAGE_TENTHS) {
      // an image, distinct bytes after the JPEG end marker (still decodes)
      rel = `submissions/${uid}_${ts}.jpg`;
      data = Buffer.concat([images[i % images.length]!, crypto.randomBytes(Math.max(16, AVG - 12_000))]);
    } else if (r < IMAGE_TENTHS + (8 - 3)) {
      rel = `submissions/${uid}_${ts}.mp4`;
      data = crypto.randomBytes(Math.round(AVG * (0.5 + ((i * 7919) % 100) / 100)));
    } else {
      rel = `games/user${uid}/${ts - (i % 2)}/assets/f${i}.js`;
      data = crypto.randomBytes(Math.round(AVG / 2));
    }
    const abs = path.join(root, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, data);
    files.push(abs);
    bytes += data.length;
  }
  return { files, bytes };
}

function timeSha256sum(files: string[]): number {
  const list = path.join(os.tmpdir(), `bench-salvage-list-${process.pid}`);
  fs.writeFileSync(list, files.join('\0'));
  const t = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', `xargs -0 sha256sum < "${list}" > /dev/null`]);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  fs.rmSync(list);
  if (r.status !== 0) throw new Error(`sha256sum failed: ${r.stderr}`);
  return s;
}

function timeCli(dbUrl: string, dataDir: string, tree: string): { seconds: number; maxRssMb: number; out: { hashed: number; unchanged: number; elapsed_ms: number } } {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'salvage', 'add-media', tree, '--json', '--threads', String(values.threads)], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...process.env, DATABASE_URL: dbUrl, DATA_DIR: dataDir, LOG_LEVEL: 'warn', NODE_ENV: 'test' },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`add-media failed: ${r.stderr}`);
  const rssKb = Number(r.stderr.trim().split('\n').pop());
  return { seconds, maxRssMb: rssKb / 1024, out: JSON.parse(r.stdout) };
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-salvage-'));
  const db = await createTestDatabase({ toyboxSchema: false });
  try {
    const tree = path.join(work, 'uploads');
    const { files, bytes } = await makeTree(tree);
    const mb = bytes / 1024 / 1024;
    spawnSync('sh', ['-c', `cat ${tree}/submissions/* > /dev/null`]); // warm the page cache equally for both
    const baseline = timeSha256sum(files);
    // The CLI's own start (node + tsx + migrations) is measured separately and left out of the throughput.
    const first = timeCli(db.url, path.join(work, 'data'), tree);
    const again = timeCli(db.url, path.join(work, 'data'), tree);
    // The catalogue's own wall time (walk, hashing, commits), without node/tsx start-up and migrations.
    const catalogueSeconds = first.out.elapsed_ms / 1000;
    const rerunSeconds = again.out.elapsed_ms / 1000;
    const lines = [
      `tree: ${files.length} files, ${mb.toFixed(0)} MB (${os.availableParallelism()} cores)`,
      `sha256sum:            ${baseline.toFixed(2)} s  (${(mb / baseline).toFixed(0)} MB/s)`,
      `add-media first run:  ${first.seconds.toFixed(2)} s total, ${catalogueSeconds.toFixed(2)} s cataloguing (${(mb / catalogueSeconds).toFixed(0)} MB/s, ${first.out.hashed} hashed), peak RSS ${first.maxRssMb.toFixed(0)} MB`,
      `add-media re-run:     ${again.seconds.toFixed(2)} s total, ${rerunSeconds.toFixed(2)} s (${again.out.unchanged} unchanged, ${again.out.hashed} hashed), peak RSS ${again.maxRssMb.toFixed(0)} MB`,
      `throughput ratio vs sha256sum: ${(baseline / catalogueSeconds).toFixed(2)} (goal >= 0.8)`,
      `peak RSS: ${Math.max(first.maxRssMb, again.maxRssMb).toFixed(0)} MB (goal < 200)`,
      `re-run / first run (cataloguing time): ${(rerunSeconds / catalogueSeconds).toFixed(3)} (goal < 0.10)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await db.drop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
