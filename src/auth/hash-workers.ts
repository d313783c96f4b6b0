import { Worker } from 'node:worker_threads';
import { logger } from '../logger';

/**
 * PBKDF2 on worker threads that run at the lowest CPU priority (nice 19).
 * A sign-in rush then takes only CPU time nothing else wants: the banner,
 * the status page and every other request on the main thread keep their
 * core, and hashing slows down instead of them. Node's async crypto.pbkdf2
 * runs on libuv's shared thread pool at normal priority, which is exactly
 * what starved the banner. Linux lets a thread lower its own priority by its
 * thread id (found in /proc/thread-self); elsewhere the workers simply run
 * at normal priority.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
let niced = false;
try {
  const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  os.setPriority(tid, 19);
  niced = os.getPriority(tid) === 19;
} catch {}
parentPort.postMessage({ niced });
parentPort.on('message', (m) => {
  try {
    const hash = crypto.pbkdf2Sync(m.password, m.salt, m.iterations, m.keylen, m.digest);
    parentPort.postMessage({ id: m.id, hash });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String(err && err.message || err) });
  }
});
`;

export type Pbkdf2 = (password: string, salt: string, iterations: number, keylen: number, digest: string) => Promise<Buffer>;

interface Slot {
  worker: Worker;
  busy: boolean;
}

/** A pool of `size` low-priority PBKDF2 workers, started on first use and never keeping the process alive. */
export function createPbkdf2Pool(size: number): Pbkdf2 & { niced(): boolean | null } {
  const slots: Slot[] = [];
  const waiting: Array<(slot: Slot) => void> = [];
  const pending = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void; slot: Slot }>();
  let nextId = 1;
  let niced: boolean | null = null;

  const release = (slot: Slot) => {
    const next = waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  };

  const spawn = (): Slot => {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    const slot: Slot = { worker, busy: true };
    worker.on('message', (m: { niced?: boolean; id?: number; hash?: Uint8Array; error?: string }) => {
      if (m.id === undefined) {
        niced = m.niced ?? false;
        if (!niced) logger.warn('password hashing runs at normal CPU priority (could not lower it)');
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      release(slot);
      if (m.error) p.reject(new Error(m.error));
      else p.resolve(Buffer.from(m.hash!));
    });
    worker.on('error', (err) => {
      // A crashed worker fails what it was doing and is replaced on the next use.
      slots.splice(slots.indexOf(slot), 1);
      for (const [id, p] of pending) if (p.slot === slot) (pending.delete(id), p.reject(err));
    });
    // After the listeners: adding a 'message' listener would take the reference back.
    worker.unref();
    slots.push(slot);
    return slot;
  };

  const acquire = (): Promise<Slot> => {
    const idle = slots.find((s) => !s.busy);
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    if (slots.length < size) return Promise.resolve(spawn());
    return new Promise((resolve) => waiting.push(resolve));
  };

  const pbkdf2 = async (password: string, salt: string, iterations: number, keylen: number, digest: string) => {
    const slot = await acquire();
    return new Promise<Buffer>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ id, password, salt, iterations, keylen, digest });
    });
  };
  return Object.assign(pbkdf2, { niced: () => niced });
}
