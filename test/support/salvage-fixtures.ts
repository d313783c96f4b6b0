import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import sharp, { type Sharp } from 'sharp';

/** Unix seconds before and after the incident (2026-01-22 11:57 UTC). */
export const OLD_TS = 1767225600; // 2026-01-01 00:00 UTC
export const NEW_TS = 1769500000; // 2026-01-27

/** Adds a PNG tEXt chunk before IEND, as AI tools write prompts. */
export function withPngText(png: Buffer, keyword: string, text: string): Buffer {
  const data = Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')]);
  const type = Buffer.from('tEXt', 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([type, data])));
  const iend = png.length - 12;
  return Buffer.concat([png.subarray(0, iend), len, type, data, crc, png.subarray(iend)]);
}

/** A picture with structure (so perceptual hashes mean something), distinct per seed. */
export async function picture(seed: number, size = 96): Promise<Sharp> {
  const raw = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      raw[i] = (x * (seed + 3) + y * 7) & 0xff;
      raw[i + 1] = ((x ^ y) * (seed + 1)) & 0xff;
      raw[i + 2] = (y * (seed + 5)) & 0xff;
    }
  return sharp(raw, { raw: { width: size, height: size, channels: 3 } });
}

function write(root: string, rel: string, bytes: Buffer | string): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
}

export const A1111_TEXT = 'a red fox in snow, masterpiece\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 424242, Size: 96x96, Model: sd15-base';

export interface UploadsFixture {
  /** Files written, relative to the tree root, with their expected kind. */
  files: Record<string, string>;
}

/**
 * TOYBOX's host uploads directory as the incident left it: every naming rule,
 * old-era posts (stored as uploaded) and a couple after the incident.
 */
export async function makeOldUploadsTree(root: string): Promise<UploadsFixture> {
  const files: Record<string, string> = {};
  const put = (rel: string, bytes: Buffer | string, kind: string) => {
    write(root, rel, bytes);
    files[rel] = kind;
  };
  const foxPng = withPngText(await (await picture(1)).png().toBuffer(), 'parameters', A1111_TEXT);
  put(`submissions/2_${OLD_TS}.png`, foxPng, 'post_image');
  put(`submissions/2_${OLD_TS}_thumb.jpg`, await sharp(foxPng).resize(48).jpeg({ quality: 85 }).toBuffer(), 'thumbnail');
  // The same bytes reused as a header: one blob, two names.
  put('profiles/header_2_deadbeef.png', foxPng, 'header');
  put('profiles/avatar_2_0a1b2c3d.jpg', await (await picture(2)).jpeg().toBuffer(), 'avatar');
  put('profiles/avatar_2_0a1b2c3d_thumb.jpg', await (await picture(2, 48)).jpeg().toBuffer(), 'avatar_thumbnail');
  put(`submissions/2_${OLD_TS + 100}.mp4`, Buffer.concat([Buffer.from('\0\0\0\x18ftypmp42'), crypto.randomBytes(5000)]), 'post_video');
  put(`submissions/2_${OLD_TS + 100}_poster.jpg`, await (await picture(3)).jpeg().toBuffer(), 'poster');
  const gpsJpeg = await (await picture(4))
    .jpeg()
    .withExif({ IFD0: { Software: 'NovelAI', ImageDescription: 'cat astronaut' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '35/1 41/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '139/1 41/1 0/1' } })
    .toBuffer();
  put(`submissions/3_${OLD_TS + 5000}.jpg`, gpsJpeg, 'post_image');
  const comfy = JSON.stringify({
    '3': { class_type: 'KSampler', inputs: { seed: 777, steps: 20 } },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'C:\\Users\\taro\\models\\secret.safetensors' } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'blue whale, reference /home/taro/refs/whale.png' } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'lowres' } },
  });
  put(`submissions/4_${OLD_TS + 9000}.png`, withPngText(await (await picture(5)).png().toBuffer(), 'prompt', comfy), 'post_image');
  put(`submissions/5_${OLD_TS + 9500}.png`, 'this is not a picture', 'post_image');
  put(`submissions/9_${OLD_TS + 9900}_thumb.jpg`, await (await picture(6, 48)).jpeg().toBuffer(), 'thumbnail');
  put(`games/taro/${OLD_TS + 20000}/index.html`, '<!doctype html><title>game</title>', 'game_file');
  put(`games/taro/${OLD_TS + 20000}/js/main.js`, 'console.log("play")', 'game_file');
  put('submissions/thumbnails/my game cover.png', await (await picture(7)).png().toBuffer(), 'game_thumbnail');
  put('articles/media/3f2b9c1e-8a4d-4e2f-9b1a-2c3d4e5f6a7b.png', await (await picture(8)).png().toBuffer(), 'article_file');
  put('cards/C001.png', await (await picture(9)).png().toBuffer(), 'master');
  put('titles/beginner.png', await (await picture(10)).png().toBuffer(), 'master');
  put(`submissions/3_${NEW_TS}.jpg`, await (await picture(11)).jpeg({ quality: 85 }).toBuffer(), 'post_image');
  put('notes.txt', 'left by an admin', 'other');
  // Files keep the time they were written: before the incident, except the one post made after it.
  for (const rel of Object.keys(files)) {
    const t = rel.includes(String(NEW_TS)) ? NEW_TS : OLD_TS + 30000;
    fs.utimesSync(path.join(root, rel), t, t);
  }
  return { files };
}

