import sharp from 'sharp';

const N = 32;
const LOW = 8;

// DCT-II basis, as sharp-phash builds it.
const COS: number[][] = Array.from({ length: N }, (_, k) => Array.from({ length: N }, (_, n) => Math.cos(((2 * k + 1) / (2 * N)) * n * Math.PI)));
const SCALE = (u: number) => (u === 0 ? 1 / Math.sqrt(2) : 1);

// The products COS[i][u] * COS[j][v] for the 64 coefficients the hash reads, computed once (512 KB):
// the same doubles sharp-phash multiplies, so each sum below is the same sum in the same order.
const BASIS = new Float64Array(LOW * LOW * N * N);
for (let x = 0; x < LOW; x++) {
  for (let y = 0; y < LOW; y++) {
    const base = (x * LOW + y) * N * N;
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) BASIS[base + i * N + j] = COS[i]![x + 1]! * COS[j]![y + 1]!;
  }
}

/**
 * sharp-phash's 64-bit perceptual hash, as 16 hex digits. sharp decodes and
 * shrinks the image exactly as sharp-phash does (JPEG shrink-on-load included:
 * sharp's default); the DCT is the same sum in the same order, but only for the
 * 64 coefficients the hash reads (sharp-phash computes all 1,024 at O(N⁴), ~8 ms
 * an image). test/unit/salvage-phash.test.ts checks the bits equal sharp-phash's.
 */
export async function perceptualHash(input: Buffer): Promise<string> {
  const data = await sharp(input).greyscale().resize(N, N, { fit: 'fill' }).rotate().raw().toBuffer();
  const dct: number[] = [];
  for (let x = 0; x < LOW; x++) {
    for (let y = 0; y < LOW; y++) {
      const base = (x * LOW + y) * N * N;
      let sum = 0;
      // sharp-phash's signal is s[i][j] = data[N*j + i], summed as COS[i][u] * COS[j][v] * s[i][j]
      for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) sum += BASIS[base + i * N + j]! * data[N * j + i]!;
      dct.push((sum * (SCALE(x + 1) * SCALE(y + 1))) / 4);
    }
  }
  let total = 0;
  for (const c of dct) total += c;
  const avg = total / (LOW * LOW);
  let bits = 0n;
  for (const c of dct) bits = (bits << 1n) | (c > avg ? 1n : 0n);
  return bits.toString(16).padStart(16, '0');
}
