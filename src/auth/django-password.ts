import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { secretsEqual } from './constant-time';

const pbkdf2 = promisify(crypto.pbkdf2);
const scrypt = promisify(crypto.scrypt) as (
  password: string,
  salt: string,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>;

/** Django 5.2's PBKDF2PasswordHasher.iterations, which TOYBOX uses unchanged. */
export const DJANGO_PBKDF2_ITERATIONS = 1_000_000;
const SALT_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomSalt(length = 22): string {
  // Same alphabet and length as Django's get_random_string for salts (~131 bits).
  let out = '';
  for (let i = 0; i < length; i += 1) out += SALT_ALPHABET[crypto.randomInt(SALT_ALPHABET.length)];
  return out;
}


/** Makes a hash Django's check_password accepts: pbkdf2_sha256$iterations$salt$base64. */
export async function makeDjangoPassword(password: string, iterations = DJANGO_PBKDF2_ITERATIONS): Promise<string> {
  const salt = randomSalt();
  const hash = await pbkdf2(password, salt, iterations, 32, 'sha256');
  return `pbkdf2_sha256$${iterations}$${salt}$${hash.toString('base64')}`;
}

/**
 * Verifies a password against a stored Django hash. Supports the hashers of
 * Django's default list that Node can compute (pbkdf2_sha256, pbkdf2_sha1,
 * scrypt) at whatever cost the hash records; unusable passwords ("!...") and
 * unknown algorithms never match. Always async: at 1M iterations a check costs
 * ~200 ms of CPU, which must not block the event loop.
 */
export async function checkDjangoPassword(password: string, encoded: string | null | undefined): Promise<boolean> {
  if (!encoded || encoded.startsWith('!')) return false;
  const parts = encoded.split('$');
  const algorithm = parts[0];
  if ((algorithm === 'pbkdf2_sha256' || algorithm === 'pbkdf2_sha1') && parts.length === 4) {
    const iterations = Number(parts[1]);
    if (!Number.isSafeInteger(iterations) || iterations < 1) return false;
    const digest = algorithm === 'pbkdf2_sha256' ? 'sha256' : 'sha1';
    const keylen = digest === 'sha256' ? 32 : 20;
    const hash = await pbkdf2(password, parts[2]!, iterations, keylen, digest);
    return secretsEqual(hash.toString('base64'), parts[3]!);
  }
  if (algorithm === 'scrypt' && parts.length === 6) {
    // scrypt$salt$work_factor$block_size$parallelism$hash (Django's ScryptPasswordHasher)
    const [, salt, n, r, p, expected] = parts as [string, string, string, string, string, string];
    const keylen = Buffer.from(expected, 'base64').length;
    const hash = await scrypt(password, salt, keylen, {
      N: Number(n),
      r: Number(r),
      p: Number(p),
      maxmem: 128 * Number(n) * Number(r) * 2,
    });
    return secretsEqual(hash.toString('base64'), expected);
  }
  return false;
}
