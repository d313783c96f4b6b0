import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import yauzl from 'yauzl';
import { DataJsonCheck } from './data-check';
import { dataJsonFeeder, entryName } from './verify';
import { DATA_FILE } from './format';
import { PRIVATE_FILE } from '../files/private';

/**
 * Reading a verified archive (verifyArchive first: these readers trust the
 * entry list, not the bytes). data.json streams past one row at a time;
 * media entries are copied out one by one to a private folder and hashed on
 * the way, so a file that does not have the hash data.json names is refused.
 */

type Row = Record<string, unknown>;

const openZip = (file: string) => yauzl.openPromise(file, { decodeStrings: false, validateEntrySizes: true, autoClose: false, strictFileNames: false });

/** Calls `row` for every row of data.json and `media` for every media index entry. */
export async function readDataJson(file: string, toyboxHost: string, hooks: { row?: (kind: string, row: Row) => void; media?: (entry: Row) => void }): Promise<void> {
  const zip = await openZip(file);
  try {
    for await (const entry of zip.eachEntry()) {
      if (entryName(entry) !== DATA_FILE) continue;
      const feed = dataJsonFeeder(new DataJsonCheck(toyboxHost, hooks));
      for await (const chunk of (await zip.openReadStreamPromise(entry)) as AsyncIterable<Buffer>) await feed.write(chunk);
      const error = await feed.end();
      if (error) throw new Error(`data.json: ${error}`);
      return;
    }
    throw new Error('data.json is missing');
  } finally {
    zip.close();
  }
}

export class EntryHashMismatch extends Error {}

/**
 * Copies the named entries (archive path -> expected SHA-256) into `dir`
 * (mode 0600, random names) and returns archive path -> file. A copy whose
 * bytes do not hash to what was expected is removed and refused.
 */
export async function extractEntries(file: string, wanted: Map<string, string>, dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!wanted.size) return out;
  const zip = await openZip(file);
  try {
    for await (const entry of zip.eachEntry()) {
      const name = entryName(entry);
      const expected = wanted.get(name);
      if (!expected || out.has(name)) continue;
      const target = path.join(dir, `${crypto.randomBytes(8).toString('hex')}${path.posix.extname(name).replace(/[^.A-Za-z0-9]/g, '')}`);
      const hash = crypto.createHash('sha256');
      const hashing = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      });
      out.set(name, target);
      await pipeline(await zip.openReadStreamPromise(entry), hashing, fs.createWriteStream(target, { flags: 'wx', mode: PRIVATE_FILE }));
      if (hash.digest('hex') !== expected) throw new EntryHashMismatch(`${name} does not have the SHA-256 its manifest names`);
    }
  } catch (err) {
    await Promise.all([...out.values()].map((f) => fs.promises.unlink(f).catch(() => undefined)));
    throw err;
  } finally {
    zip.close();
  }
  return out;
}
