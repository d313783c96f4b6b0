import { execFileSync } from 'node:child_process';
import { checkDjangoPassword, makeDjangoPassword } from '../../src/auth/django-password';

/** Django's own algorithm, written independently in Python's standard library. */
function pythonDjangoHash(password: string, salt: string, iterations: number): string {
  const script = `import hashlib,base64,sys
h=hashlib.pbkdf2_hmac('sha256',sys.argv[1].encode(),sys.argv[2].encode(),int(sys.argv[3]),32)
print('pbkdf2_sha256$%s$%s$%s'%(sys.argv[3],sys.argv[2],base64.b64encode(h).decode()))`;
  return execFileSync('python3', ['-c', script, password, salt, String(iterations)], { encoding: 'utf8' }).trim();
}

function pythonCheck(password: string, encoded: string): boolean {
  const script = `import hashlib,base64,sys,hmac
alg,it,salt,h=sys.argv[2].split('$')
d=hashlib.pbkdf2_hmac('sha256',sys.argv[1].encode(),salt.encode(),int(it),32)
print(hmac.compare_digest(base64.b64encode(d).decode(),h))`;
  return execFileSync('python3', ['-c', script, password, encoded], { encoding: 'utf8' }).trim() === 'True';
}

describe('Django pbkdf2_sha256 passwords', () => {
  it('verifies hashes made the way Django makes them, at old and current iteration counts', async () => {
    for (const iterations of [1000, 260000]) {
      const encoded = pythonDjangoHash('パスワード-secret', 'abcdEFGH12345678ijklmn', iterations);
      await expect(checkDjangoPassword('パスワード-secret', encoded)).resolves.toBe(true);
      await expect(checkDjangoPassword('wrong', encoded)).resolves.toBe(false);
    }
  });

  it('makes hashes at 1,000,000 iterations that Python accepts', async () => {
    const encoded = await makeDjangoPassword('correct horse battery');
    expect(encoded).toMatch(/^pbkdf2_sha256\$1000000\$[A-Za-z0-9]{22}\$[A-Za-z0-9+/]{43}=$/);
    expect(pythonCheck('correct horse battery', encoded)).toBe(true);
    expect(pythonCheck('correct horse batteryX', encoded)).toBe(false);
  });

  it('never matches unusable or unknown hashes', async () => {
    await expect(checkDjangoPassword('', '!abcdef')).resolves.toBe(false);
    await expect(checkDjangoPassword('x', '!')).resolves.toBe(false);
    await expect(checkDjangoPassword('x', 'md5$salt$abc')).resolves.toBe(false);
    await expect(checkDjangoPassword('x', null)).resolves.toBe(false);
    await expect(checkDjangoPassword('x', 'pbkdf2_sha256$notanumber$s$h')).resolves.toBe(false);
  });
});
