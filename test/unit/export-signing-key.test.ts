import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { loadSigningKey, trustedKeys, signBytes, verifyBytes, keyIdOf, SigningKeyError } from '../../src/auth/archive-signing';

describe('export signing key', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signing-key-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is generated once into DATA_DIR (0600), and two loaders at once agree on one key', async () => {
    const dataDir = path.join(dir, 'data');
    const [a, b] = await Promise.all([loadSigningKey({ DATA_DIR: dataDir }), loadSigningKey({ DATA_DIR: `${dataDir}/` })]);
    expect(a.keyId).toBe(b.keyId);
    const file = path.join(dataDir, 'export-signing-key.pem');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // only the key and the remembered public key are left behind, no staged copies
    expect(fs.readdirSync(dataDir).sort()).toEqual(['export-signing-key.pem', 'export-signing-public-keys']);
    const data = Buffer.from('manifest bytes');
    expect(verifyBytes(a.publicKey, data, signBytes(a, data))).toBe(true);
    expect(verifyBytes(a.publicKey, Buffer.from('other bytes'), signBytes(a, data))).toBe(false);
  });

  it('reads EXPORT_SIGNING_KEY_FILE made by openssl, and still trusts the earlier key after a change', async () => {
    const dataDir = path.join(dir, 'data');
    const first = await loadSigningKey({ DATA_DIR: dataDir });
    const keyFile = path.join(dir, 'elsewhere', 'signing.pem');
    fs.mkdirSync(path.dirname(keyFile), { mode: 0o700 });
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', keyFile]);
    const second = await loadSigningKey({ DATA_DIR: dataDir, EXPORT_SIGNING_KEY_FILE: keyFile });
    const expected = keyIdOf(crypto.createPublicKey(fs.readFileSync(keyFile, 'utf8')));
    expect(second.keyId).toBe(expected);
    expect(second.keyId).not.toBe(first.keyId);
    const trusted = await trustedKeys({ DATA_DIR: dataDir, EXPORT_SIGNING_KEY_FILE: keyFile });
    expect(trusted[0]!.keyId).toBe(second.keyId); // the current key first
    expect(trusted.map((k) => k.keyId).sort()).toEqual([first.keyId, second.keyId].sort());
  });

  it('refuses a missing configured file (saying how to make one) and a key that is not Ed25519', async () => {
    const missing = path.join(dir, 'nope.pem');
    await expect(loadSigningKey({ DATA_DIR: dir, EXPORT_SIGNING_KEY_FILE: missing })).rejects.toThrow(SigningKeyError);
    await expect(loadSigningKey({ DATA_DIR: dir, EXPORT_SIGNING_KEY_FILE: missing })).rejects.toThrow(
      `EXPORT_SIGNING_KEY_FILE ${missing} does not exist; create it with: openssl genpkey -algorithm ed25519 -out ${missing}`,
    );
    const rsa = path.join(dir, 'rsa.pem');
    fs.writeFileSync(rsa, crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    await expect(loadSigningKey({ DATA_DIR: dir, EXPORT_SIGNING_KEY_FILE: rsa })).rejects.toThrow(`${rsa} holds a rsa key; export signing needs Ed25519`);
    const junk = path.join(dir, 'junk.pem');
    fs.writeFileSync(junk, 'not a key');
    await expect(loadSigningKey({ DATA_DIR: dir, EXPORT_SIGNING_KEY_FILE: junk })).rejects.toThrow(`${junk} is not a PEM private key`);
  });
});
