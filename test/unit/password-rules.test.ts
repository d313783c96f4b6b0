import { execFileSync } from 'node:child_process';
import { SequenceMatcher } from '../../src/auth/sequence-matcher';
import { checkPassword, similarAttribute } from '../../src/auth/password-rules';

/** Python's own difflib, as the independent reference for the port. */
function pythonRatios(pairs: Array<[string, string]>): Array<[number, number]> {
  const script = `import sys,json
from difflib import SequenceMatcher
pairs=json.loads(sys.stdin.read())
print(json.dumps([[SequenceMatcher(a=a,b=b).quick_ratio(),SequenceMatcher(a=a,b=b).ratio()] for a,b in pairs]))`;
  return JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify(pairs), encoding: 'utf8' })) as Array<[number, number]>;
}

/** Django 5.2's UserAttributeSimilarityValidator loop, in Python, over TOYBOX's attributes. */
function pythonSimilar(cases: Array<[string, string, string]>): Array<string | null> {
  const script = `import sys,json,re
from difflib import SequenceMatcher
def exceeds(password, max_similarity, value):
    pwd_len=len(password); bound=max_similarity/2*pwd_len; value_len=len(value)
    return pwd_len >= 10*value_len and value_len < bound
out=[]
for pw,email,did in json.loads(sys.stdin.read()):
    pw=pw.lower(); hit=None
    for name,value in (('email',email),('display_id',did)):
        if hit or not value: continue
        v=value.lower()
        for part in re.split(r"\\W+", v)+[v]:
            if exceeds(pw,0.7,part): continue
            if SequenceMatcher(a=pw,b=part).quick_ratio()>=0.7:
                hit=name; break
    out.append(hit)
print(json.dumps(out))`;
  return JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' })) as Array<string | null>;
}

describe("difflib.SequenceMatcher port", () => {
  it('gives the same quick_ratio and ratio as Python', () => {
    const long = 'ab'.repeat(150) + 'xyz'.repeat(40);
    const pairs: Array<[string, string]> = [
      ['taroyamada2026', 'taro.yamada@example.com'],
      ['password', 'passport'],
      ['abcd', 'dcba'],
      ['', ''],
      ['', 'abc'],
      ['パスワード', 'パスポート'],
      ['qwertyuiop', 'asdfghjkl'],
      ['private volume', 'volume private'],
      [long, long.split('').reverse().join('')],
      ['a'.repeat(10), 'a'.repeat(300) + 'b'],
      ['toybox_admin!', 'toybox_admin'],
    ];
    const expected = pythonRatios(pairs);
    pairs.forEach(([a, b], i) => {
      const m = new SequenceMatcher(a, b);
      expect(m.quickRatio()).toBeCloseTo(expected[i]![0], 12);
      expect(m.ratio()).toBeCloseTo(expected[i]![1], 12);
    });
  });
});

describe("TOYBOX's password validators (Django's four defaults)", () => {
  const user = { email: 'Taro.Yamada@Example.com', display_id: 'toybox_admin' };
  const keys = (pw: string, u = user) => checkPassword(pw, u).map((p) => p.key);

  it('accepts a long, uncommon password unrelated to the account', () => {
    expect(checkPassword('lantern-orbit-kettle-42', user)).toEqual([]);
  });

  it('refuses passwords shorter than 8 characters, counting characters not UTF-16 units', () => {
    expect(keys('Zq7!kw')).toContain('auth.password.too_short');
    expect(checkPassword('Zq7!kw', user).find((p) => p.key === 'auth.password.too_short')?.vars).toEqual({ min: 8 });
    expect(keys('🦊🦊🦊🦊🦊🦊🦊')).toContain('auth.password.too_short'); // 7 code points, 14 UTF-16 units
    expect(keys('🦊🦊🦊🦊🦊🦊🦊🦊')).not.toContain('auth.password.too_short');
  });

  it('refuses common passwords whatever their case or surrounding spaces', () => {
    for (const pw of ['password', 'PassWord1', ' iloveyou ', 'qwertyuiop', 'sunshine']) expect(keys(pw)).toContain('auth.password.too_common');
  });

  it('refuses entirely numeric passwords, including full-width digits', () => {
    expect(keys('48151623429')).toContain('auth.password.entirely_numeric');
    expect(keys('２０２６０１２２９９')).toContain('auth.password.entirely_numeric');
    expect(keys('4815162342x')).not.toContain('auth.password.entirely_numeric');
  });

  it('refuses passwords too similar to the e-mail, its parts, or the display id', () => {
    expect(similarAttribute('taro.yamada@example.com', user)).toBe('email');
    expect(similarAttribute('yamada12', user)).toBe('email');
    expect(similarAttribute('TOYBOX_ADMIN1', user)).toBe('display_id');
    expect(keys('admin_toybox')).toContain('auth.password.too_similar_display_id');
    expect(similarAttribute('lantern-orbit-kettle-42', user)).toBeNull();
  });

  it('agrees with Django\'s algorithm run in Python on a spread of cases', () => {
    const cases: Array<[string, string, string]> = [
      ['yamada2026', 'taro.yamada@example.com', 'ty_2026'],
      ['example!!', 'taro.yamada@example.com', 'ty_2026'],
      ['moderatorx', 'mod@toybox.jp', 'moderator'],
      ['ab', 'a@b.c', 'abc'],
      ['correct horse battery staple', 'horse@stable.jp', 'battery'],
      ['h0rse-stable', 'horse@stable.jp', 'rider'],
      ['zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', 'z@z.zz', 'zzz'],
      ['ひみつのあいことば', 'himitsu@example.jp', 'aikotoba'],
    ];
    const python = pythonSimilar(cases);
    cases.forEach(([pw, email, did], i) => expect(similarAttribute(pw, { email, display_id: did })).toBe(python[i]));
  });

  it('reports every failing rule at once, as Django does', () => {
    expect(keys('1234567')).toEqual(['auth.password.too_short', 'auth.password.too_common', 'auth.password.entirely_numeric']);
  });
});
