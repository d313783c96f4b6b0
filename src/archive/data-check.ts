import Assembler from 'stream-json/Assembler';
import { findKind } from '../toybox/personal-data';

/** A token from stream-json's parser (packed values only). */
export interface JsonToken {
  name: string;
  value?: string;
}

type Row = Record<string, unknown>;
type Key = string | number;

interface Container {
  array: boolean;
  key: string | null;
  index: number;
}

const PROBLEM_CAP = 20;

/**
 * Checks data.json's rows as they stream past (one row in memory at a time):
 * every row of a kind has a well-formed global id for that kind's table,
 * unique in the archive (and this site's own id where no restore can have
 * set it); counts match the arrays; the user block and the
 * media index are collected for the manifest checks. data.json's bytes are
 * covered by the signed manifest; this catches an archive whose rows do not
 * say what its manifest claims (or one assembled by hand).
 */
export class DataJsonCheck {
  readonly problems: string[] = [];
  user: { id?: unknown; display_id?: unknown; global_id?: unknown } | null = null;
  formatVersion: unknown = null;
  /** media/... path -> SHA-256 named in data.json's media index. */
  readonly mediaHashes = new Map<string, string>();
  private readonly rows = new Map<string, number>();
  private counts: Record<string, unknown> | null = null;
  private readonly ids = new Set<string>();
  private readonly containers: Container[] = [];
  private asm: Assembler | null = null;
  private asmPath: Key[] = [];
  private dropped = 0;

  /** `hooks` see each row (kind, whole row) and each media index entry as they stream past (readers of a verified archive). */
  constructor(
    private readonly toyboxHost: string,
    private readonly hooks: { row?: (kind: string, row: Row) => void; media?: (entry: Row) => void } = {},
  ) {}

  private problem(message: string): void {
    if (this.problems.length < PROBLEM_CAP) this.problems.push(message);
    else this.dropped += 1;
  }

  private path(): Key[] {
    return this.containers.map((c) => (c.array ? c.index : (c.key ?? '')));
  }

  /** Which values are assembled whole: one row, one media entry, the user block, the counts, top-level scalars. */
  private wanted(p: Key[]): boolean {
    if (p.length === 3 && p[0] === 'kinds') return true;
    if (p.length === 2 && p[0] === 'media') return true;
    return p.length === 1 && ['user', 'counts', 'format_version'].includes(String(p[0]));
  }

  token(t: JsonToken): void {
    if (this.asm) {
      this.asm.consume(t);
      if (this.asm.done) this.finishValue(this.asmPath, this.asm.current);
      return;
    }
    if (t.name === 'keyValue') {
      const top = this.containers[this.containers.length - 1];
      if (top) top.key = String(t.value);
      return;
    }
    if (t.name === 'endObject' || t.name === 'endArray') {
      this.containers.pop();
      this.advance();
      return;
    }
    const p = this.path();
    if (this.wanted(p)) {
      this.asm = new Assembler();
      this.asmPath = p;
      this.asm.consume(t);
      if (this.asm.done) this.finishValue(p, this.asm.current);
      return;
    }
    if (t.name === 'startObject' || t.name === 'startArray') {
      this.containers.push({ array: t.name === 'startArray', key: null, index: 0 });
      return;
    }
    this.advance(); // a scalar nobody asked for
  }

  private advance(): void {
    const top = this.containers[this.containers.length - 1];
    if (top?.array) top.index += 1;
  }

  private finishValue(p: Key[], value: unknown): void {
    this.asm = null;
    this.advance();
    if (p[0] === 'kinds') {
      this.checkRow(String(p[1]), value);
      if (this.hooks.row && value && typeof value === 'object') this.hooks.row(String(p[1]), value as Row);
    } else if (p[0] === 'media') {
      this.collectMedia(value);
      if (this.hooks.media && value && typeof value === 'object') this.hooks.media(value as Row);
    }
    else if (p[0] === 'user') this.user = value && typeof value === 'object' ? (value as DataJsonCheck['user']) : null;
    else if (p[0] === 'counts') this.counts = value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
    else if (p[0] === 'format_version') this.formatVersion = value;
  }

  private checkRow(kind: string, value: unknown): void {
    this.rows.set(kind, (this.rows.get(kind) ?? 0) + 1);
    const k = findKind(kind);
    if (!k) return this.problem(`data.json: unknown kind "${kind}"`);
    if (k.groupBy) return;
    const row = value as Row | null;
    const gid = row && typeof row === 'object' ? row.global_id : undefined;
    if (typeof gid !== 'string') return this.problem(`data.json: a ${kind} row has no global_id`);
    const m = /^toybox:(.+):(new|restored):([a-z_]+):([^\s:]+)$/.exec(gid);
    if (!m) return this.problem(`data.json: malformed global id ${JSON.stringify(gid.slice(0, 120))}`);
    if (m[3] !== k.table) return this.problem(`data.json: global id ${gid} names table ${m[3]}, but ${kind} rows come from ${k.table}`);
    // A restored row keeps the id it came with (any site, any id); every other row is this site's own, under its own id.
    if (!k.provenance && (m[1] !== this.toyboxHost || m[2] !== 'new' || String(row!.id) !== m[4])) {
      return this.problem(`data.json: global id ${gid} is not this site's id for the ${kind} row ${String(row!.id)}`);
    }
    // titles are shared master rows; the same one can be reached twice (earned and active)
    if (kind !== 'titles') {
      if (this.ids.has(gid)) return this.problem(`data.json: global id ${gid} appears twice`);
      this.ids.add(gid);
    }
  }

  private collectMedia(value: unknown): void {
    const m = value as { path?: unknown; status?: unknown; sha256?: unknown } | null;
    if (!m || m.status !== 'included') return;
    if (typeof m.path !== 'string' || typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) {
      return this.problem('data.json: an included media entry has no path or SHA-256');
    }
    this.mediaHashes.set(m.path, m.sha256);
  }

  /** The checks that need the whole document: counts against the arrays, the user block present. */
  finish(): string[] {
    if (!this.user) this.problem('data.json: no user block');
    if (!this.counts) this.problem('data.json: no counts');
    else {
      for (const [kind, n] of Object.entries(this.counts)) {
        if ((this.rows.get(kind) ?? 0) !== n) this.problem(`data.json: counts.${kind} is ${String(n)} but the archive holds ${this.rows.get(kind) ?? 0} rows`);
      }
    }
    if (this.dropped) this.problems.push(`data.json: ${this.dropped} more problems`);
    return this.problems;
  }
}
