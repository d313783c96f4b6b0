import fs from 'node:fs';
import readline from 'node:readline';
import { classifyPath } from './naming';
import type { FactRow } from './repo';

/** One fact a TOYBOX log line states, without its source bookkeeping. */
type ParsedFact = Omit<FactRow, 'source_id' | 'ref' | 'source_line'>;

const base = (kind: string, at: Date | null): ParsedFact => ({ kind, old_user_id: null, display_id: null, display_name: null, occurred_at: at, file_name: null, sha256: null, details: {} });
const int = (s: string | undefined) => (s && /^\d+$/.test(s) ? Number(s) : null);

/**
 * The lines of Django's console log that carry ids (RECOVERY.md §2): uploads,
 * reactions, Discord shares, SSO account creations and points.
 */
export function parseLogMessage(message: string, at: Date | null): ParsedFact | null {
  let m = /File uploaded successfully: (\S+)/.exec(message);
  if (m) {
    const named = classifyPath(m[1]!);
    return { ...base('upload', at), old_user_id: named.oldUserId, display_id: named.displayId, file_name: m[1]!, details: { kind: named.kind, uploaded_at: named.uploadedAt?.toISOString() ?? null } };
  }
  m = /Notification created: user=(\d+), liker=(\d+), submission=(\d+)/.exec(message);
  if (m) return { ...base('reaction', at), old_user_id: int(m[2]), details: { recipient: int(m[1]), submission: int(m[3]) } };
  m = /Discord share successful: user=(\d+), submission=(\d+), message_id=(\d+)/.exec(message);
  if (m) return { ...base('share', at), old_user_id: int(m[1]), details: { submission: int(m[2]), message_id: m[3] } };
  m = /Created user via SSO: (\S+) \(studysphere_id=(\d+)\)/.exec(message);
  if (m) return { ...base('sso_user', at), display_id: m[1]!, details: { studysphere_id: int(m[2]) } };
  m = /\[Point\] user=(\d+) \+(\d+)pt \(([^)]*)\)(?: total=(\d+))?/.exec(message);
  if (m) return { ...base('points', at), old_user_id: int(m[1]), details: { points: int(m[2]), action: m[3], total: int(m[4]) } };
  return null;
}

export interface LogScan {
  lines: number;
  facts: Array<Omit<FactRow, 'source_id'>>;
  /** Lines that are not Docker json-file records (counted, reported once). */
  malformed: number;
}

/** Streams a Docker json-file log; each fact keeps its line number and the line itself. */
export async function scanDockerLog(file: string): Promise<LogScan> {
  const out: LogScan = { lines: 0, facts: [], malformed: 0 };
  const lines = readline.createInterface({ input: fs.createReadStream(file, { flags: 'r' }), crlfDelay: Infinity });
  for await (const line of lines) {
    out.lines++;
    if (!line.trim()) continue;
    let rec: { log?: unknown; time?: unknown };
    try {
      rec = JSON.parse(line) as { log?: unknown; time?: unknown };
    } catch {
      out.malformed++;
      continue;
    }
    if (typeof rec.log !== 'string') {
      out.malformed++;
      continue;
    }
    const at = typeof rec.time === 'string' && !Number.isNaN(Date.parse(rec.time)) ? new Date(rec.time) : null;
    const fact = parseLogMessage(rec.log, at);
    if (fact) out.facts.push({ ...fact, ref: `line:${out.lines}`, source_line: rec.log.trimEnd().slice(0, 2000) });
  }
  return out;
}
