import iconv from 'iconv-lite';
import { classifyPath } from '../../src/features/salvage/naming';
import { detectEncoding } from '../../src/features/salvage/sniff';
import { repairMojibake } from '../../src/features/salvage/mojibake';
import { parseLogMessage } from '../../src/features/salvage/logs';
import { eraOf } from '../../src/features/salvage/media-catalogue';

describe("TOYBOX's stored names", () => {
  it.each([
    ['submissions/12_1767225600.png', { kind: 'post_image', oldUserId: 12, stem: 'submissions/12_1767225600' }],
    ['submissions/12_1767225600.MOV', { kind: 'post_video', oldUserId: 12 }],
    ['submissions/12_1767225600_thumb.jpg', { kind: 'thumbnail', oldUserId: 12, originalStem: 'submissions/12_1767225600' }],
    ['submissions/12_1767225600_poster.jpg', { kind: 'poster', oldUserId: 12, originalStem: 'submissions/12_1767225600' }],
    ['submissions/thumbnails/cover 1.png', { kind: 'game_thumbnail', oldUserId: null }],
    ['games/taro/1767225600/index.html', { kind: 'game_file', displayId: 'taro', gameFolder: 'games/taro/1767225600' }],
    ['games/taro/1767225600/a/b/c.js', { kind: 'game_file', displayId: 'taro', gameFolder: 'games/taro/1767225600' }],
    ['profiles/avatar_7_0a1b2c3d.png', { kind: 'avatar', oldUserId: 7, stem: 'profiles/avatar_7_0a1b2c3d' }],
    ['profiles/avatar_7_0a1b2c3d_thumb.jpg', { kind: 'avatar_thumbnail', oldUserId: 7, originalStem: 'profiles/avatar_7_0a1b2c3d' }],
    ['profiles/header_7_deadbeef.gif', { kind: 'header', oldUserId: 7 }],
    ['articles/media/3f2b9c1e-8a4d-4e2f-9b1a-2c3d4e5f6a7b.mp4', { kind: 'article_file' }],
    ['articles/thumbnails/3f2b9c1e8a4d4e2f9b1a2c3d4e5f6a7b.jpg', { kind: 'article_file' }],
    ['cards/C001.png', { kind: 'master' }],
    ['titles/beginner.png', { kind: 'master' }],
    ['public/uploads/submissions/3_1767225600.jpg', { kind: 'post_image', oldUserId: 3 }],
    ['submissions/3_17672256.jpg', { kind: 'other' }],
    ['profiles/avatar_7_xyz.png', { kind: 'other' }],
    ['games/taro/index.html', { kind: 'other' }],
    ['notes.txt', { kind: 'other' }],
  ])('%s', (rel, expected) => {
    expect(classifyPath(rel)).toMatchObject(expected);
  });

  it('reads the upload second from the name, and tells eras by it', () => {
    const named = classifyPath('submissions/2_1769083019.png');
    expect(named.uploadedAt!.toISOString()).toBe('2026-01-22T11:56:59.000Z');
    const incident = new Date('2026-01-22T11:57:00Z');
    expect(eraOf('auto', named.uploadedAt, Date.now(), incident)).toEqual({ era: 'old', era_basis: 'name' });
    expect(eraOf('auto', new Date('2026-01-22T11:57:00Z'), 0, incident)).toEqual({ era: 'new', era_basis: 'name' });
    expect(eraOf('auto', null, incident.getTime() - 1, incident)).toEqual({ era: 'old', era_basis: 'mtime' });
    expect(eraOf('new', named.uploadedAt, 0, incident)).toEqual({ era: 'new', era_basis: 'option' });
  });
});

describe('dump text', () => {
  const header = '--\n-- PostgreSQL database dump\n--\n';
  it('detects UTF-8 and UTF-16 with and without BOM', () => {
    expect(detectEncoding(Buffer.from(header))).toBe('utf8');
    expect(detectEncoding(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(header)]))).toBe('utf8-bom');
    expect(detectEncoding(Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(header, 'utf16le')]))).toBe('utf16le-bom');
    expect(detectEncoding(iconv.encode(header, 'utf16le'))).toBe('utf16le');
    expect(detectEncoding(iconv.encode(header, 'utf16be'))).toBe('utf16be');
  });

  it('repairs mojibake only when it is exactly reversible, and never touches real Japanese', () => {
    const moji = (s: string) => iconv.decode(Buffer.from(s, 'utf8'), 'cp932');
    expect(repairMojibake(moji('キャプション'))).toBe('キャプション');
    expect(repairMojibake(moji('作品 1'))).toBe('作品 1');
    expect(repairMojibake(moji('たろう'))).toBeNull(); // a byte was lost: not reversible
    expect(repairMojibake('たろう')).toBeNull();
    expect(repairMojibake('plain ascii')).toBeNull();
  });
});

describe('log lines', () => {
  const at = new Date('2026-01-01T00:00:00Z');
  it('turn into facts with ids', () => {
    expect(parseLogMessage('INFO File uploaded successfully: submissions/2_1767225600.png', at)).toMatchObject({ kind: 'upload', old_user_id: 2, file_name: 'submissions/2_1767225600.png' });
    expect(parseLogMessage('Notification created: user=2, liker=3, submission=9', at)).toMatchObject({ kind: 'reaction', old_user_id: 3, details: { recipient: 2, submission: 9 } });
    expect(parseLogMessage('Discord share successful: user=2, submission=9, message_id=123', at)).toMatchObject({ kind: 'share', old_user_id: 2 });
    expect(parseLogMessage('Created user via SSO: taro (studysphere_id=5001)', at)).toMatchObject({ kind: 'sso_user', display_id: 'taro', details: { studysphere_id: 5001 } });
    expect(parseLogMessage('[Point] user=2 +10pt (post) total=30', at)).toMatchObject({ kind: 'points', old_user_id: 2, details: { points: 10, action: 'post', total: 30 } });
    expect(parseLogMessage('GET /api/feed 200', at)).toBeNull();
  });
});