/** The named volume after the incident: new ids restarted at 1, images re-encoded (JPEG q85, EXIF dropped). */
export async function makeNewUploadsTree(root: string, oldTree: string): Promise<UploadsFixture> {
  const files: Record<string, string> = {};
  const reencoded = await sharp(fs.readFileSync(path.join(oldTree, `submissions/2_${OLD_TS}.png`))).jpeg({ quality: 85 }).toBuffer();
  write(root, `submissions/2_${NEW_TS + 60}.jpg`, reencoded);
  files[`submissions/2_${NEW_TS + 60}.jpg`] = 'post_image';
  write(root, `submissions/1_${NEW_TS + 120}.jpg`, await (await picture(12)).jpeg({ quality: 85 }).toBuffer());
  files[`submissions/1_${NEW_TS + 120}.jpg`] = 'post_image';
  return { files };
}

/** Every file's bytes hash and mtime under a tree: to prove salvage never wrote to a source. */
export function fingerprintTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) walk(abs);
      else if (e.isSymbolicLink()) out[path.relative(root, abs)] = `-> ${fs.readlinkSync(abs)}`;
      else {
        const st = fs.statSync(abs);
        out[path.relative(root, abs)] = `${crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex')} ${st.mtimeMs} ${st.size}`;
      }
    }
    out[`${path.relative(root, dir) || '.'}/`] = String(fs.statSync(dir).mtimeMs);
  };
  walk(root);
  return out;
}

/** A DiscordChatExporter JSON export of the share channel, with its media folder (as `--media` downloads it). */
export function makeDiscordExport(dir: string, oldTree: string): string {
  const media = path.join(dir, 'share.json_Files');
  fs.mkdirSync(media, { recursive: true });
  const stored = `2_${OLD_TS}.png`;
  fs.copyFileSync(path.join(oldTree, 'submissions', stored), path.join(media, `2_${OLD_TS}-5A1E.png`));
  const bot = { id: '900', name: 'TOYBOX', discriminator: '0000', nickname: 'TOYBOX', isBot: true };
  const export_ = {
    guild: { id: '1', name: 'TOYBOX', iconUrl: '' },
    channel: { id: '2', type: 'GuildTextChat', categoryId: '3', category: 'general', name: 'share', topic: null },
    dateRange: { after: null, before: null },
    exportedAt: '2026-01-25T00:00:00+00:00',
    messages: [
      { id: '1001', type: 'Default', timestamp: '2025-12-31T10:00:00+00:00', content: 'hello', author: { id: '5', name: 'someone', isBot: false }, attachments: [], embeds: [], components: [] },
      {
        id: '1002',
        type: 'Default',
        timestamp: new Date((OLD_TS + 25) * 1000).toISOString(),
        content: '**たろう**さんが作品を共有しました！',
        author: bot,
        attachments: [{ id: 'a1', url: `share.json_Files/2_${OLD_TS}-5A1E.png`, fileName: stored, fileSizeBytes: 1 }],
        embeds: [{ title: '', url: null, timestamp: new Date((OLD_TS + 20) * 1000).toISOString(), author: { name: 'たろう' }, images: [], fields: [] }],
        components: [],
      },
      {
        id: '1003',
        type: 'Default',
        timestamp: new Date((OLD_TS + 20040) * 1000).toISOString(),
        content: '**たろう**さんがゲームを共有しました！',
        author: bot,
        attachments: [],
        embeds: [{ timestamp: new Date((OLD_TS + 20001) * 1000).toISOString(), author: { name: 'たろう' } }],
        components: [{ type: 'ActionRow', components: [{ type: 'Button', label: 'Play', url: `https://toybox.example/uploads/games/taro/${OLD_TS + 20000}/index.html` }] }],
      },
    ],
    messageCount: 3,
  };
  const file = path.join(dir, 'share.json');
  fs.writeFileSync(file, JSON.stringify(export_, null, 2));
  return file;
}

/** A Docker json-file log of TOYBOX's web container, with the lines that carry ids and some that do not. */
export function makeDockerLog(dir: string): string {
  const t = (s: number) => new Date(s * 1000).toISOString().replace('Z', '123456Z');
  const lines = [
    { log: 'Watching for file changes with StatReloader\n', stream: 'stderr', time: t(OLD_TS) },
    { log: `INFO 2026-01-01 views File uploaded successfully: submissions/2_${OLD_TS}.png\n`, stream: 'stderr', time: t(OLD_TS) },
    { log: 'INFO views Notification created: user=2, liker=3, submission=1\n', stream: 'stderr', time: t(OLD_TS + 600) },
    { log: 'INFO sharing Discord share successful: user=2, submission=1, message_id=1002\n', stream: 'stderr', time: t(OLD_TS + 25) },
    { log: 'INFO backends Created user via SSO: taro (studysphere_id=5001)\n', stream: 'stderr', time: t(OLD_TS - 86400) },
    { log: '[Point] user=2 +10pt (post) total=10\n', stream: 'stdout', time: t(OLD_TS + 21) },
  ];
  const file = path.join(dir, 'c0ffee-json.log');
  fs.writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\nnot json at all\n`);
  return file;
}
