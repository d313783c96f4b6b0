import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import yazl from 'yazl';
import { tempDir, signedInAgent } from '../support/portal';
import { seedUserWithFriend, binaryParser, type SeededUser } from '../support/export-seed';
import { runCli } from '../../src/cli/main';
import { EXIT } from '../../src/cli/exit-codes';
import { keyIdOf, loadSigningKey, signBytes } from '../../src/auth/archive-signing';
import { verifyArchive, verifyWithSiteKeys, archiveProof, type VerifyResult } from '../../src/archive/verify';
import { toyboxHostOf } from '../../src/archive/format';
import { useTestPortal, useTempDir } from '../support/portal-stack';
import { unpackArchive, rezipArchive } from '../support/archive-files';

describe('signed export archives', () => {
  const mediaDir = useTempDir('export-sig-media-');
  const work = useTempDir('export-sig-work-');
  const portal = useTestPortal({ TOYBOX_MEDIA_DIR: mediaDir, EXPORT_COOLDOWN_HOURS: '0' });
  let alice: SeededUser;
  let bob: SeededUser;
  /** A real archive of alice's, as downloaded. */
  let original: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    ({ user: alice, friend: bob } = await seedUserWithFriend(portal.ctx.knex, mediaDir, 'alice', 'bob'));
    const agent = await signedInAgent(portal, alice.display_id, alice.password);
    const res = await agent.get('/api/me/export?format=zip').buffer(true).parse(binaryParser);
    expect(res.status).toBe(200);
    original = path.join(work, 'alice.zip');
    fs.writeFileSync(original, res.body as Buffer);
  });
  afterAll(() => {
    process.env = saved;
  });

  const verify = (file: string) => verifyWithSiteKeys(portal.ctx.config, file);
  const codes = (r: VerifyResult) => r.problems.map((p) => p.code);

  const unpack = (file: string, name: string) => unpackArchive(file, work, name);
  const rezip = (dir: string, name: string) => rezipArchive(dir, work, name);

  async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    Object.assign(process.env, {
      DATABASE_URL: portal.db.url,
      DATA_DIR: portal.dataDir,
      PUBLIC_URL: portal.config.PUBLIC_URL,
      TOYBOX_URL: portal.config.TOYBOX_URL,
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
    });
    let out = '';
    let err = '';
    const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
    try {
      return { code: await runCli(['node', 'recovery-portal', ...args]), out, err };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  it('a real export verifies: signed by this site, about this person, every file as listed', async () => {
    const r = await verify(original);
    expect(r.problems).toEqual([]);
    expect(r.valid).toBe(true);
    expect(r.signatureValid).toBe(true);
    expect(r.site).toBe(portal.config.PUBLIC_URL);
    expect(r.keyId).toBe((await loadSigningKey(portal.config)).keyId);
    const host = toyboxHostOf(portal.config.TOYBOX_URL);
    const email = (await portal.ctx.knex('public.users').where({ id: alice.id }).first('email')).email as string;
    expect(r.subject).toEqual({
      user_id: alice.id,
      display_id: alice.display_id,
      global_id: `toybox:${host}:new:users:${alice.id}`,
      email_sha256: crypto.createHash('sha256').update(email.trim().toLowerCase()).digest('hex'),
    });
    // proof level 1 for the same person only
    expect(archiveProof(r, { id: alice.id })).toEqual({ level: 1 });
    expect(archiveProof(r, { id: bob.id })).toMatchObject({ level: null, reason: expect.stringContaining(String(alice.id)) });

    const ok = await cli(['export-verify', original]);
    expect(ok.code).toBe(EXIT.ok);
    expect(ok.out).toContain('VALID');
    const json = await cli(['export-verify', original, '--json']);
    expect(json.code).toBe(EXIT.ok);
    expect(JSON.parse(json.out)).toMatchObject({ valid: true, subject: { user_id: alice.id } });
  });

  it('an edited row (a caption changed inside data.json, re-zipped) is detected', async () => {
    const dir = unpack(original, 'edited');
    const dataFile = path.join(dir, 'data.json');
    const text = fs.readFileSync(dataFile, 'utf8');
    expect(text).toContain('alice caption two');
    fs.writeFileSync(dataFile, text.replace('alice caption two', 'alice caption 2!'));
    const edited = rezip(dir, 'edited');
    const r = await verify(edited);
    expect(r.valid).toBe(false);
    expect(r.signatureValid).toBe(true); // the manifest itself is untouched...
    expect(r.problems).toContainEqual({ code: 'file_changed', message: 'data.json differs from the manifest (changed after export)' });
    expect(archiveProof(r, { id: alice.id }).level).toBeNull();
    const res = await cli(['export-verify', edited]);
    expect(res.code).toBe(EXIT.failed);
    expect(res.out).toContain('[file_changed] data.json');
    expect(res.err).toContain('NOT a valid archive');

    // ...and fixing the manifest's hash to match breaks the signature instead
    const manifestFile = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { files: Array<{ path: string; size: number; sha256: string }> };
    const data = fs.readFileSync(dataFile);
    const entry = manifest.files.find((f) => f.path === 'data.json')!;
    Object.assign(entry, { size: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') });
    fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    const r2 = await verify(rezip(dir, 'edited-manifest'));
    expect(r2.valid).toBe(false);
    expect(codes(r2)).toEqual(['bad_signature']);
  });

  it('an archive re-signed with a foreign key, one with a forged signature and an unsigned one are not valid', async () => {
    const dir = unpack(original, 'foreign');
    const manifestBytes = fs.readFileSync(path.join(dir, 'manifest.json'));
    const sigFile = path.join(dir, 'manifest.sig');
    const sigDoc = JSON.parse(fs.readFileSync(sigFile, 'utf8')) as { key_id: string; signature: string };

    // a key of someone else's (another portal, or a forger's own)
    const foreignDir = tempDir('foreign-key-');
    const foreign = await loadSigningKey({ DATA_DIR: foreignDir });
    fs.writeFileSync(sigFile, JSON.stringify({ ...sigDoc, key_id: foreign.keyId, signature: signBytes(foreign, manifestBytes) }));
    const r1 = await verify(rezip(dir, 'foreign'));
    expect(r1.valid).toBe(false);
    expect(codes(r1)).toContain('foreign_key');
    expect(r1.problems[0]!.message).toContain(foreign.keyId);
    expect(archiveProof(r1, { id: alice.id }).level).toBeNull();

    // this site's key id, someone else's signature bytes
    fs.writeFileSync(sigFile, JSON.stringify({ ...sigDoc, signature: signBytes(foreign, manifestBytes) }));
    const r2 = await verify(rezip(dir, 'forged'));
    expect(codes(r2)).toEqual(['bad_signature']);
    const res = await cli(['export-verify', rezip(dir, 'forged')]);
    expect(res.code).toBe(EXIT.failed);

    fs.rmSync(sigFile);
    const r3 = await verify(rezip(dir, 'unsigned'));
    expect(codes(r3)).toEqual(['unsigned']);
    fs.rmSync(foreignDir, { recursive: true, force: true });
  });

  it("checks the rows themselves: even re-signed with this site's key, a row whose global id names the wrong table is caught", async () => {
    const dir = unpack(original, 'resigned');
    const dataFile = path.join(dir, 'data.json');
    const host = toyboxHostOf(portal.config.TOYBOX_URL);
    const postId = alice.postIds[1]!;
    const text = fs.readFileSync(dataFile, 'utf8');
    const gid = `toybox:${host}:new:submissions:${postId}`;
    expect(text).toContain(`"global_id":"${gid}"`);
    fs.writeFileSync(dataFile, text.replace(`"global_id":"${gid}"`, `"global_id":"toybox:${host}:new:users:${postId}"`));
    // re-list data.json's hash and sign the manifest again with the site's own key (a bug or an insider, not a stranger)
    const manifestFile = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { files: Array<{ path: string; size: number; sha256: string }> };
    const data = fs.readFileSync(dataFile);
    Object.assign(manifest.files.find((f) => f.path === 'data.json')!, { size: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') });
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    fs.writeFileSync(manifestFile, manifestBytes);
    const key = await loadSigningKey(portal.config);
    fs.writeFileSync(path.join(dir, 'manifest.sig'), JSON.stringify({ algorithm: 'Ed25519', key_id: key.keyId, signed_file: 'manifest.json', signature: signBytes(key, manifestBytes) }));
    const r = await verify(rezip(dir, 'resigned'));
    expect(r.signatureValid).toBe(true);
    expect(r.valid).toBe(false);
    expect(r.problems).toEqual([
      { code: 'bad_data', message: `data.json: global id toybox:${host}:new:users:${postId} names table users, but posts rows come from submissions` },
    ]);
  });

  it('an extra file slipped into a valid archive is reported', async () => {
    const dir = unpack(original, 'extra');
    fs.writeFileSync(path.join(dir, 'media', 'extra.png'), 'not mine');
    const r = await verify(rezip(dir, 'extra'));
    expect(r.problems).toEqual([{ code: 'unlisted_file', message: 'media/extra.png is not listed in the manifest (added after export)' }]);
  });

  /** A small ZIP whose entry name is then rewritten byte for byte (yazl itself refuses unsafe names). */
  async function hostileZip(name: string, placeholder: string, raw: Buffer): Promise<string> {
    expect(raw.length).toBe(Buffer.byteLength(placeholder));
    const bytes = await new Promise<Buffer>((resolve) => {
      const z = new yazl.ZipFile();
      z.addBuffer(Buffer.from('payload'), placeholder);
      z.end();
      const parts: Buffer[] = [];
      z.outputStream.on('data', (c: Buffer) => parts.push(c)).on('end', () => resolve(Buffer.concat(parts)));
    });
    const from = Buffer.from(placeholder);
    let at = bytes.indexOf(from);
    let n = 0;
    while (at !== -1) {
      raw.copy(bytes, at);
      n += 1;
      at = bytes.indexOf(from, at + 1);
    }
    expect(n).toBe(2); // local header and central directory
    const file = path.join(work, name);
    fs.writeFileSync(file, bytes);
    return file;
  }

  it('refuses path traversal and non-UTF-8 entry names with a clear message, and writes nothing', async () => {
    const sandbox = path.join(work, 'sandbox', 'a');
    fs.mkdirSync(sandbox, { recursive: true });
    const traversal = await hostileZip(path.join('sandbox', 'a', 'trav.zip'), 'xx/xx/evil.txt', Buffer.from('../../evil.txt'));
    const r1 = await verify(traversal);
    expect(r1.valid).toBe(false);
    expect(r1.problems).toHaveLength(1);
    expect(r1.problems[0]!.code).toBe('refused');
    expect(r1.problems[0]!.message).toMatch(/^refused: unsafe entry name "\.\.\/\.\.\/evil\.txt": invalid relative path/);
    expect(fs.existsSync(path.join(work, 'evil.txt'))).toBe(false);
    expect(fs.existsSync(path.resolve(sandbox, '..', '..', 'evil.txt'))).toBe(false);

    const absolute = await hostileZip('abs.zip', 'xetc/passwd', Buffer.from('/etc/passwd'));
    expect((await verify(absolute)).problems[0]!.message).toMatch(/unsafe entry name "\/etc\/passwd": absolute path/);

    const latin1 = await hostileZip('latin1.zip', 'caf.txt', Buffer.from([0x63, 0x61, 0xe9, 0x2e, 0x74, 0x78, 0x74]));
    const r3 = await verify(latin1);
    expect(r3.problems[0]!.message).toMatch(/^refused: an entry name is not valid UTF-8/);

    const res = await cli(['export-verify', traversal]);
    expect(res.code).toBe(EXIT.failed);
    expect(res.out).toContain('unsafe entry name');
  });

  it('refuses a ZIP bomb (compression ratio, total size, entry count) before unpacking it', async () => {
    const bomb = path.join(work, 'bomb.zip');
    await new Promise<void>((resolve) => {
      const z = new yazl.ZipFile();
      z.addBuffer(Buffer.alloc(64 * 1024 * 1024), 'data.json', { compressionLevel: 9 });
      z.end();
      z.outputStream.pipe(fs.createWriteStream(bomb)).on('close', () => resolve());
    });
    expect(fs.statSync(bomb).size).toBeLessThan(200 * 1024);
    const started = Date.now();
    const r = await verify(bomb);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(r.valid).toBe(false);
    expect(r.problems[0]!.message).toMatch(/^refused: the entry "data\.json" expands \d+:1 \(67108864 bytes; ZIP bomb\?\)/);

    // the other caps, at sizes a test can build quickly
    const keys = [await loadSigningKey(portal.config)];
    const opts = { keys, site: portal.config.PUBLIC_URL, toyboxHost: toyboxHostOf(portal.config.TOYBOX_URL) };
    const total = await verifyArchive(original, { ...opts, limits: { maxTotalBytes: 1000 } });
    expect(total.problems[0]!.message).toMatch(/^refused: the archive unpacks to more than 1000 bytes/);
    const many = await verifyArchive(original, { ...opts, limits: { maxEntries: 3 } });
    expect(many.problems[0]!.message).toMatch(/^refused: the archive has \d+ entries; at most 3 are accepted/);
  });

  it('a file that is not a ZIP is invalid; a missing file is bad input', async () => {
    const notZip = path.join(work, 'not.zip');
    fs.writeFileSync(notZip, 'hello');
    const r = await verify(notZip);
    expect(r.problems[0]!.code).toBe('unreadable');
    expect((await cli(['export-verify', notZip])).code).toBe(EXIT.failed);
    const missing = await cli(['export-verify', path.join(work, 'nope.zip')]);
    expect(missing.code).toBe(EXIT.invalid);
    expect(missing.err).toContain('is not a readable file');
  });

  it('publishes the public key at a well-known URL, without a session, cacheable; it verifies the archive', async () => {
    const res = await portal.agent().get('/.well-known/toybox-export-key');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.headers['set-cookie']).toBeUndefined();
    const key = await loadSigningKey(portal.config);
    expect(res.body).toMatchObject({ site: portal.config.PUBLIC_URL, algorithm: 'Ed25519', key_id: key.keyId, signed_file: 'manifest.json' });
    expect(res.body.jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: key.keyId });
    expect(JSON.stringify(res.body)).not.toMatch(/PRIVATE/);
    // anyone can check an archive with only what the URL publishes
    const published = crypto.createPublicKey(res.body.public_key_pem as string);
    expect(keyIdOf(published)).toBe(key.keyId);
    const dir = unpack(original, 'check-with-published');
    const sig = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.sig'), 'utf8')) as { signature: string };
    expect(crypto.verify(null, fs.readFileSync(path.join(dir, 'manifest.json')), published, Buffer.from(sig.signature, 'base64'))).toBe(true);
  });

  it('keeps the generated private key in DATA_DIR with mode 0600', () => {
    const file = path.join(portal.dataDir, 'export-signing-key.pem');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });
});
