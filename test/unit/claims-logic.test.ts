import { plainText } from '../../src/features/claims/text';
import { fileLevel } from '../../src/features/claims/service';
import { mapLimit } from '../../src/system/map-limit';
import type { CatalogueFile } from '../../src/salvage-catalogue';

const file = (kind: string, uploaded: string | null): CatalogueFile => ({
  id: 1, source_id: 1, rel_path: 'submissions/2_1.png', abs_path: '/x', sha256: 'a'.repeat(64), size: 1, kind, era: 'old', old_user_id: 2, display_id: null, uploaded_at: uploaded ? new Date(uploaded) : null, stem: null, original_path: null, game_folder: null,
});

describe('old text from recovered databases', () => {
  it('keeps the words and drops markup, scripts and control characters', () => {
    expect(plainText('<script>alert(1)</script>きれい<b>な</b>空', 140)).toBe('きれいな空');
    expect(plainText('<i onclick=x>夕焼け</i>', 20)).toBe('夕焼け');
    expect(plainText('a < b > c\u0000\u0007', 140)).toBe('a  b  c');
    expect(plainText(null, 10)).toBe('');
  });

  it('cuts to the column length by characters, not bytes', () => {
    expect(plainText('あ'.repeat(30), 20)).toBe('あ'.repeat(20));
    expect(Array.from(plainText('😀'.repeat(25), 20))).toHaveLength(20);
  });
});

describe('what a byte-identical file proves (RECOVERY.md §1, §3)', () => {
  it('videos, games and images stored before re-encoding began are level 3', () => {
    expect(fileLevel(file('post_video', '2026-01-21T00:00:00Z')).level).toBe(3);
    expect(fileLevel(file('game_file', null)).level).toBe(3);
    expect(fileLevel(file('post_image', '2026-01-19T23:59:59Z')).level).toBe(3);
  });

  it('re-encoded images, thumbnails, avatars and headers are copies anyone could hold (level 6)', () => {
    expect(fileLevel(file('post_image', '2026-01-20T00:00:00Z'))).toEqual({ level: 6, why: 'reencoded_copy' });
    expect(fileLevel(file('post_image', null)).level).toBe(6);
    for (const kind of ['thumbnail', 'poster', 'avatar', 'header']) expect(fileLevel(file(kind, null)).level).toBe(6);
  });
});

describe('mapLimit', () => {
  it('keeps at most the limit in flight and finishes every started item before reporting a failure', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    const err = await mapLimit([1, 2, 3, 4, 5, 6], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (n === 2) throw new Error('boom');
      done.push(n);
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe('boom');
    expect(peak).toBe(2);
    expect(running).toBe(0);
    expect(done).toEqual([1, 3]);
  });
});
