import type { SeenNames } from './repo';

/** Two independent 32-bit multiplicative hashes of the UTF-16 units (murmur-style mixing), as one 64-bit value. */
function digest(name: string): bigint {
  let h1 = 0x9e3779b9;
  let h2 = 0x85ebca6b ^ name.length;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x5bd1e995);
    h1 ^= h1 >>> 15;
    h2 = Math.imul(h2 ^ c, 0x27d4eb2d);
    h2 ^= h2 >>> 13;
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b);
  h1 = Math.imul(h1 ^ (h1 >>> 13), 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  h2 = Math.imul(h2 ^ (h2 >>> 16), 0x7feb352d);
  h2 = Math.imul(h2 ^ (h2 >>> 15), 0x846ca68b);
  h2 ^= h2 >>> 16;
  return (BigInt(h1 >>> 0) << 32n) | BigInt(h2 >>> 0);
}

/**
 * The names one walk saw, as 64-bit digests in a sorted BigUint64Array: 8 bytes a name
 * (a Set of strings costs ~100), so a million-file tree holds 8 MB. Two different names
 * share a digest with odds of about n²/2⁶⁵ (1 in 37 million at a million names, for a well-mixed hash);
 * the only effect would be one gone file not marked missing.
 */
export class SeenNameSet implements SeenNames {
  private digests = new BigUint64Array(4096);
  private size = 0;
  private sorted = true;

  add(name: string): void {
    if (this.size === this.digests.length) {
      const bigger = new BigUint64Array(this.digests.length * 2);
      bigger.set(this.digests);
      this.digests = bigger;
    }
    this.digests[this.size++] = digest(name);
    this.sorted = false;
  }

  has(name: string): boolean {
    if (!this.sorted) {
      this.digests.subarray(0, this.size).sort();
      this.sorted = true;
    }
    const d = digest(name);
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.digests[mid]!;
      if (v === d) return true;
      if (v < d) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}
