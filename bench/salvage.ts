/**
 * Salvage catalogue speed and memory: `salvage add-media` (the real CLI, compiled as in the
 * Docker image, in a child process) over a generated uploads tree in TOYBOX's naming
 * (images, videos, game files), against `sha256sum` over the same files, measured in the
 * same run with the page cache warmed over ALL files for both. Then a re-run over the
 * unchanged tree (size+mtime, no re-hash).
 *
 *   npx tsx bench/salvage.ts [--files 5000] [--avg-kb 20] [--threads N] [--image-percent 30] [--tsx]
 *
 * The issue's figure is 100,000 files / about 2 GB:
 *   npx tsx bench/salvage.ts --files 100000 --avg-kb 24
 * (about 2 GB: needs that much in $TMPDIR and TEST_DATABASE_URL's server; a scratch database is created and dropped).
 * The CLI is compiled (tsc into dist-bench-salvage/, removed afterwards) and run with plain node;
 * `--tsx` runs the TypeScript source through tsx instead (tsx alone holds ~150 MB).
 * `--threads` defaults to the CLI's own default (every core, at most 4).
 * Goals: throughput >= 0.8 of sha256sum, peak RSS < 200 MB, re-run < 10% of the first run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createTestDatabase } from '../test/support/database';

const { values } = parseArgs({
  options: { files: { type: 'string', default: '5000' }, 'avg-kb': { type: 'string', default: '20' }, threads: { type: 'string' }, 'image-percent': { type: 'string', default: '30' }, tsx: { type: 'boolean', default: false } },
});
const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist-bench-salvage');
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

/** Reads every file once so both contenders start from the same warm page cache. */
function warm(list: string): void {
  const r = spawnSync('sh', ['-c', `xargs -0 cat < "${list}" > /dev/null`]);
  if (r.status !== 0) throw new Error(`warming failed: ${r.stderr}`);
}

function timeSha256sum(list: string): number {
  warm(list);
  const t = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', `xargs -0 sha256sum < "${list}" > /dev/null`]);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`sha256sum failed: ${r.stderr}`);
  return s;
}

/** Compiles the portal into dist-bench-salvage/ with views, locales and fixtures beside it (as in the Docker image). */
function build(): void {
  fs.rmSync(DIST, { recursive: true, force: true });
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', DIST], { stdio: 'inherit' });
  for (const d of ['views', 'locales', 'public']) fs.symlinkSync(path.join(ROOT, d), path.join(DIST, d));
  fs.cpSync(path.join(ROOT, 'src', 'toybox', 'fixtures'), path.join(DIST, 'src', 'toybox', 'fixtures'), { recursive: true });
}

interface CliOut {
  hashed: number;
  unchanged: number;
  images_decoded: number;
  catalogue_ms: number;
  images_ms: number;
  elapsed_ms: number;
}

function timeCli(list: string, dbUrl: string, dataDir: string, tree: string): { seconds: number; maxRssMb: number; out: CliOut } {
  warm(list);
  const cli = values.tsx ? ['--import', 'tsx', 'src/cli/main.ts'] : [path.join(DIST, 'src', 'cli', 'main.js')];
  const threads = values.threads ? ['--threads', values.threads] : [];
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...cli, 'salvage', 'add-media', tree, '--json', ...threads], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: dbUrl, DATA_DIR: dataDir, LOG_LEVEL: 'warn', NODE_ENV: 'test' },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`add-media failed: ${r.stderr}`);
  const rssKb = Number(r.stderr.trim().split('\n').pop());
  return { seconds, maxRssMb: rssKb / 1024, out: JSON.parse(r.stdout) as CliOut };
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-salvage-'));
  const db = await createTestDatabase({ toyboxSchema: false });
  try {
    if (!values.tsx) build();
    const tree = path.join(work, 'uploads');
    const { files, bytes } = await makeTree(tree);
    const list = path.join(work, 'files.list');
    fs.writeFileSync(list, files.join('\0'));
    const mb = bytes / 1024 / 1024;
    // sha256sum before and after the first run; the faster one is the baseline (the stricter comparison).
    const sumBefore = timeSha256sum(list);
    const first = timeCli(list, db.url, path.join(work, 'data'), tree);
    const sumAfter = timeSha256sum(list);
    const again = timeCli(list, db.url, path.join(work, 'data'), tree);
    const baseline = Math.min(sumBefore, sumAfter);
    // The catalogue's own wall time (walk, hashing, commits; then the image pass), without node start-up and migrations.
    const s = (ms: number) => ms / 1000;
    const f = first.out;
    const startup = first.seconds - s(f.elapsed_ms);
    const images = files.filter((p) => p.endsWith('.jpg')).length;
    const lines = [
      `tree: ${files.length} files (${images} images), ${mb.toFixed(0)} MB (${os.availableParallelism()} cores, CLI ${values.tsx ? 'under tsx' : 'compiled'}${values.threads ? `, --threads ${values.threads}` : ', default threads'})`,
      `sha256sum:            ${baseline.toFixed(2)} s  (${(mb / baseline).toFixed(0)} MB/s; runs ${sumBefore.toFixed(2)} s before, ${sumAfter.toFixed(2)} s after)`,
      `add-media first run:  ${first.seconds.toFixed(2)} s total = ${startup.toFixed(2)} s start-up (node, migrations) + ${s(f.elapsed_ms).toFixed(2)} s work, peak RSS ${first.maxRssMb.toFixed(0)} MB`,
      `  catalogue pass:     ${s(f.catalogue_ms).toFixed(2)} s (${(mb / s(f.catalogue_ms)).toFixed(0)} MB/s, ${f.hashed} hashed: walk, SHA-256, names, commits)`,
      `  image pass:         ${s(f.images_ms).toFixed(2)} s (${f.images_decoded} distinct images decoded: size, perceptual hash, metadata)`,
      `add-media re-run:     ${again.seconds.toFixed(2)} s total, ${s(again.out.elapsed_ms).toFixed(2)} s work (${again.out.unchanged} unchanged, ${again.out.hashed} hashed), peak RSS ${again.maxRssMb.toFixed(0)} MB`,
      `throughput ratio vs sha256sum, catalogue pass:            ${(baseline / s(f.catalogue_ms)).toFixed(2)} (goal >= 0.8)`,
      `throughput ratio vs sha256sum, both passes:               ${(baseline / s(f.elapsed_ms)).toFixed(2)}`,
      `throughput ratio vs sha256sum, both passes with start-up: ${(baseline / first.seconds).toFixed(2)}`,
      `peak RSS: ${Math.max(first.maxRssMb, again.maxRssMb).toFixed(0)} MB (goal < 200)`,
      `re-run / first run, work: ${(again.out.elapsed_ms / f.elapsed_ms).toFixed(3)} (goal < 0.10); re-run work / catalogue pass: ${(again.out.elapsed_ms / f.catalogue_ms).toFixed(3)}; with start-up: ${(again.seconds / first.seconds).toFixed(3)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await db.drop();
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(DIST, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
