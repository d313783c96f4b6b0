import fs from 'node:fs';
import path from 'node:path';
import crypto, { type KeyObject } from 'node:crypto';
import { writeFileAtomic } from '../files/atomic-write';

/**
 * The Ed25519 key that signs this site's export archives (manifest.sig). A
 * valid signature says "this portal wrote this manifest", which is what lets
 * a person's own archive count as proof when it comes back for a restore.
 *
 * The private key lives in DATA_DIR/export-signing-key.pem (generated once,
 * 0600) or in EXPORT_SIGNING_KEY_FILE. Every public key the site has signed
 * with is also kept in DATA_DIR/export-signing-public-keys/<key id>.pem, so
 * archives made before a key change still verify.
 */

export const SIGNING_ALGORITHM = 'Ed25519';
const GENERATED_NAME = 'export-signing-key.pem';
const PUBLIC_DIR = 'export-signing-public-keys';

export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface TrustedKey {
  keyId: string;
  publicKey: KeyObject;
}

export interface SigningKeyConfig {
  DATA_DIR: string;
  EXPORT_SIGNING_KEY_FILE?: string | undefined;
}

/** A problem with the signing key that an operator can fix (message says how). */
export class SigningKeyError extends Error {}

/** RFC 7638 JWK thumbprint (SHA-256, base64url): a key id anyone can recompute from the public key. */
export function keyIdOf(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' }) as { crv: string; kty: string; x: string };
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return crypto.createHash('sha256').update(canonical).digest('base64url');
}

function fromPrivatePem(pem: string, file: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = crypto.createPrivateKey(pem);
  } catch {
    throw new SigningKeyError(`${file} is not a PEM private key`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new SigningKeyError(`${file} holds a ${privateKey.asymmetricKeyType ?? 'unknown'} key; export signing needs Ed25519`);
  }
  const publicKey = crypto.createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

/** Creates the key file only if none exists (link fails on EEXIST), so two processes starting at once agree on one key. */
async function generateOnce(file: string): Promise<void> {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const staged = `${file}.new-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  await writeFileAtomic(staged, pem, { mode: 0o600 });
  try {
    await fs.promises.link(staged, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await fs.promises.unlink(staged).catch(() => undefined);
  }
}

async function readKeyFile(file: string): Promise<string> {
  try {
    return await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SigningKeyError(
      code === 'ENOENT'
        ? `EXPORT_SIGNING_KEY_FILE ${file} does not exist; create it with: openssl genpkey -algorithm ed25519 -out ${file} && chmod 600 ${file}`
        : `cannot read the export signing key ${file}: ${code ?? (err as Error).message}`,
    );
  }
}

/** Records the public half, so archives signed with it verify after the private key is replaced. */
async function rememberPublicKey(dataDir: string, key: SigningKey): Promise<void> {
  const file = path.join(dataDir, PUBLIC_DIR, `${key.keyId}.pem`);
  if (fs.existsSync(file)) return;
  await writeFileAtomic(file, key.publicKey.export({ format: 'pem', type: 'spki' }) as string, { mode: 0o644 });
}

const loaded = new Map<string, Promise<SigningKey>>();

/** The signing key for this configuration, loaded (or generated) once per process. */
export function loadSigningKey(config: SigningKeyConfig): Promise<SigningKey> {
  const configured = config.EXPORT_SIGNING_KEY_FILE ? path.resolve(config.EXPORT_SIGNING_KEY_FILE) : null;
  const file = configured ?? path.join(config.DATA_DIR, GENERATED_NAME);
  const cacheKey = `${file}\u0000${config.DATA_DIR}`;
  let pending = loaded.get(cacheKey);
  if (!pending) {
    pending = (async () => {
      if (!configured && !fs.existsSync(file)) await generateOnce(file);
      const key = fromPrivatePem(await readKeyFile(file), file);
      await rememberPublicKey(config.DATA_DIR, key);
      return key;
    })();
    pending.catch(() => loaded.delete(cacheKey));
    loaded.set(cacheKey, pending);
  }
  return pending;
}

/** Every key this site has signed archives with (the current one first). */
export async function trustedKeys(config: SigningKeyConfig): Promise<TrustedKey[]> {
  const current = await loadSigningKey(config);
  const out: TrustedKey[] = [{ keyId: current.keyId, publicKey: current.publicKey }];
  const dir = path.join(config.DATA_DIR, PUBLIC_DIR);
  for (const name of (await fs.promises.readdir(dir).catch(() => [] as string[])).sort()) {
    if (!name.endsWith('.pem')) continue;
    try {
      const publicKey = crypto.createPublicKey(await fs.promises.readFile(path.join(dir, name), 'utf8'));
      const keyId = keyIdOf(publicKey);
      if (publicKey.asymmetricKeyType === 'ed25519' && !out.some((k) => k.keyId === keyId)) out.push({ keyId, publicKey });
    } catch {
      // a damaged public key file only means archives signed with it no longer verify
    }
  }
  return out;
}

/** Ed25519 signature over exactly these bytes, base64. */
export function signBytes(key: SigningKey, data: Buffer): string {
  return crypto.sign(null, data, key.privateKey).toString('base64');
}

export function verifyBytes(publicKey: KeyObject, data: Buffer, signatureBase64: string): boolean {
  const sig = Buffer.from(signatureBase64, 'base64');
  if (sig.length !== 64) return false;
  try {
    return crypto.verify(null, data, publicKey, sig);
  } catch {
    return false;
  }
}

/** What /.well-known/toybox-export-key publishes for one key. */
export function publicKeyEntry(key: TrustedKey): { key_id: string; algorithm: string; public_key_pem: string; jwk: Record<string, string> } {
  const jwk = key.publicKey.export({ format: 'jwk' }) as Record<string, string>;
  return {
    key_id: key.keyId,
    algorithm: SIGNING_ALGORITHM,
    public_key_pem: key.publicKey.export({ format: 'pem', type: 'spki' }) as string,
    jwk: { ...jwk, kid: key.keyId, alg: 'EdDSA', use: 'sig' },
  };
}
