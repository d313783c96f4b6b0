import { PERSONAL_DATA, type Column } from '../../toybox/personal-data';

/** 2: rows carry `global_id`, media entries their `sha256`, the ZIP a signed manifest (docs/export.md). */
export const FORMAT_VERSION = 2;

/** `toybox:<site host>:<new|restored>:<table>:<id>` (see globalIdSql in src/toybox/personal-data.ts). */
export const GLOBAL_ID_PATTERN = '^toybox:[^\\s]+:(new|restored):[a-z_]+:[^\\s:]+$';
const globalId = { type: 'string', pattern: GLOBAL_ID_PATTERN, description: 'Stable global id: toybox:<site host>:<era>:<table>:<id>' };

function columnSchema(c: Column): Record<string, unknown> {
  const base: Record<string, unknown> =
    c.type === 'int'
      ? { type: 'integer' }
      : c.type === 'num'
        ? { type: 'number' }
        : c.type === 'bool'
          ? { type: 'boolean' }
          : c.type === 'time'
            ? { type: 'string', format: 'date-time' }
            : c.type === 'json'
              ? {}
              : { type: 'string' };
  if (!c.nullable || c.type === 'json') return base;
  return { ...base, type: [base.type as string, 'null'] };
}

/** JSON Schema (draft-07) of data.json, generated from the same mapping that writes it. */
export function dataJsonSchema(): Record<string, unknown> {
  const kinds: Record<string, unknown> = {};
  for (const k of PERSONAL_DATA) {
    const names = k.columns.map((c) => c.name);
    const properties = Object.fromEntries(k.columns.map((c) => [c.name, columnSchema(c)]));
    kinds[k.kind] = {
      description: `${k.label.en} / ${k.label.ja} (TOYBOX table ${k.table})`,
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: k.groupBy ? names : ['global_id', ...names],
        properties: k.groupBy ? properties : { global_id: globalId, ...properties },
      },
    };
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://toybox.example/schemas/personal-data-export-v2.json',
    title: 'TOYBOX personal data export (data.json)',
    type: 'object',
    additionalProperties: false,
    required: ['format_version', 'exported_at', 'user', 'kinds', 'counts', 'media'],
    properties: {
      format_version: { const: FORMAT_VERSION },
      exported_at: { type: 'string', format: 'date-time' },
      user: {
        type: 'object',
        required: ['id', 'display_id', 'global_id'],
        properties: { id: { type: 'integer' }, display_id: { type: 'string' }, global_id: globalId },
      },
      schema: { type: 'string' },
      kinds: { type: 'object', additionalProperties: false, required: PERSONAL_DATA.map((k) => k.kind), properties: kinds },
      counts: {
        type: 'object',
        additionalProperties: false,
        required: PERSONAL_DATA.map((k) => k.kind),
        properties: Object.fromEntries(PERSONAL_DATA.map((k) => [k.kind, { type: 'integer', minimum: 0 }])),
      },
      media: {
        description: 'Every media path or URL in the rows above and where its file is in the archive (path null when it is not).',
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['source', 'path', 'status', 'sha256'],
          properties: {
            source: { type: 'string' },
            path: { type: ['string', 'null'] },
            status: { enum: ['included', 'missing', 'refused', 'external'] },
            sha256: { type: ['string', 'null'], pattern: '^[0-9a-f]{64}$', description: "SHA-256 of the file in the archive (included files only): the row's file hash" },
          },
        },
      },
    },
  };
}
