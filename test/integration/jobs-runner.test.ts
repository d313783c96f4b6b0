import { parseConfig } from '../../src/config';
import { buildContext } from '../../src/open-context';
import { startBackground, startTimer, enqueueJob, runLocalTask, type BackgroundWork } from '../../src/jobs/runner';
import type { TimerJob } from '../../src/jobs/registry';
import { eventually } from '../support/eventually';
import { logger } from '../../src/logger';
import { useTestPortal } from '../support/portal-stack';

const config = parseConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
const every = (ms: number, atStart: TimerJob['atStart'] = 'run'): TimerJob => ({ name: 'test.timer', every: ms, runsOn: 'every-instance', atStart });

/** A handler that records how many ticks run at once; each tick lasts `ms`. */
function slowHandler(ms: number) {
  const s = { started: 0, finished: 0, running: 0, maxRunning: 0 };
  const run = async () => {
    s.started += 1;
    s.running += 1;
    s.maxRunning = Math.max(s.maxRunning, s.running);
    await new Promise((r) => setTimeout(r, ms));
    s.running -= 1;
    s.finished += 1;
  };
  return { s, run };
}

describe('the timer runner (src/jobs/runner.ts)', () => {
  it('skips a tick while the previous one still runs, and stop() waits for the tick in flight', async () => {
    const { s, run } = slowHandler(120);
    const { timer } = startTimer(config, every(20), run);
    await eventually(() => s.finished >= 3, 5000, 10);
    expect(s.maxRunning).toBe(1);
    expect(timer.skipped).toBeGreaterThan(0);
    await eventually(() => s.running === 1, 5000, 5);
    await timer.stop();
    expect(s.running).toBe(0); // the tick in flight finished before stop() resolved
    const after = s.started;
    for (let i = 0; i < 5; i += 1) timer.trigger(); // a stopped timer starts nothing
    expect(s.started).toBe(after);
  });

  it('runs a triggered tick once more after the running one, however often it was asked', async () => {
    const { s, run } = slowHandler(80);
    const { timer, first } = startTimer(config, every(60_000), run);
    expect(s.running).toBe(1); // atStart: run
    timer.trigger();
    timer.trigger();
    timer.trigger();
    await first;
    await eventually(() => s.finished === 2, 5000, 5);
    await timer.stop();
    expect(s.started).toBe(2);
  });

  it('logs a failing tick and keeps the schedule', async () => {
    let calls = 0;
    const logged = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    try {
      const { timer } = startTimer(config, every(15), async () => {
        calls += 1;
        throw new Error('disk on fire');
      });
      await eventually(() => calls >= 3, 5000, 5);
      await timer.stop();
      expect(logged).toHaveBeenCalledWith(expect.objectContaining({ timer: 'test.timer', err: expect.objectContaining({ message: 'disk on fire' }) }), 'timer failed');
    } finally {
      logged.mockRestore();
    }
  });

  it('waits for the first tick of an `atStart: wait` timer and never for `none`', async () => {
    const waited = slowHandler(50);
    const a = startTimer(config, every(60_000, 'wait'), waited.run);
    await a.first;
    expect(waited.s.finished).toBe(1);
    const none = slowHandler(1);
    const b = startTimer(config, every(60_000, 'none'), none.run);
    await b.first;
    expect(none.s.started).toBe(0);
    await a.timer.stop();
    await b.timer.stop();
  });

  it('fires a cron timer in its slots, each tick carrying the slot it stands for', async () => {
    const slots: Date[] = [];
    const { timer } = startTimer(config, { name: 'test.cron', cron: () => '* * * * * *', runsOn: 'worker', atStart: 'none' }, async (tick) => {
      slots.push(tick.scheduledFor!);
    });
    await eventually(() => slots.length >= 2, 5000, 20);
    await timer.stop();
    expect(slots.every((d) => d.getMilliseconds() === 0)).toBe(true);
    expect(slots[1]!.getTime() - slots[0]!.getTime()).toBe(1000);
  });
});

describe('startBackground against the real queue', () => {
  const portal = useTestPortal();

  it('retries a failed job with the registry policy, then stops its timers and waits for local tasks', async () => {
    const seen: number[] = [];
    const ticks = slowHandler(30);
    let taskDone = false;
    const part: { name: string; background: BackgroundWork } = {
      name: 'test',
      background: {
        queues: {
          // campaigns.send: retryLimit 2, retryDelay 0 in the registry
          async campaignSend(_ctx, { campaignId }) {
            seen.push(campaignId);
            if (seen.length === 1) throw new Error('first attempt fails');
          },
        },
        timers: { exportSweepExpired: () => ticks.run() },
      },
    };
    const stop = await startBackground(portal.ctx, [part]);
    await enqueueJob(portal.ctx, 'campaignSend', { campaignId: 42 });
    await eventually(() => seen.length === 2, 20_000);
    expect(seen).toEqual([42, 42]);
    expect(ticks.s.started).toBe(1); // atStart: run
    runLocalTask(portal.ctx, 'campaignImport', async () => {
      await new Promise((r) => setTimeout(r, 100));
      taskDone = true;
    });
    await stop();
    expect(ticks.s.running).toBe(0);
    expect(taskDone).toBe(true);
  });

  it('starts no worker-only timer and no queue worker where WORKER=false', async () => {
    const web = await buildContext({ ...portal.config, WORKER: false });
    try {
      const worker = slowHandler(1);
      const everywhere = slowHandler(1);
      const handled: number[] = [];
      const stop = await startBackground(web, [
        { name: 'test', background: { timers: { exportSweepExpired: worker.run, noticePoll: everywhere.run }, queues: { campaignTestSend: async () => void handled.push(1) } } },
      ]);
      // both timers tick at start (atStart: run), so a started one would show at once
      expect(everywhere.s.started).toBe(1);
      expect(worker.s.started).toBe(0);
      const boss = await import('../../src/jobs/queue').then((q) => q.getQueue(web));
      expect(await boss.getQueue('campaigns.test-send')).toBeNull(); // no worker registered it here
      await stop();
    } finally {
      await web.close();
    }
  });
});
