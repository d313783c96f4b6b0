/**
 * A small multipart/form-data reader for the address upload (one file and a
 * few fields, held in memory: 100,000 addresses are a few megabytes). The
 * portal has no multipart parser of its own and this is its only upload.
 */
export interface Multipart {
  fields: Record<string, string>;
  file: { field: string; filename: string; data: Buffer } | null;
}

export function parseMultipart(body: Buffer, contentType: string): Multipart {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) throw new Error('no multipart boundary');
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  const out: Multipart = { fields: {}, file: null };
  let pos = body.indexOf(boundary);
  while (pos >= 0) {
    const start = pos + boundary.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(boundary, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2); // skip CRLF after boundary and before the next one
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const data = part.subarray(headerEnd + 4);
      const name = /name="([^"]*)"/i.exec(headers)?.[1] ?? '';
      const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
      if (filename !== undefined) {
        if (filename && !out.file) out.file = { field: name, filename: filename.split(/[\\/]/).pop()!, data: Buffer.from(data) };
      } else out.fields[name] = data.toString('utf8');
    }
    pos = next;
  }
  return out;
}
