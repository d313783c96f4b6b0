import fs from 'node:fs';
import path from 'node:path';
import { features } from '../../src/features';
import { LOCAL_TASKS, QUEUES, TIMERS } from '../../src/jobs/registry';

const SRC = path.resolve(__dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const files = sourceFiles(SRC).map((file) => ({ rel: path.relative(SRC, file), text: fs.readFileSync(file, 'utf8') }));
const outsideJobs = files.filter((f) => !f.rel.startsWith(`jobs${path.sep}`));

/** Every first argument after `ctx, ` of calls to `fn` written with a string key, across src. */
function keysPassedTo(fn: string): Array<{ key: string; rel: string }> {
  const re = new RegExp(`\\b${fn}(?:<[^>]*>)?\\(\\s*[\\w.]+,\\s*'([^']+)'`, 'g');
  return files.flatMap((f) => [...f.text.matchAll(re)].map((m) => ({ key: m[1]!, rel: f.rel })));
}

/** Which feature supplies a handler for each queue / timer key. */
function handlers(kind: 'queues' | 'timers'): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const f of features) for (const key of Object.keys(f.background?.[kind] ?? {})) by.set(key, [...(by.get(key) ?? []), f.name]);
  return by;
}

describe('the job registry (src/jobs/registry.ts)', () => {
  it('keeps the queue names jobs already waiting in the database use, each name once', () => {
    const names = Object.values(QUEUES).map((q) => q.name);
    expect(new Set(names).size).toBe(names.length);
    // In production databases since the first release: renaming one would strand its waiting jobs.
    expect(names).toEqual(expect.arrayContaining(['export.build', 'export.login-link', 'campaigns.send', 'backups.run', 'notice.subscribers.confirm', 'notice.subscribers.fanout']));
    const timerNames = [...Object.values(TIMERS), ...Object.values(LOCAL_TASKS)].map((t) => t.name);
    expect(new Set(timerNames).size).toBe(timerNames.length);
  });

  it('has exactly one feature handling each queue, and no handler for a queue it does not declare', () => {
    const by = handlers('queues');
    for (const key of Object.keys(QUEUES)) expect([key, by.get(key)]).toEqual([key, [expect.any(String)]]);
    expect([...by.keys()].sort()).toEqual(Object.keys(QUEUES).sort());
  });

  it('has every timer handled once: by a feature, or started by name where its work lives (the notice runtime)', () => {
    const by = handlers('timers');
    const startedDirectly = new Set(files.flatMap((f) => [...f.text.matchAll(/\bstartTimer\([^)]*TIMERS\.(\w+)/g)].map((m) => m[1]!)));
    for (const key of Object.keys(TIMERS)) {
      const owners = (by.get(key)?.length ?? 0) + (startedDirectly.has(key) ? 1 : 0);
      expect([key, owners]).toEqual([key, 1]);
    }
    expect([...by.keys(), ...startedDirectly].every((k) => k in TIMERS)).toBe(true);
  });

  it('lists every queue, timer and task that src names (a scan of enqueueJob / triggerTimer / runLocalTask calls)', () => {
    const enqueued = keysPassedTo('enqueueJob');
    expect(enqueued.length).toBeGreaterThanOrEqual(6);
    for (const { key, rel } of enqueued) expect([rel, key in QUEUES]).toEqual([rel, true]);
    // every declared queue is actually sent to somewhere: a queue nobody enqueues is dead weight
    expect(new Set(enqueued.map((e) => e.key))).toEqual(new Set(Object.keys(QUEUES)));
    for (const { key, rel } of keysPassedTo('triggerTimer')) expect([rel, key in TIMERS]).toEqual([rel, true]);
    const tasks = keysPassedTo('runLocalTask');
    for (const { key, rel } of tasks) expect([rel, key in LOCAL_TASKS]).toEqual([rel, true]);
    expect(new Set(tasks.map((t) => t.key))).toEqual(new Set(Object.keys(LOCAL_TASKS)));
  });

  it('is the only way to the queue: nothing outside src/jobs uses pg-boss or the raw enqueue/work', () => {
    const offenders = outsideJobs.filter((f) => /from '(pg-boss|[./]+jobs\/queue)'/.test(f.text)).map((f) => f.rel);
    // open-context.ts only stops the queue when a context closes
    expect(offenders).toEqual(['open-context.ts']);
    expect(files.find((f) => f.rel === 'open-context.ts')!.text).toMatch(/import \{ stopQueue \} from '\.\/jobs\/queue'/);
  });

  it('leaves no hand-rolled schedule in the features (setInterval), except the heartbeats inside one send run', () => {
    // sender.ts renews its leases and reports progress while one campaign run lasts: part of that run, not a schedule.
    const allowed = new Set([path.join('features', 'campaigns', 'sending', 'sender.ts')]);
    const offenders = outsideJobs.filter((f) => f.rel.startsWith(`features${path.sep}`) && /\bsetInterval\(/.test(f.text) && !allowed.has(f.rel));
    expect(offenders.map((f) => f.rel)).toEqual([]);
    // a service started with the request's context and not awaited (`void backupNow(ctx, ...)`) belongs in the registry
    const fireAndForget = outsideJobs.filter((f) => /routes\.ts$/.test(f.rel) && /\bvoid \w+\(ctx[,)]/.test(f.text));
    expect(fireAndForget.map((f) => f.rel)).toEqual([]);
  });
});
