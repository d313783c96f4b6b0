/**
 * Old captions and names come from databases anyone could have typed into:
 * markup is removed (TOYBOX shows them as text, and some pages insert titles
 * as HTML), control characters dropped, and the length cut to the column's.
 * The portal's pages escape them as well.
 */
export function plainText(value: unknown, max: number): string {
  if (typeof value !== 'string') return '';
  const text = value
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<\/?[a-z!][^>]*>/gi, '')
    .replace(/[<>]/g, '')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .trim();
  return Array.from(text).slice(0, max).join('');
}
