import zlib from 'node:zlib';

/**
 * yazl computes every entry's CRC-32 with buffer-crc32, a byte loop in
 * JavaScript that took ~15% of an export's CPU in bench/export.ts. Node
 * (>= 20.15) has the same CRC natively; swap it in when available. Same
 * results: both are the ZIP (IEEE 802.3) polynomial, unsigned.
 */
const native = (zlib as unknown as { crc32?: (data: Buffer, value?: number) => number }).crc32;
if (native) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bufferCrc32 = require('buffer-crc32') as { unsigned: (buf: Buffer | string, previous?: number | Buffer) => number };
  const js = bufferCrc32.unsigned;
  bufferCrc32.unsigned = (buf, previous) =>
    Buffer.isBuffer(buf) && (previous === undefined || typeof previous === 'number') ? native(buf, previous ?? 0) : js(buf, previous);
}

export {};
