import { mediaKey } from '../../src/features/export/media';
import { exportFileName, contentDisposition } from '../../src/features/export/archive';

describe('mediaKey', () => {
  it.each([
    ['submissions/1_1700000000.jpg', 'submissions/1_1700000000.jpg'],
    ['https://toybox.example/uploads/submissions/1_1.png', 'submissions/1_1.png'],
    ['http://localhost:8000/media/games/taro/1700/index.html', 'games/taro/1700/index.html'],
    ['/uploads/profiles/avatar_1_ab.png', 'profiles/avatar_1_ab.png'],
    ['https://toybox.example/uploads/submissions/%E7%94%BB%E5%83%8F.png', 'submissions/画像.png'],
  ])('maps %s into the media directory', (value, key) => {
    expect(mediaKey(value)).toEqual({ key });
  });

  it.each([
    '../secret.txt',
    'submissions/../../etc/passwd',
    '/etc/passwd',
    '/uploads/../etc/passwd',
    'https://toybox.example/uploads/..%2f..%2fetc/passwd',
    'submissions\\..\\x',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'submissions//x.png',
  ])('refuses %s', (value) => {
    expect(mediaKey(value)).toEqual({ status: 'refused' });
  });

  it('treats other sites and paths outside /uploads/ and /media/ as external', () => {
    expect(mediaKey('https://cdn.example.com/a.png')).toEqual({ status: 'external' });
    expect(mediaKey('https://toybox.example/uploads/../../etc/passwd')).toEqual({ status: 'external' });
  });
});

describe('download file names', () => {
  it('keeps an ordinary display id as is', () => {
    const name = exportFileName('taro_01', 'zip', new Date('2026-11-30T01:00:00Z'));
    expect(contentDisposition(name)).toBe(
      `attachment; filename="toybox-export-taro_01-2026-11-30.zip"; filename*=UTF-8''toybox-export-taro_01-2026-11-30.zip`,
    );
  });

  it('makes any display id safe in both forms (RFC 6266 / RFC 8187)', () => {
    const header = contentDisposition(exportFileName('たろう"; x=\r\n/../\\y', 'json', new Date('2026-11-30T01:00:00Z')));
    expect(header).not.toMatch(/[\r\n]/);
    const ascii = /filename="([^"]*)"/.exec(header)![1]!;
    expect(ascii).toMatch(/^[A-Za-z0-9_.-]+$/);
    const star = /filename\*=UTF-8''(.+)$/.exec(header)![1]!;
    expect(star).toMatch(/^[A-Za-z0-9%._~!$&+^`|-]+$/);
    expect(decodeURIComponent(star)).toBe('toybox-export-たろう"; x=\r\n/../\\y-2026-11-30.json');
  });
});

describe('lfToCrlf', () => {
  it('ends records with CRLF but leaves newlines inside quoted fields alone, across chunk boundaries', async () => {
    const { lfToCrlf } = await import('../../src/features/export/streams');
    const csv = 'id,caption\n1,"two\nlines ""quoted"""\n2,plain\n3,"a,b"\n';
    for (let cut = 0; cut <= csv.length; cut += 1) {
      const chunks = [Buffer.from(csv.slice(0, cut)), Buffer.from(csv.slice(cut))];
      let records = 0;
      const out: Buffer[] = [];
      for await (const c of lfToCrlf((async function* () { yield* chunks; })(), (n) => (records = n))) out.push(c);
      expect(Buffer.concat(out).toString()).toBe('id,caption\r\n1,"two\nlines ""quoted"""\r\n2,plain\r\n3,"a,b"\r\n');
      expect(records).toBe(4);
    }
  });
});
