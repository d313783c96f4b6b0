import fs from 'node:fs';
import path from 'node:path';
import { normaliseAddress, normaliseDisplayId } from '../../src/features/campaigns/addresses/normalise';
import { readTable, guessMapping, decodeInput, detectFormat, splitMbox } from '../../src/features/campaigns/addresses/parse';
import { compileTemplate, compileSet, renderCompiled, TemplateError } from '../../src/features/campaigns/lifecycle/template';
import { signLink, verifyLink } from '../../src/features/campaigns/links/signed-links';
import { parseDeliveryStatus, classifyDsn } from '../../src/features/campaigns/bounces/service';
import { classifySmtpError, backoffSeconds } from '../../src/features/campaigns/sending/sender';
import iconv from 'iconv-lite';

describe('address normalisation', () => {
  it('turns full-width input into ASCII and lower-cases only the domain', () => {
    expect(normaliseAddress('  Ｔａｒｏ＠ＥＸＡＭＰＬＥ．ｃｏｍ ')).toEqual({ ok: true, email: 'Taro@example.com', key: 'taro@example.com' });
  });
  it('converts an IDN domain to punycode', () => {
    const r = normaliseAddress('user@ドメイン.jp');
    expect(r).toEqual({ ok: true, email: 'user@xn--eckwd4c7c.jp', key: 'user@xn--eckwd4c7c.jp' });
  });
  it('never accepts the toybox.local placeholder, in any case', () => {
    expect(normaliseAddress('someone@toybox.local')).toEqual({ ok: false, reason: 'placeholder' });
    expect(normaliseAddress('someone@TOYBOX.LOCAL')).toEqual({ ok: false, reason: 'placeholder' });
  });
  it('explains what is wrong with a bad address', () => {
    expect(normaliseAddress('')).toEqual({ ok: false, reason: 'empty' });
    expect(normaliseAddress('no-at-sign')).toEqual({ ok: false, reason: 'no_at' });
    expect(normaliseAddress('a b@example.com')).toEqual({ ok: false, reason: 'bad_local' });
    expect(normaliseAddress('a@localhost')).toEqual({ ok: false, reason: 'bad_domain' });
    expect(normaliseAddress('<mailto:x@example.com>').ok).toBe(false);
    expect(normaliseAddress('mailto:x@example.com')).toEqual({ ok: true, email: 'x@example.com', key: 'x@example.com' });
  });
  it('keeps only TOYBOX-shaped display ids', () => {
    expect(normaliseDisplayId('＠Hanako_Y')).toBe('hanako_y');
    expect(normaliseDisplayId('山田')).toBeNull();
  });
});

describe('input parsing', () => {
  it('reads Shift_JIS without being told and finds the Japanese address header', () => {
    const buf = iconv.encode('名前,メールアドレス\r\n山田,yamada@example.jp\r\n', 'cp932');
    const table = readTable(decodeInput(buf));
    expect(table.header).toEqual(['名前', 'メールアドレス']);
    expect(guessMapping(table)).toMatchObject({ address: 1, name: 0 });
  });
  it('finds the address column by content when there is no header', () => {
    const table = readTable('x\tfoo@example.com\t1\ny\tbar@example.com\t2\n');
    expect(table.header).toBeNull();
    expect(guessMapping(table).address).toBe(1);
  });
  it('detects formats from content', () => {
    expect(detectFormat('dump', 'Jan 1 mail postfix/smtp[1]: x: to=<a@b.c>, status=sent')).toBe('maillog');
    expect(detectFormat('addresses.txt', 'a@example.com\nb@example.com\n')).toBe('list');
    expect(detectFormat('people.csv', 'a,b')).toBe('csv');
  });
  it('splits an mbox and keeps each message start line', () => {
    const text = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'campaigns', 'contact.mbox'), 'utf8');
    expect(splitMbox(text).map((m) => m.line)).toEqual([1, 12, 20]);
  });
});

describe('templates', () => {
  it('rejects unknown variables and unclosed braces with the reason', () => {
    expect(() => compileTemplate('Hi {{nmae}}')).toThrow(TemplateError);
    expect(() => compileTemplate('Hi {{display_name')).toThrow(/unclosed/);
    const r = compileSet({ subject: 'S', text: 'no link here', html: '<p>{{bogus}}</p>' });
    expect(r.errors.map((e) => `${e.field}:${e.code}`).sort()).toEqual(['html:unknown_variable', 'text:missing_link']);
  });
  it('escapes values in HTML but not in text', () => {
    const c = compileTemplate('<b>{{display_name}}</b> {{link}}');
    const v = { display_name: '<script>', display_id: '', email: '', link: 'https://x/r/1', unsubscribe_link: '' };
    expect(renderCompiled(c, v, true)).toBe('<b>&lt;script&gt;</b> https://x/r/1');
    expect(renderCompiled(c, v)).toBe('<b><script></b> https://x/r/1');
  });
});

describe('signed links', () => {
  const secret = 'x'.repeat(40);
  it('verifies its own tokens without a database and rejects tampering, other purposes and expiry', () => {
    const t = signLink(secret, 'r', 12, 3456);
    expect(verifyLink(secret, 'r', t)).toMatchObject({ campaignId: 12, recipientId: 3456 });
    expect(verifyLink(secret, 'u', t)).toBeNull();
    expect(verifyLink('y'.repeat(40), 'r', t)).toBeNull();
    expect(verifyLink(secret, 'r', t.replace(/^c\./, 'd.').replace(/^([0-9a-z]+)\./, '999.'))).toBeNull();
    expect(verifyLink(secret, 'r', t, Date.now() + 91 * 86400 * 1000)).toBeNull();
  });
});

describe('bounces and SMTP errors', () => {
  it('reads RFC 3464 fields and classifies hard and soft', () => {
    const [r] = parseDeliveryStatus('Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; a@b.example\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550\n user unknown\n');
    expect(r).toEqual({ recipient: 'a@b.example', action: 'failed', status: '5.1.1', diagnostic: 'smtp; 550 user unknown' });
    expect(classifyDsn(r!)).toBe('hard');
    expect(classifyDsn({ ...r!, action: 'delayed', status: '4.2.2' })).toBe('soft');
    expect(classifyDsn({ ...r!, action: 'delivered', status: '2.0.0' })).toBeNull();
  });
  it('treats 5xx as permanent and 4xx or network errors as temporary', () => {
    expect(classifySmtpError({ responseCode: 550, response: '550 no such user' })).toEqual({ permanent: true, reason: '550 no such user' });
    expect(classifySmtpError({ responseCode: 451, response: '451 try later' }).permanent).toBe(false);
    expect(classifySmtpError({ code: 'ETIMEDOUT', message: 'timeout' })).toEqual({ permanent: false, reason: 'ETIMEDOUT: timeout' });
    expect(backoffSeconds(1)).toBeGreaterThanOrEqual(24);
    expect(backoffSeconds(20)).toBeLessThanOrEqual(2160);
  });
});
