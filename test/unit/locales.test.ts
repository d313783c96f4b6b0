import { catalogKeys, translator } from '../../src/i18n';
import { languageSwitchUrl } from '../../src/http/language';

describe('locale files', () => {
  it('have the same keys in Japanese and English', () => {
    const ja = new Set(catalogKeys('ja'));
    const en = new Set(catalogKeys('en'));
    expect([...ja].filter((k) => !en.has(k))).toEqual([]);
    expect([...en].filter((k) => !ja.has(k))).toEqual([]);
  });

  it('fill variables and fall back to the key when missing', () => {
    const t = translator('en');
    expect(t('errors.too_many', { minutes: 3, time: '12:00' })).toBe('Too many attempts. Please try again after 12:00 (in about 3 min).');
    expect(t('no.such.key')).toBe('no.such.key');
  });
});

describe('language switch link', () => {
  it('keeps the page and its other query parameters', () => {
    expect(languageSwitchUrl('/status', { page: '2', lang: 'ja' }, 'en')).toBe('/status?page=2&lang=en');
    expect(languageSwitchUrl('/', {}, 'ja')).toBe('/?lang=ja');
  });
});
