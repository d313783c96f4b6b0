import fs from 'node:fs';
import path from 'node:path';
import type { Feature } from './feature';

/**
 * Every capability the portal serves: each folder here with an index exporting
 * `feature`. Discovered rather than listed so that adding a feature touches
 * no shared file; mounted in alphabetical order.
 */
function discoverFeatures(): Feature[] {
  return fs
    .readdirSync(__dirname, { withFileTypes: true })
    .filter((d) => d.isDirectory() && ['index.ts', 'index.js'].some((f) => fs.existsSync(path.join(__dirname, d.name, f))))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(path.join(__dirname, name)) as { feature?: Feature };
      if (!mod.feature) throw new Error(`src/features/${name}/index must export \`feature\``);
      return mod.feature;
    });
}

export const features: Feature[] = discoverFeatures();
