import fs from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import { useTestPortal, useTempDir } from '../support/portal-stack';
import { runCli } from '../support/cli';
import { importAddressFile } from '../../src/features/campaigns/addresses/service';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'campaigns');

const portal = useTestPortal();
const dir = useTempDir('campaigns-import-');

const addresses = () => portal.ctx.knex('portal.addresses').orderBy('email_key').select('email', 'display_id', 'name', 'sources', 'updated_at');

describe('addresses import', () => {
  it('reads a Shift_JIS Excel export: full-width addresses, duplicates merged, bad rows reported by line, placeholder refused', async () => {
    const csv = [
      '表示ID,お名前,メールアドレス',
      'yamada_h,山田花子,ｙａｍａｄａ＠Ｅｘａｍｐｌｅ．ＪＰ',
      'sato,佐藤,sato@example.jp',
      'nobody,名無し,メール無し',
      'yamada_h,山田花子,YAMADA@example.jp',
      'ghost,幽霊,ghost@toybox.local',
      'kana,かな,kana@例え.jp',
    ].join('\r\n');
    const file = path.join(dir, 'excel.csv');
    fs.writeFileSync(file, iconv.encode(csv, 'cp932'));

    const r = await importAddressFile(portal.ctx.knex, file);
    expect(r).toMatchObject({ format: 'csv', total: 6, imported: 3, merged: 1 });
    expect(r.rejected).toEqual([
      { line: 4, value: 'メール無し', reason: 'no_at' },
      { line: 6, value: 'ghost@toybox.local', reason: 'placeholder' },
    ]);
    const rows = await addresses();
    expect(rows.map((a) => [a.email, a.display_id, a.name])).toEqual([
      ['kana@xn--r8jz45g.jp', 'kana', 'かな'],
      ['sato@example.jp', 'sato', '佐藤'],
      ['yamada@example.jp', 'yamada_h', '山田花子'],
    ]);
  });

  it('re-importing the same file changes nothing', async () => {
    const before = await addresses();
    const r = await importAddressFile(portal.ctx.knex, path.join(dir, 'excel.csv'));
    expect(r).toMatchObject({ imported: 0, unchanged: 3 });
    expect(await addresses()).toEqual(before);
  });

  it('keeps every source when the same person appears in another file', async () => {
    const file = path.join(dir, 'list.txt');
    fs.writeFileSync(file, '# survivors from the spreadsheet\nSato <SATO@example.jp>\nnew.person@example.com\n\n');
    const r = await importAddressFile(portal.ctx.knex, file, { format: 'list' });
    expect(r).toMatchObject({ imported: 1, merged: 1, unchanged: 0, rejected: [] });
    const sato = await portal.ctx.knex('portal.addresses').where({ email_key: 'sato@example.jp' }).first();
    expect(sato.sources).toEqual(['csv:excel.csv', 'list:list.txt']);
  });

  it('takes Reply-To (else From) and the display id from a contact-form mbox, and recipients from a mail log', async () => {
    const mbox = await importAddressFile(portal.ctx.knex, path.join(FIXTURES, 'contact.mbox'));
    expect(mbox.format).toBe('mbox');
    expect(mbox.imported).toBe(2);
    expect(mbox.rejected).toEqual([{ line: 20, value: 'ghost_user@toybox.local', reason: 'placeholder' }]);
    const hanako = await portal.ctx.knex('portal.addresses').where({ email_key: 'hanako@example.jp' }).first();
    expect(hanako).toMatchObject({ display_id: 'hanako_y', name: 'Hanako Yamada' });
    const taro = await portal.ctx.knex('portal.addresses').where({ email_key: 'taro@example.com' }).first();
    expect(taro.display_id).toBe('taro_99');

    const log = await importAddressFile(portal.ctx.knex, path.join(FIXTURES, 'mail.log'));
    expect(log).toMatchObject({ format: 'maillog', imported: 2, rejected: [{ line: 4, value: 'broken@', reason: 'bad_domain' }] });
  });

  it('a folder of .eml files imports each message', async () => {
    const eml = path.join(dir, 'eml');
    fs.mkdirSync(eml);
    fs.writeFileSync(path.join(eml, 'a.eml'), 'From: Kenji <kenji@example.co.jp>\r\nSubject: hi\r\n\r\nユーザーID：kenji_k\r\n');
    fs.writeFileSync(path.join(eml, 'b.eml'), 'From: nobody\r\nSubject: broken\r\n\r\n');
    const r = await importAddressFile(portal.ctx.knex, eml);
    expect(r.imported).toBe(1);
    expect(r.rejected).toEqual([{ line: 1, file: 'b.eml', value: '', reason: 'empty' }]);
    expect((await portal.ctx.knex('portal.addresses').where({ email_key: 'kenji@example.co.jp' }).first()).display_id).toBe('kenji_k');
  });

  it('the CLI prints imported / merged / rejected with line numbers and honours --column and --encoding', async () => {
    const file = path.join(dir, 'tsv.tsv');
    fs.writeFileSync(file, iconv.encode('連絡先\t予備\nnew.cli@example.org\tx@example.org\nbad address\ty@example.org\n', 'cp932'));
    const env = { DATABASE_URL: portal.db.url, DATA_DIR: portal.dataDir };
    const { code, stdout, stderr } = await runCli(['addresses', 'import', file, '--encoding', 'shift_jis', '--column', '連絡先'], { env });
    expect(code).toBe(0);
    expect(stdout).toContain('imported: 1');
    expect(stdout).toContain('rejected: 1');
    expect(stdout).toContain('line 3: no_at "bad address"');
    expect(stderr).toContain('importing [');
    const wrongColumn = await runCli(['addresses', 'import', file, '--column', 'nope'], { env });
    expect(wrongColumn.code).toBe(2);
    expect(wrongColumn.stderr).toContain('column "nope" not found');
  });

  it('imports 20,000 rows in one go', async () => {
    const file = path.join(dir, 'big.csv');
    const lines = ['email,display_id'];
    for (let i = 0; i < 20000; i++) lines.push(`bulk${i}@example.net,bulk_${i}`);
    fs.writeFileSync(file, lines.join('\n'));
    const seen: number[] = [];
    const r = await importAddressFile(portal.ctx.knex, file, {}, (done) => seen.push(done));
    expect(r.imported).toBe(20000);
    expect(seen.at(-1)).toBe(20000);
    expect(seen.length).toBeGreaterThan(5);
  });
});
