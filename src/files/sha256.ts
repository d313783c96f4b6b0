import fs from 'node:fs';
import crypto from 'node:crypto';

/** SHA-256 of a file, streamed (any size, bounded memory), as hex. */
export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    fs.createReadStream(file)
      .on('data', (c) => hash.update(c))
      .on('end', () => resolve())
      .on('error', reject);
  });
  return hash.digest('hex');
}
