import crypto from 'node:crypto';
import { createHashGate, HashGateBusy } from '../../src/auth/hash-gate';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('hash gate', () => {
  it('runs at most `concurrency` at once, queues up to maxQueue, refuses the rest at once', async () => {
    const gate = createHashGate({ concurrency: 2, maxQueue: 1, maxWaitMs: 5000 });
    const work = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = work.map((d, i) => gate.run(async () => (started.push(i), d.promise)));
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(gate.stats()).toEqual({ active: 2, queued: 1 });
    await expect(gate.run(async () => 'never')).rejects.toBeInstanceOf(HashGateBusy);
    work[0]!.resolve();
    await runs[0];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    work[1]!.resolve();
    work[2]!.resolve();
    await Promise.all(runs);
    expect(gate.stats()).toEqual({ active: 0, queued: 0 });
  });

  it('refuses a waiter whose deadline passes, with Retry-After seconds, and never runs it', async () => {
    const gate = createHashGate({ concurrency: 1, maxQueue: 5, maxWaitMs: 50 });
    const hold = deferred();
    const first = gate.run(() => hold.promise);
    let ran = false;
    const t = Date.now();
    const err = await gate.run(async () => (ran = true)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HashGateBusy);
    expect((err as HashGateBusy).retryAfterSeconds).toBe(1);
    expect(Date.now() - t).toBeLessThan(1000);
    expect(gate.stats()).toEqual({ active: 1, queued: 0 });
    hold.resolve();
    await first;
    expect(ran).toBe(false);
    expect(gate.stats()).toEqual({ active: 0, queued: 0 });
  });

  it('frees the slot when the work fails', async () => {
    const gate = createHashGate({ concurrency: 1, maxQueue: 0, maxWaitMs: 50 });
    await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(async () => 'ok')).resolves.toBe('ok');
  });

  it('hashes on a worker thread at the lowest CPU priority, exactly as crypto.pbkdf2 does', async () => {
    const gate = createHashGate({ concurrency: 1, maxQueue: 0, maxWaitMs: 50 });
    const hash = await gate.run(() => gate.pbkdf2('パスワード', 'salt1234', 1000, 32, 'sha256'));
    expect(hash.equals(crypto.pbkdf2Sync('パスワード', 'salt1234', 1000, 32, 'sha256'))).toBe(true);
    if (process.platform === 'linux') expect((gate.pbkdf2 as unknown as { niced(): boolean | null }).niced()).toBe(true);
  });
});
