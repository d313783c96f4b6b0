import iconv from 'iconv-lite';

/**
 * Text that was UTF-8 but got read as CP932 (Shift_JIS) and written back out
 * ("譁・ｭ怜喧縺�"). Encoding it back to CP932 gives the original bytes only when
 * every step was reversible; the repair is accepted only then, and only when the
 * bytes then decode as clean UTF-8. Real Japanese text never passes that test
 * (its CP932 bytes are not valid UTF-8), so it is left alone.
 */
export function repairMojibake(text: string): string | null {
  if (!/[^\x00-\x7f]/.test(text)) return null;
  const bytes = iconv.encode(text, 'cp932');
  if (iconv.decode(bytes, 'cp932') !== text) return null;
  const fixed = bytes.toString('utf8');
  if (fixed.includes('\ufffd') || fixed === text) return null;
  return fixed;
}

export interface RepairStats {
  repaired: number;
  /** Non-ASCII fields left as they were: correct text, or mojibake that cannot be reversed. */
  kept: number;
  /** Line numbers (1-based) holding kept fields that look like mojibake, for a person to check. */
  suspectLines: number[];
}

// Characters CP932 decoding of UTF-8 Japanese typically produces (lead bytes E3..E9 read as kanji, half-width kana trails).
const MOJIBAKE_HINT = /[縺繧繝譁蜷荳螟驍謨逕鬮豁莠霑蛻菴遘][\uff61-\uff9f・]|[\ufffd]/;

/** Repairs each tab-separated field of a line (COPY rows), or the line as a whole for SQL statements. */
export function repairLine(line: string, lineNo: number, stats: RepairStats): string {
  if (!/[^\x00-\x7f]/.test(line)) return line;
  const fields = line.split('\t');
  let suspect = false;
  const out = fields.map((f) => {
    if (!/[^\x00-\x7f]/.test(f)) return f;
    const fixed = repairMojibake(f);
    if (fixed !== null) {
      stats.repaired++;
      return fixed;
    }
    stats.kept++;
    if (MOJIBAKE_HINT.test(f)) suspect = true;
    return f;
  });
  if (suspect && stats.suspectLines.length < 50) stats.suspectLines.push(lineNo);
  return out.join('\t');
}
