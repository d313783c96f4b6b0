import sharp from 'sharp';
import phash from 'sharp-phash';
import { perceptualHash } from '../../src/features/salvage/phash';
import { picture } from '../support/salvage-fixtures';

describe('perceptual hash', () => {
  it("gives exactly sharp-phash's bits for photos, drawings and re-encodes", async () => {
    const inputs: Buffer[] = [];
    for (let seed = 0; seed < 12; seed++) {
      const img = await picture(seed, 40 + seed * 13);
      inputs.push(await img.png().toBuffer(), await img.jpeg({ quality: 60 + seed * 3 }).toBuffer());
    }
    inputs.push(await sharp({ create: { width: 50, height: 20, channels: 3, background: '#3366cc' } }).png().toBuffer());
    // Photo-sized JPEGs: sharp decodes them at 1/8 or 1/4 scale (shrink-on-load), as sharp-phash does.
    for (const size of [1600, 700]) inputs.push(await (await picture(size % 17, size)).jpeg({ quality: 85 }).toBuffer());
    for (const buf of inputs) {
      const expected = BigInt(`0b${await phash(buf)}`).toString(16).padStart(16, '0');
      expect(await perceptualHash(buf)).toBe(expected);
    }
  });

  it('rejects bytes that are not an image', async () => {
    await expect(perceptualHash(Buffer.from('not an image'))).rejects.toThrow(/unsupported image format/);
  });
});
