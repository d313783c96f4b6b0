import fs from 'node:fs';
import path from 'node:path';
import { chain } from 'stream-chain';
import { parser } from 'stream-json';
import { pick } from 'stream-json/filters/Pick';
import { streamArray } from 'stream-json/streamers/StreamArray';
import { sha256File } from '../../files/sha256';
import { BadSource } from './errors';
import { classifyPath } from './naming';
import type { FactRow } from './repo';

interface DceMessage {
  id: string;
  timestamp?: string;
  content?: string;
  author?: { name?: string; isBot?: boolean };
  attachments?: Array<{ url?: string; fileName?: string }>;
  embeds?: Array<{ timestamp?: string | null; author?: { name?: string } | null; url?: string | null }>;
  components?: Array<{ components?: Array<{ url?: string | null }> }>;
}

export interface DiscordScan {
  messages: number;
  facts: Array<Omit<FactRow, 'source_id'>>;
  warnings: string[];
}

const SHARE_TEXT = /\*\*(.+?)\*\*さんが/;

/** A DiscordChatExporter JSON export starts with its guild object; anything else is refused before reading further. */
function checkFormat(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(2048);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const text = head.subarray(0, n).toString('utf8').replace(/^\ufeff/, '');
    if (!/^\s*\{\s*"guild"\s*:/.test(text) || !/"channel"\s*:/.test(text)) {
      throw new BadSource(`${file}: not a DiscordChatExporter JSON export (it must start with "guild" and "channel"; export with --format Json)`);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Streams the export's messages (stream-json: an export can be hundreds of MB)
 * and keeps TOYBOX's bot shares: display name, the post's exact time (embed
 * timestamp), the stored file name (old user id) and, when the media was
 * downloaded beside the export, the file's SHA-256; game shares by their link.
 */
export async function scanDiscordExport(file: string): Promise<DiscordScan> {
  checkFormat(file);
  const out: DiscordScan = { messages: 0, facts: [], warnings: [] };
  const dir = path.dirname(file);
  const pipeline = chain([fs.createReadStream(file, { flags: 'r' }), parser(), pick({ filter: 'messages' }), streamArray()]);
  const pending: DceMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    pipeline.on('data', ({ value }: { value: DceMessage }) => {
      out.messages++;
      if (value.author?.isBot && (SHARE_TEXT.test(value.content ?? '') || value.embeds?.some((e) => e.author?.name))) pending.push(value);
    });
    pipeline.on('end', resolve);
    pipeline.on('error', (err: Error) => reject(new BadSource(`${file}: not valid JSON at some point (${err.message.slice(0, 200)}): export again`)));
  });
  for (const msg of pending) {
    const embed = msg.embeds?.find((e) => e.author?.name) ?? msg.embeds?.[0];
    const name = embed?.author?.name ?? SHARE_TEXT.exec(msg.content ?? '')?.[1] ?? null;
    const postedAt = embed?.timestamp ? new Date(embed.timestamp) : msg.timestamp ? new Date(msg.timestamp) : null;
    const line = `${msg.timestamp ?? ''} ${msg.content ?? ''}`.trim().slice(0, 2000);
    for (const [i, a] of (msg.attachments ?? []).entries()) {
      const stored = a.fileName ?? '';
      const named = classifyPath(`submissions/${stored}`);
      let sha256: string | null = null;
      const local = a.url && !/^https?:/i.test(a.url) ? path.resolve(dir, decodeURIComponent(a.url)) : null;
      if (local && fs.existsSync(local)) sha256 = await sha256File(local);
      else out.warnings.push(`message ${msg.id}: attachment ${stored} was not downloaded with the export (no bytes to match)`);
      out.facts.push({
        ref: `message:${msg.id}:${i}`,
        kind: 'discord_share',
        old_user_id: named.oldUserId,
        display_id: null,
        display_name: name,
        occurred_at: postedAt,
        file_name: named.kind === 'other' ? stored : `submissions/${stored}`,
        sha256,
        details: { message_id: msg.id, message_at: msg.timestamp ?? null },
        source_line: line,
      });
    }
    const gameUrl = msg.components?.flatMap((c) => c.components ?? []).map((b) => b.url ?? '').find((u) => /\/games\//.test(u));
    if (gameUrl) {
      const rel = /\/(games\/[^?#]+)/.exec(gameUrl)?.[1] ?? '';
      const named = classifyPath(rel.endsWith('/') ? `${rel}index.html` : rel);
      out.facts.push({
        ref: `message:${msg.id}:game`,
        kind: 'discord_game_share',
        old_user_id: null,
        display_id: named.displayId,
        display_name: name,
        occurred_at: postedAt,
        file_name: named.gameFolder,
        sha256: null,
        details: { message_id: msg.id, url: gameUrl },
        source_line: line,
      });
    }
  }
  return out;
}
