/**
 * Every CSV the portal writes goes through here, so a spreadsheet never runs
 * a cell as a formula. A text cell that starts with = + - @ TAB or CR is
 * what Excel, LibreOffice and Google Sheets evaluate (OWASP "CSV injection");
 * such a cell gets a leading apostrophe, which they all show as plain text.
 * JSON files keep the exact values: only CSV cells are changed.
 */
import { isoTokyo } from '../i18n/tokyo-time';

/** The characters a spreadsheet reads as the start of a formula. */
export const FORMULA_START_CHARS = ['=', '+', '-', '@', '\t', '\r'] as const;

const FORMULA_START = /^[=+\-@\t\r]/;

/** The text as a spreadsheet should show it: prefixed with ' when it would run as a formula. */
export function neutraliseCell(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** One RFC 4180 cell: neutralised, then quoted when it holds a quote, comma or line break. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = neutraliseCell(value instanceof Date ? isoTokyo(value) : String(value));
  return /[",\r\n]/.test(text) || text.startsWith("'") ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV record with CRLF, as RFC 4180 and Excel expect. */
export function csvRecord(values: readonly unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

function sqlLiteral(ch: string): string {
  if (ch === '\t') return "E'\\t'";
  if (ch === '\r') return "E'\\r'";
  return `'${ch.replace(/'/g, "''")}'`;
}

/**
 * The same rule as neutraliseCell, as a PostgreSQL expression over a text
 * expression, for CSVs that PostgreSQL writes itself with COPY (the export
 * archive), so the rows never pass through JavaScript one cell at a time.
 */
export function neutraliseCellSql(textExpr: string): string {
  const starts = FORMULA_START_CHARS.map(sqlLiteral).join(', ');
  return `(CASE WHEN left(${textExpr}, 1) IN (${starts}) THEN '''' || ${textExpr} ELSE ${textExpr} END)`;
}
