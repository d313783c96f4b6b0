import crypto from 'node:crypto';
import { createKnex } from './src/db';
import { saveBatch, knownFiles } from './src/features/salvage/repo';
(async () => {
  const knex = createKnex('postgres://postgres@127.0.0.1:5432/ss_dev', 4);
  await knex.raw('truncate portal.salvage_files, portal.salvage_blobs cascade');
  const src = (await knex('portal.salvage_sources').first()).id;
  for (let b = 0; b < 5; b++) {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ file: { rel_path: `submissions/${i}_${1767225600 + b * 1000 + i}.mp4`, size: 20000, mtime_ms: 1767225600000, sha256: crypto.randomBytes(32).toString('hex'), kind: 'post_video', era: 'old' as const, era_basis: 'name' as const, old_user_id: i, display_id: null, uploaded_at: new Date(), stem: `submissions/${i}_x`, original_stem: null, game_folder: null } }));
    let t = Date.now();
    await knownFiles(knex, src, rows.map((r) => r.file.rel_path));
    const k = Date.now() - t; t = Date.now();
    await saveBatch(knex, src, rows);
    console.log('known', k, 'ms save', Date.now() - t, 'ms');
  }
  await knex.destroy();
})();
